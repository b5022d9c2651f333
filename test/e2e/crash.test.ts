// SIGKILL the CLI at seeded random moments of a run against a local process and the fault proxy,
// then `chaoscast rollback` (the run's watchdog off): nothing may remain injected, every time. Then
// the same with the watchdog on and no one running rollback: nothing may remain once it has acted.
// Leases are set long (60 s), so what is cleaned up was not cleaned up by a lease running out.

import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { startProxyServer, type ProxyServer } from "../../src/proxy/server.js";
import { seededRandom } from "../../src/util/random.js";
import { CLI, processState, runCli, startServer, waitForOutput, workdir, writeExperiment, type TestServer } from "../helpers/processes.js";
import { eventually } from "../helpers/poll.js";

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

/** The CLI's environment in these runs: as CI runs it, with its state in the run's own directory. */
const cliEnv = (dir: string) => ({ CI: "1", NO_COLOR: "1", CHAOSCAST_DIR: path.join(dir, ".chaoscast") });
const stateRecords = (dir: string) => {
  const stateDir = path.join(dir, ".chaoscast", "state");
  return existsSync(stateDir) ? readdirSync(stateDir).filter((f) => f.endsWith(".json")) : [];
};
const injected = (l: Leftover) => l.suspended || l.toxics > 0 || l.down;

/**
 * Start a run in a fresh directory and SIGKILL it `killAfterMs` after it has started (its first
 * line, once Node and the experiment are loaded, so a loaded machine's slow start-up does not push
 * every kill before the first injection); what it left at that moment. The wait is the scenario
 * itself (the random moment of the crash), not a wait for a condition.
 */
async function killRun(args: string[], killAfterMs: number): Promise<{ dir: string; atKill: Leftover }> {
  const dir = workdir();
  writeExperiment(dir, "crash.yaml", experiment());
  const child = execa(process.execPath, [CLI, "run", "crash.yaml", "--yes", ...args], { cwd: dir, env: cliEnv(dir), reject: false, stdin: "ignore" });
  await waitForOutput(child, "▶", 20_000);
  await new Promise((resolve) => setTimeout(resolve, killAfterMs));
  child.kill("SIGKILL");
  await child;
  return { dir, atKill: leftover() };
}

/**
 * Each seed's crash is made once, by whichever test needs it first: its own test, or the guard that
 * counts over all seeds. So every test stands alone (-t, --sequence.shuffle) and no run is made
 * twice. Only data is kept here; the assertions are the tests' own.
 */
function oncePerSeed<T>(make: (seed: number) => Promise<T>): (seed: number) => Promise<T> {
  const made = new Map<number, Promise<T>>();
  return (seed) => {
    let outcome = made.get(seed);
    if (!outcome) {
      outcome = make(seed);
      made.set(seed, outcome);
    }
    return outcome;
  };
}

const seeds = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe("a run killed with SIGKILL at a random moment", () => {
  const crashed = oncePerSeed(async (seed) => {
    const killAfterMs = Math.round(150 + seededRandom(`crash-${seed}`)() * 2600);
    const { dir, atKill } = await killRun(["--watchdog", "off"], killAfterMs);
    const rollback = await runCli(["rollback"], { cwd: dir });
    const afterRollback = leftover();
    const records = stateRecords(dir);
    const again = await runCli(["rollback"], { cwd: dir });
    return { killAfterMs, atKill, rollback, afterRollback, records, again };
  });

  it.each(seeds(RUNS))("leaves nothing injected after chaoscast rollback (seed %i)", async (seed) => {
    const { killAfterMs, atKill, rollback, afterRollback, records, again } = await crashed(seed);
    expect(rollback.exitCode, `${rollback.all}\n(killed after ${killAfterMs}ms, left ${JSON.stringify(atKill)})`).toBe(0);
    expect(rollback.all).not.toMatch(/^\s+at /m);
    expect(afterRollback, `killed after ${killAfterMs}ms; left ${JSON.stringify(atKill)}; rollback said:\n${rollback.all}`).toEqual(clean);
    // Nothing is left on record either: a second rollback has nothing to do.
    expect(records).toEqual([]);
    expect(again.exitCode).toBe(0);
    expect(again.all).toContain("Nothing to roll back");
  });

  // Counts over every seed's crash, making those no test has made yet: it holds on its own.
  it("killed most runs with faults in effect (so the test proves something)", { timeout: RUNS * 10_000 }, async () => {
    let injectedAtKill = 0;
    for (const seed of seeds(RUNS)) if (injected((await crashed(seed)).atKill)) injectedAtKill += 1;
    expect(injectedAtKill).toBeGreaterThanOrEqual(RUNS / 2);
  });
});

describe("a run killed with SIGKILL at a random moment, with its watchdog on", () => {
  const WATCHED_RUNS = 8;
  const crashed = oncePerSeed(async (seed) => {
    const killAfterMs = Math.round(300 + seededRandom(`watched-${seed}`)() * 2000);
    const { dir, atKill } = await killRun([], killAfterMs);
    // The promise is "nothing left two seconds after the CLI dies"; the deadline here is looser
    // for a loaded CI machine, and bench/watchdog.js measures the real figure.
    const cleaned = await eventually(
      () => ({ left: leftover(), records: stateRecords(dir) }),
      (now) => isDeepStrictEqual(now.left, clean) && now.records.length === 0,
      10_000,
    );
    const dry = await runCli(["rollback", "--dry-run"], { cwd: dir });
    return { killAfterMs, atKill, cleaned, dry };
  });

  it.each(seeds(WATCHED_RUNS))("leaves nothing injected, with no one running rollback (seed %i)", async (seed) => {
    const { killAfterMs, atKill, cleaned, dry } = await crashed(seed);
    expect(cleaned.left, `killed after ${killAfterMs}ms; left ${JSON.stringify(atKill)}`).toEqual(clean);
    expect(cleaned.records).toEqual([]);
    expect(dry.exitCode, dry.all).toBe(0);
    expect(dry.all).toContain("Nothing to roll back");
  });

  // Counts over every seed's crash, making those no test has made yet: it holds on its own.
  it("killed most watched runs with faults in effect (so the test proves something)", { timeout: WATCHED_RUNS * 15_000 }, async () => {
    let injectedAtKill = 0;
    for (const seed of seeds(WATCHED_RUNS)) if (injected((await crashed(seed)).atKill)) injectedAtKill += 1;
    expect(injectedAtKill).toBeGreaterThanOrEqual(WATCHED_RUNS / 2);
  });
});
