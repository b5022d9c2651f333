import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tempDir } from "../helpers/temp.js";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseExperiment } from "../../src/experiment/loader.js";
import { runExperiment } from "../../src/engine/runner.js";
import { findLeftovers, revertLeftover } from "../../src/engine/leftovers.js";
import type { RunState } from "../../src/engine/state.js";
import { makeWorld, memoryRegistry, type World } from "../helpers/memory-adapter.js";

const FAST = { attempts: 2, backoffMs: 10, attemptTimeoutMs: 1_000 };

const yaml = `version: 1
title: memory
duration: 200ms
targets:
  a: { mem: { prefix: a } }
  b: { mem: { prefix: b } }
faults:
  - { name: break a, target: a, action: mem.break }
  - { name: break b, target: b, action: mem.break, at: 50ms }
`;

async function run(world: World, stateDir: string) {
  const registry = memoryRegistry(world);
  const experiment = parseExperiment(yaml, "mem.yaml", { registry, vars: { cli: {}, env: {} } });
  const result = await runExperiment(experiment, { registry, runId: "run-1", seed: "s", sink: () => {}, interrupt: new AbortController().signal, stateDir });
  return { result, registry };
}

const stateFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")) : []);
const readState = (dir: string) => JSON.parse(readFileSync(path.join(dir, "run-1.json"), "utf8")) as RunState;

describe("the write-ahead state file", () => {
  it("holds each fault's revert, on disk, before the fault is applied", async () => {
    const dir = tempDir("chaoscast-state-");
    const world = makeWorld();
    const seenAtApply: RunState["faults"][] = [];
    world.onApply = () => seenAtApply.push(readState(dir).faults);
    await run(world, dir);
    expect(seenAtApply).toHaveLength(2);
    expect(seenAtApply[0]).toEqual([expect.objectContaining({ fault: "break a", state: "injecting", revert: expect.objectContaining({ kind: "mem.repair", data: { name: "a" } }) })]);
    expect(seenAtApply[1]!.map((f) => [f.fault, f.state])).toEqual([
      ["break a", "injected"],
      ["break b", "injecting"],
    ]);
  });

  it("is removed when the run reverted everything", async () => {
    const dir = tempDir("chaoscast-state-");
    const { result } = await run(makeWorld(), dir);
    expect(result.outcome).toBe("passed");
    expect(stateFiles(dir)).toEqual([]);
  });

  it("keeps what could not be reverted, and rollback reverts it once the target allows", async () => {
    const dir = tempDir("chaoscast-state-");
    const world = makeWorld();
    world.revertFailures.set("b", Infinity);
    const { result, registry } = await run(world, dir);
    expect(result.outcome).toBe("rollback-failed");
    const kept = readState(dir);
    expect(kept.status).toBe("finished");
    expect(kept.faults.map((f) => [f.fault, f.state])).toEqual([
      ["break a", "reverted"],
      ["break b", "revert-failed"],
    ]);

    world.revertFailures.delete("b");
    const { runs } = await findLeftovers(dir);
    expect(runs.map((r) => r.pending.map((f) => f.fault))).toEqual([["break b"]]);
    const outcome = await revertLeftover(runs[0]!, registry, () => {}, FAST);
    expect(outcome.failed).toEqual([]);
    expect(outcome.reverted.map((f) => f.fault)).toEqual(["break b"]);
    expect(world.broken.size).toBe(0);
    expect(stateFiles(dir)).toEqual([]);
  });

  it("fails the rollback when a revert reports success but the target is not back", async () => {
    const dir = tempDir("chaoscast-state-");
    const world = makeWorld();
    world.fakeRepairs.add("a");
    const { result } = await run(world, dir);
    expect(result.outcome).toBe("rollback-failed");
    expect(result.reason).toContain("break a");
    expect(world.broken.has("a")).toBe(true);
    expect(readState(dir).faults.find((f) => f.fault === "break a")?.state).toBe("revert-failed");
  });

  it("refuses to inject anything when the state file cannot be written", async () => {
    const world = makeWorld();
    const blocker = path.join(tempDir("chaoscast-state-"), "a-file");
    writeFileSync(blocker, "not a directory");
    const { result } = await run(world, path.join(blocker, "state"));
    expect(result.outcome).toBe("skipped");
    expect(result.reason).toMatch(/state file/);
    expect(world.revertLog).toEqual([]);
    expect(world.broken.size).toBe(0);
  });
});

describe("faults that cannot be undone", () => {
  it("leave no state file behind once the run is over", async () => {
    const dir = tempDir("chaoscast-state-");
    const registry = memoryRegistry(makeWorld());
    const experiment = parseExperiment(`version: 1\ntitle: destroy\nduration: 100ms\ntargets:\n  a: { mem: { prefix: a } }\nfaults:\n  - { name: destroy a, target: a, action: mem.destroy }\n`, "mem.yaml", { registry, vars: { cli: {}, env: {} } });
    const result = await runExperiment(experiment, { registry, runId: "run-1", seed: "s", sink: () => {}, interrupt: new AbortController().signal, stateDir: dir });
    expect(result.outcome).toBe("passed");
    expect(stateFiles(dir)).toEqual([]);
  });
});
