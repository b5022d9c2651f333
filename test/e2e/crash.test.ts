// SIGKILL the CLI at seeded random moments of a run against a local process and the fault proxy,
// then `chaoscast rollback` (the run's watchdog off): nothing may remain injected, every time. Then
// the same with the watchdog on and no one running rollback: nothing may remain once it has acted.
// Leases are set long (60 s), so what is cleaned up was not cleaned up by a lease running out.

import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProxyServer, type ProxyServer } from "../../src/proxy/server.js";
import { seededRandom } from "../../src/util/random.js";
import { CLI, pollUntil, processState, runCli, startServer, workdir, writeExperiment, type TestServer } from "../helpers/processes.js";
import { execa } from "execa";

const RUNS = 20;

let upstream: TestServer;
let proxy: ProxyServer;
let api: string;

beforeAll(async () => {
  upstream = await startServer();
  proxy = await startProxyServer({
    api: "127.0.0.1:0",
    proxies: [
      { name: "edge", upstream: `127.0.0.1:${upstream.port}` },
      { name: "origin", upstream: `127.0.0.1:${upstream.port}`, http: true },
    ],
  });
  api = proxy.url.replace("http://", "");
});
afterAll(async () => {
  await proxy?.close();
  await upstream?.stop();
});

const experiment = () => `version: 1
title: crash me
duration: 2500ms
targets:
  server: { process: { pid: ${upstream.pid} } }
  edge: { proxy: { name: edge, api: "${api}", lease: 60s } }
  origin: { proxy: { name: origin, api: "${api}", lease: 60s } }
faults:
  - { name: slow edge, action: proxy.latency, target: edge, with: { latency: 50ms } }
  - { name: freeze server, action: process.suspend, target: server, at: 200ms, duration: 800ms }
  - { name: origin errors, action: proxy.http-error, target: origin, at: 400ms, with: { status: 503, percent: 50 } }
  - { name: edge down, action: proxy.down, target: edge, at: 700ms, duration: 1s }
  - { name: refreeze server, action: process.suspend, target: server, at: 1200ms }
`;

interface Leftover {
  suspended: boolean;
  toxics: number;
  down: boolean;
}

function leftover(): Leftover {
  const edge = proxy.collection.get("edge");
  const origin = proxy.collection.get("origin");
  return {
    suspended: processState(upstream.pid) === "T",
    toxics: edge.listToxics().length + origin.listToxics().length + origin.httpToxics().length,
    down: !edge.enabled || !origin.enabled,
  };
}

const clean: Leftover = { suspended: false, toxics: 0, down: false };

describe("a run killed with SIGKILL at a random moment", () => {
  let injectedAtKill = 0;

  it.each(Array.from({ length: RUNS }, (_, i) => i + 1))("leaves nothing injected after chaoscast rollback (seed %i)", async (seed) => {
    const dir = workdir();
    writeExperiment(dir, "crash.yaml", experiment());
    const killAfterMs = Math.round(150 + seededRandom(`crash-${seed}`)() * 2600);
    const child = execa(process.execPath, [CLI, "run", "crash.yaml", "--yes", "--watchdog", "off"], { cwd: dir, env: { CI: "1", NO_COLOR: "1", CHAOSCAST_DIR: path.join(dir, ".chaoscast") }, reject: false, stdin: "ignore" });
    await new Promise((resolve) => setTimeout(resolve, killAfterMs));
    child.kill("SIGKILL");
    await child;
    const atKill = leftover();
    if (atKill.suspended || atKill.toxics > 0 || atKill.down) injectedAtKill += 1;

    const rollback = await runCli(["rollback"], { cwd: dir });
    expect(rollback.exitCode, `${rollback.all}\n(killed after ${killAfterMs}ms, left ${JSON.stringify(atKill)})`).toBe(0);
    expect(rollback.all).not.toMatch(/^\s+at /m);
    expect(leftover(), `killed after ${killAfterMs}ms; left ${JSON.stringify(atKill)}; rollback said:\n${rollback.all}`).toEqual(clean);
    // Nothing is left on record either: a second rollback has nothing to do.
    const stateDir = path.join(dir, ".chaoscast", "state");
    expect(existsSync(stateDir) ? readdirSync(stateDir).filter((f) => f.endsWith(".json")) : []).toEqual([]);
    const again = await runCli(["rollback"], { cwd: dir });
    expect(again.exitCode).toBe(0);
    expect(again.all).toContain("Nothing to roll back");
  });

  it("killed most runs with faults in effect (so the test proves something)", () => {
    expect(injectedAtKill).toBeGreaterThanOrEqual(RUNS / 2);
  });
});

describe("a run killed with SIGKILL at a random moment, with its watchdog on", () => {
  let injectedAtKill = 0;
  const WATCHED_RUNS = 8;

  it.each(Array.from({ length: WATCHED_RUNS }, (_, i) => i + 1))("leaves nothing injected, with no one running rollback (seed %i)", async (seed) => {
    const dir = workdir();
    writeExperiment(dir, "crash.yaml", experiment());
    const killAfterMs = Math.round(300 + seededRandom(`watched-${seed}`)() * 2000);
    const child = execa(process.execPath, [CLI, "run", "crash.yaml", "--yes"], { cwd: dir, env: { CI: "1", NO_COLOR: "1", CHAOSCAST_DIR: path.join(dir, ".chaoscast") }, reject: false, stdin: "ignore" });
    await new Promise((resolve) => setTimeout(resolve, killAfterMs));
    child.kill("SIGKILL");
    await child;
    const atKill = leftover();
    if (atKill.suspended || atKill.toxics > 0 || atKill.down) injectedAtKill += 1;
    // The promise is "nothing left two seconds after the CLI dies"; the deadline here is looser
    // for a loaded CI machine, and bench/watchdog.js measures the real figure.
    const stateDir = path.join(dir, ".chaoscast", "state");
    const records = () => (existsSync(stateDir) ? readdirSync(stateDir).filter((f) => f.endsWith(".json")) : []);
    await pollUntil(() => JSON.stringify(leftover()) === JSON.stringify(clean) && records().length === 0, 10_000).catch(() => {});
    expect(leftover(), `killed after ${killAfterMs}ms; left ${JSON.stringify(atKill)}`).toEqual(clean);
    expect(records()).toEqual([]);
    const dry = await runCli(["rollback", "--dry-run"], { cwd: dir });
    expect(dry.exitCode, dry.all).toBe(0);
    expect(dry.all).toContain("Nothing to roll back");
  });

  it("killed most watched runs with faults in effect (so the test proves something)", () => {
    expect(injectedAtKill).toBeGreaterThanOrEqual(WATCHED_RUNS / 2);
  });
});
