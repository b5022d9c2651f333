// Abort latency: how long a breached steady state goes on hurting before chaoscast has undone the
// fault. Each run injects an HTTP 503 fault on a fault-proxy link (at a random moment, so it lands
// anywhere between two probe rounds) while an http probe watches through that link every 250 ms;
// the figure is the time from the fault being in effect to the last revert finished. Runs keep a
// write-ahead state file, as `chaoscast run` does, so its fsyncs are part of the figure.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, startChild } from "./children.js";

export const name = "abort";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const INTERVAL_MS = 250;
const AIM_P95_MS = 400;

export async function run({ quick, signal, log }) {
  const { parseExperiment } = await import(path.join(ROOT, "dist/experiment/loader.js"));
  const { runExperiment } = await import(path.join(ROOT, "dist/engine/runner.js"));
  const { registry } = await import(path.join(ROOT, "dist/registry.js"));
  const dir = mkdtempSync(path.join(os.tmpdir(), "chaoscast-bench-abort-"));
  const children = [];
  try {
    const upstream = await startChild(children, [path.join(ROOT, "fixtures/servers/http-server.js")], (line) => JSON.parse(line).port);
    const [apiPort, linkPort] = [await freePort(), await freePort()];
    writeFileSync(path.join(dir, "proxies.yaml"), `- { name: edge, listen: "127.0.0.1:${linkPort}", upstream: "127.0.0.1:${upstream}", http: true }\n`);
    await startChild(children, [path.join(ROOT, "bin/chaoscast.js"), "proxy", "--api", `127.0.0.1:${apiPort}`, "--config", path.join(dir, "proxies.yaml")], (line) => (line.includes("edge:") ? true : undefined));

    const runs = quick ? 5 : 20;
    const samples = [];
    for (let i = 0; i < runs; i++) {
      if (signal.aborted) throw signal.reason;
      // Anywhere in a 4-interval span: the fault lands at every phase of the probe rounds.
      const atMs = 300 + Math.round(Math.random() * 4 * INTERVAL_MS);
      const experiment = parseExperiment(
        `version: 1
title: abort latency
duration: 10s
targets:
  edge: { proxy: { name: edge, api: "127.0.0.1:${apiPort}" } }
steadyState:
  - name: edge answers 200
    probe: http
    with: { url: "http://127.0.0.1:${linkPort}/health", timeout: 1s }
    expect: { status: 200 }
abort: { interval: ${INTERVAL_MS}ms, after: 1 }
recovery: { timeout: 5s, interval: 100ms }
faults:
  - { name: edge 503, action: proxy.http-error, target: edge, at: ${atMs}ms, with: { status: 503 } }
`,
        "abort-bench.yaml",
        { registry, vars: { cli: {}, env: {} } },
      );
      const events = [];
      const result = await runExperiment(experiment, { registry, runId: `bench-abort-${i}`, seed: "bench", sink: (e) => events.push({ ...e, clock: performance.now() }), interrupt: signal, stateDir: path.join(dir, "state") });
      const injected = events.find((e) => e.type === "fault-injected");
      const abort = events.find((e) => e.type === "abort");
      const reverted = events.filter((e) => e.type === "fault-reverted").at(-1);
      if (result.outcome !== "aborted" || !injected || !abort || !reverted) throw new Error(`run ${i + 1} did not abort and roll back as expected: ${result.outcome}: ${result.reason}`);
      const sample = { totalMs: reverted.clock - injected.clock, detectMs: abort.clock - injected.clock, revertMs: reverted.clock - abort.clock };
      samples.push(sample);
      log(`abort: run ${i + 1}/${runs}: ${sample.totalMs.toFixed(1)} ms (breach seen after ${sample.detectMs.toFixed(1)} ms, rolled back ${sample.revertMs.toFixed(1)} ms later)`);
    }
    const stats = (key) => {
      const values = samples.map((s) => s[key]).sort((a, b) => a - b);
      const at = (p) => values[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)];
      return { p50: round1(at(50)), p95: round1(at(95)), max: round1(values.at(-1)) };
    };
    const total = stats("totalMs");
    return { runs, intervalMs: INTERVAL_MS, total, detect: stats("detectMs"), revert: stats("revertMs"), p95OverInterval: round1(total.p95 / INTERVAL_MS), aimP95Ms: AIM_P95_MS, meetsAim: total.p95 < AIM_P95_MS };
  } finally {
    for (const child of children) child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}

export function format(r) {
  const row = (label, s) => `${label.padEnd(34)} ${String(s.p50).padStart(7)} ${String(s.p95).padStart(7)} ${String(s.max).padStart(7)}`;
  return [
    `${r.runs} runs, probes every ${r.intervalMs} ms, abort after 1 breach`,
    `${"".padEnd(34)} ${"p50 ms".padStart(7)} ${"p95 ms".padStart(7)} ${"max ms".padStart(7)}`,
    row("fault in effect → rollback done", r.total),
    row("  of which: until breach decided", r.detect),
    row("  of which: abort → last revert", r.revert),
    `p95 = ${r.p95OverInterval}× the probe interval (the floor is up to 1× for the next round); aim p95 < ${r.aimP95Ms} ms: ${r.meetsAim ? "met" : "NOT met"}`,
  ].join("\n");
}

function round1(value) {
  return Math.round(value * 10) / 10;
}
