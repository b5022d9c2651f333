import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOrigin } from "../../src/demo/origin.js";
import type { Service } from "../../src/demo/http-service.js";
import { playerAvailability, startBreakableProxy, type BreakableProxy } from "../helpers/player.js";
import { readJournals, runCli, workdir, writeExperiment } from "../helpers/processes.js";

// The built CLI running experiments whose steady state is real players (probe: player) against the
// demo's origin, behind a proxy that the experiment's fault tells to withhold every segment.
const available = await playerAvailability();

const experiment = (proxy: string, duration: string, fault: string) => `version: 1
title: real viewers keep playing
duration: ${duration}
steadyState:
  - name: real viewers start
    probe: player
    with: { url: "${proxy}/vod/demo/master.m3u8", players: 2, deadline: 4s, watch: 4s }
abort: { interval: 14s, after: 1 }
faults:
${fault}
recovery: { timeout: 40s }
`;

describe.skipIf(!available)("a run whose steady state is real players", () => {
  let origin: Service;
  let proxy: BreakableProxy;
  let dir: string;
  beforeAll(async () => {
    origin = await startOrigin(0);
    proxy = await startBreakableProxy(origin.url);
    dir = workdir();
  }, 180_000);
  afterAll(async () => {
    await proxy?.close();
    await origin?.close();
  });

  it("passes while every viewer plays", async () => {
    const file = writeExperiment(dir, "clean.yaml", experiment(proxy.url, "10s", `  - { name: harmless, action: command.run, with: { command: ["true"] } }`));
    const result = await runCli(["run", file], { cwd: dir });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toMatch(/real viewers start.*2\/2 playing, startup \d+ms/);
    const journal = readJournals(dir).find((j) => j.outcome === "passed");
    expect(journal).toBeDefined();
  }, 120_000);

  it("aborts and rolls back when the fault withholds every segment, and the viewers recover", async () => {
    const fault = `  - name: withhold segments
    action: http.request
    with: { url: "${proxy.url}/admin/break", method: POST, revert: { url: "${proxy.url}/admin/repair" } }`;
    const file = writeExperiment(dir, "broken.yaml", experiment(proxy.url, "60s", fault));
    const started = performance.now();
    const result = await runCli(["run", file], { cwd: dir });
    console.log(result.all);
    expect(result.exitCode, result.all).toBe(2);
    expect(result.all).toMatch(/real viewers start.*0\/2 playing/);
    expect(result.all).toMatch(/startSuccess 0 does not match 1|startSuccess.*0/);
    // Aborted well before the method's 60 s, and the fault is gone: the proxy serves segments again.
    expect(performance.now() - started).toBeLessThan(55_000);
    expect(proxy.broken).toBe(false);
    expect(proxy.refused).toBeGreaterThan(0);
    const journal = readJournals(dir).find((j) => j.outcome === "aborted");
    expect(journal).toBeDefined();
  }, 120_000);
});
