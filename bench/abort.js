// Abort latency: how long a breached steady state goes on hurting before chaoscast has undone the
// fault. Each run injects an HTTP 503 fault on a fault-proxy link (at a random moment, so it lands
// anywhere between two probe rounds) while clients send a steady 200 requests/s through the link;
// the figure is the time from the fault being in effect to the last revert finished. Two ways of
// watching, measured in the same session:
//   polled:  an http probe through the link every 250 ms, abort after 1 breach;
//   in-band: the traffic probe, the link's own view of those clients' answers, pushed as it changes
//            (error ratio over the last 40 exchanges must stay under 5%).
// Runs keep a write-ahead state file, as `chaoscast run` does, so its fsyncs are part of the figure.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, startChild } from "./children.js";

export const name = "abort";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const INTERVAL_MS = 250;
const CLIENT_RATE = 200;
const AIM = { polled: 400, "in-band": 50 };

const probes = (api, linkPort) => ({
  polled: `  - name: edge answers 200
    probe: http
    with: { url: "http://127.0.0.1:${linkPort}/health", timeout: 1s }
    expect: { status: 200 }`,
  "in-band": `  - name: edge error ratio
    probe: traffic
    with: { api: "${api}", proxy: edge, last: 40, minRequests: 10 }
    expect: { errorRatio: "< 0.05" }`,
});

export async function run({ quick, signal, log }) {
  const { parseExperiment } = await import(path.join(ROOT, "dist/experiment/loader.js"));
  const { runExperiment } = await import(path.join(ROOT, "dist/engine/runner.js"));
  const { registry } = await import(path.join(ROOT, "dist/registry.js"));
  const dir = mkdtempSync(path.join(os.tmpdir(), "chaoscast-bench-abort-"));
  const children = [];
  try {
    const upstream = await startChild(children, [path.join(ROOT, "fixtures/servers/http-server.js")], (line) => JSON.parse(line).port);
    const [apiPort, linkPort] = [await freePort(), await freePort()];
    const api = `127.0.0.1:${apiPort}`;
    writeFileSync(path.join(dir, "proxies.yaml"), `- { name: edge, listen: "127.0.0.1:${linkPort}", upstream: "127.0.0.1:${upstream}", http: true }\n`);
    await startChild(children, [path.join(ROOT, "bin/chaoscast.js"), "proxy", "--api", api, "--config", path.join(dir, "proxies.yaml")], (line) => (line.includes("edge:") ? true : undefined));
    await startChild(children, [path.join(ROOT, "bench/steady-load.js"), `http://127.0.0.1:${linkPort}/health`, String(CLIENT_RATE)], (line) => (line === "ready" ? true : undefined));

    const runs = quick ? 5 : 20;
    const results = {};
    for (const [mode, probe] of Object.entries(probes(api, linkPort))) {
      const samples = [];
      for (let i = 0; i < runs; i++) {
        if (signal.aborted) throw signal.reason;
        // Anywhere in a 4-interval span: the fault lands at every phase of the probe rounds.
        const atMs = 300 + Math.round(Math.random() * 4 * INTERVAL_MS);
        const experiment = parseExperiment(
          `version: 1
title: abort latency (${mode})
duration: 10s
targets:
  edge: { proxy: { name: edge, api: "${api}" } }
steadyState:
${probe}
abort: { interval: ${INTERVAL_MS}ms, after: 1 }
recovery: { timeout: 5s, interval: 100ms }
faults:
  - { name: edge 503, action: proxy.http-error, target: edge, at: ${atMs}ms, with: { status: 503 } }
`,
          "abort-bench.yaml",
          { registry, vars: { cli: {}, env: {} } },
        );
        const events = [];
        const result = await runExperiment(experiment, { registry, runId: `bench-abort-${mode}-${i}`, seed: "bench", sink: (e) => events.push({ ...e, clock: performance.now() }), interrupt: signal, stateDir: path.join(dir, "state") });
        const injected = events.find((e) => e.type === "fault-injected");
        const abort = events.find((e) => e.type === "abort");
        const reverted = events.filter((e) => e.type === "fault-reverted").at(-1);
        if (result.outcome !== "aborted" || !injected || !abort || !reverted) throw new Error(`${mode} run ${i + 1} did not abort and roll back as expected: ${result.outcome}: ${result.reason}`);
        const sample = { totalMs: reverted.clock - injected.clock, detectMs: abort.clock - injected.clock, revertMs: reverted.clock - abort.clock };
        samples.push(sample);
        log(`abort: ${mode} run ${i + 1}/${runs}: ${sample.totalMs.toFixed(1)} ms (breach seen after ${sample.detectMs.toFixed(1)} ms, rolled back ${sample.revertMs.toFixed(1)} ms later)`);
        // Let the steady state settle (the last 40 exchanges clean again) before the next run.
        await new Promise((resolve) => setTimeout(resolve, 400));
      }
      const total = stats(samples, "totalMs");
      results[mode] = { total, detect: stats(samples, "detectMs"), revert: stats(samples, "revertMs"), aimP95Ms: AIM[mode], meetsAim: total.p95 < AIM[mode] };
    }
    return { runs, intervalMs: INTERVAL_MS, clientRate: CLIENT_RATE, modes: results, p95Ratio: round1(results.polled.total.p95 / results["in-band"].total.p95) };
  } finally {
    for (const child of children) child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}

export function format(r) {
  const row = (label, s) => `${label.padEnd(40)} ${String(s.p50).padStart(7)} ${String(s.p95).padStart(7)} ${String(s.max).padStart(7)}`;
  const lines = [`${r.runs} runs each; clients send ${r.clientRate} requests/s through the link; polled probes every ${r.intervalMs} ms, abort after 1 breach`, `${"".padEnd(40)} ${"p50 ms".padStart(7)} ${"p95 ms".padStart(7)} ${"max ms".padStart(7)}`];
  for (const [mode, m] of Object.entries(r.modes)) {
    lines.push(row(`${mode}: fault in effect → rollback done`, m.total));
    lines.push(row("  of which: until breach decided", m.detect));
    lines.push(row("  of which: abort → last revert", m.revert));
  }
  for (const [mode, m] of Object.entries(r.modes)) lines.push(`aim ${mode} p95 < ${m.aimP95Ms} ms: ${m.meetsAim ? "met" : "NOT met"} (${m.total.p95} ms)`);
  lines.push(`in-band p95 is ${r.p95Ratio}× shorter than polled at ${r.intervalMs} ms`);
  return lines.join("\n");
}

function stats(samples, key) {
  const values = samples.map((s) => s[key]).sort((a, b) => a - b);
  const at = (p) => values[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)];
  return { p50: round1(at(50)), p95: round1(at(95)), max: round1(values.at(-1)) };
}

function round1(value) {
  return Math.round(value * 10) / 10;
}
