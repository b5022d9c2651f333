import { describe, expect, it } from "vitest";
import { parseExperiment } from "../../src/experiment/loader.js";
import { runExperiment } from "../../src/engine/runner.js";
import type { RunEvent } from "../../src/contract/events.js";
import { makeWorld, memoryRegistry, type World } from "../helpers/memory-adapter.js";

interface Scenario {
  world?: World;
  yaml: string;
  interruptAfterMs?: number;
}

async function run({ world = makeWorld(), yaml, interruptAfterMs }: Scenario) {
  const registry = memoryRegistry(world);
  const experiment = parseExperiment(yaml, "mem.yaml", { registry, vars: { cli: {}, env: {} } });
  const events: RunEvent[] = [];
  const interrupt = new AbortController();
  if (interruptAfterMs !== undefined) setTimeout(() => interrupt.abort("SIGINT"), interruptAfterMs);
  const result = await runExperiment(experiment, { registry, runId: "test", seed: "s", sink: (e) => events.push(e), interrupt: interrupt.signal });
  return { result, events, world, types: events.map((e) => e.type) };
}

const header = (watch: string, extra = "") => `version: 1
title: memory
duration: 600ms
targets:
  all: { mem: {} }
  a: { mem: { prefix: a } }
  b: { mem: { prefix: b } }
  c: { mem: { prefix: c } }
steadyState:
  - name: watched item healthy
    probe: mem
    with: { item: ${watch} }
abort: { interval: 50ms, after: 2 }
recovery: { timeout: 300ms, interval: 50ms }
${extra}`;

describe("the run lifecycle", () => {
  it("passes when the hypothesis holds, and reverts the fault at the end", async () => {
    const { result, world, types } = await run({ yaml: `${header("a")}faults:\n  - { name: break b, target: b, action: mem.break }\n` });
    expect(result.outcome).toBe("passed");
    expect(result.exitCode).toBe(0);
    expect(world.broken.size).toBe(0);
    expect(world.revertLog).toEqual(["b"]);
    expect(types).toContain("fault-reverted");
  });

  it("aborts after the configured number of consecutive breaches and reverts in reverse order", async () => {
    const yaml = `${header("a")}faults:\n  - { name: break c, target: c, action: mem.break }\n  - { name: break b, target: b, action: mem.break }\n  - { name: break a, target: a, action: mem.break, at: 100ms }\n`;
    const { result, events, world } = await run({ yaml });
    expect(result.outcome).toBe("aborted");
    expect(result.exitCode).toBe(2);
    expect(world.revertLog).toEqual(["a", "b", "c"]);
    expect(world.broken.size).toBe(0);
    const breaches = events.filter((e) => e.type === "breach");
    expect(breaches.map((e) => (e as { consecutive: number }).consecutive)).toEqual([1, 2]);
  });

  it("reverts the targets of one fault together, and the faults one after another, newest first", async () => {
    const world = makeWorld();
    const started: string[] = [];
    let release!: () => void;
    const allThree = new Promise<void>((resolve) => (release = resolve));
    // The newer fault's repair goes alone; each repair of "all" then waits until its three have
    // begun: one at a time, they never would, and the run would hang.
    world.beforeRepair = async (name) => {
      started.push(name);
      if (started.length === 1) return;
      if (started.length === 4) release();
      await allThree;
    };
    const yaml = `${header("a").replace("after: 2", "after: 1000")}faults:\n  - { name: break all, target: all, action: mem.break }\n  - { name: break b again, target: b, action: mem.break, at: 100ms }\n`.replace("watched item healthy\n    probe: mem\n    with: { item: a }", "watched item healthy\n    probe: mem\n    with: { item: z }");
    const { result } = await run({ world, yaml });
    expect(result.outcome, result.reason).toBe("passed");
    // The newer fault first, alone; then the three targets of the older one, at once.
    expect(started[0]).toBe("b");
    expect([...started.slice(1)].sort()).toEqual(["a", "b", "c"]);
    expect(world.broken.size).toBe(0);
  });

  it("retries a failing revert with backoff until it succeeds", async () => {
    const world = makeWorld();
    world.revertFailures.set("b", 2);
    const { result, events } = await run({ world, yaml: `${header("a")}faults:\n  - { name: break b, target: b, action: mem.break }\n` });
    expect(result.outcome).toBe("passed");
    expect(events.filter((e) => e.type === "revert-retry")).toHaveLength(2);
    expect(world.broken.has("b")).toBe(false);
  });

  it("keeps reverting the others when one revert fails for good, and says what is still injected", async () => {
    const world = makeWorld();
    world.revertFailures.set("b", Infinity);
    const yaml = `${header("a")}faults:\n  - { name: break b, target: b, action: mem.break }\n  - { name: break c, target: c, action: mem.break }\n`;
    const { result } = await run({ world, yaml });
    expect(result.outcome).toBe("rollback-failed");
    expect(result.exitCode).toBe(3);
    expect(world.broken.has("c")).toBe(false);
    expect(world.broken.has("b")).toBe(true);
    expect(result.stillInjected).toEqual(["break b on item b (repair b)"]);
  });

  it("reverts a fault whose injection failed half-way (the revert was recorded first)", async () => {
    const world = makeWorld();
    world.applyFailures.add("b");
    const { result, events } = await run({ world, yaml: `${header("a")}faults:\n  - { name: break b, target: b, action: mem.break }\n` });
    expect(result.outcome).toBe("aborted");
    expect(result.reason).toMatch(/could not be injected into item b: b broke half-way/);
    expect(world.broken.has("b")).toBe(false);
    expect(events.some((e) => e.type === "fault-failed")).toBe(true);
  });

  it("skips, injecting nothing, when the steady state does not hold before", async () => {
    const world = makeWorld();
    world.broken.add("a");
    const { result, types } = await run({ world, yaml: `${header("a")}faults:\n  - { name: break b, target: b, action: mem.break }\n` });
    expect(result.outcome).toBe("skipped");
    expect(result.exitCode).toBe(5);
    expect(types).not.toContain("fault-injected");
    expect(world.revertLog).toEqual([]);
  });

  it("skips in preflight, injecting nothing, when a later fault's action cannot work on its target", async () => {
    const world = makeWorld();
    world.unsupported.add("c");
    const yaml = `${header("a")}faults:\n  - { name: break b, target: b, action: mem.break }\n  - { name: break c, target: c, action: mem.break, at: 300ms }\n`;
    const { result, types } = await run({ world, yaml });
    expect(result.outcome).toBe("skipped");
    expect(result.reason).toContain('fault "break c" on item c cannot be injected: item c cannot be broken here');
    expect(types).not.toContain("fault-injected");
    expect(world.revertLog).toEqual([]);
  });

  it("skips when a target matches nothing", async () => {
    const yaml = `${header("a").replace("c: { mem: { prefix: c } }", "z: { mem: { prefix: z } }")}faults:\n  - { name: break z, target: z, action: mem.break }\n`;
    const { result } = await run({ yaml });
    expect(result.outcome).toBe("skipped");
    expect(result.reason).toMatch(/target "z" matched nothing/);
  });

  it("reports a deviation when the steady state does not return after rollback", async () => {
    const yaml = `${header("a").replace("after: 2", "after: 1000")}faults:\n  - { name: destroy a, target: a, action: mem.destroy }\n`;
    const { result } = await run({ yaml });
    expect(result.outcome).toBe("deviated");
    expect(result.exitCode).toBe(1);
  });

  it("reports an abort whose steady state never returns as unrecovered, exit 7, not as a clean abort", async () => {
    const yaml = `${header("a")}faults:\n  - { name: destroy a, target: a, action: mem.destroy }\n`;
    const { result, events } = await run({ yaml });
    expect(result.outcome).toBe("unrecovered");
    expect(result.exitCode).toBe(7);
    expect(result.reason).toMatch(/rolled back, but steady state did not return within 300ms/);
    expect(events.at(-1)).toMatchObject({ type: "run-finished", recovered: false });
  });

  it("does not count breaches inside the grace period after an injection", async () => {
    const yaml = `${header("a").replace("after: 2", "after: 2, grace: 10s").replace("duration: 600ms", "duration: 400ms")}faults:\n  - { name: break a, target: a, action: mem.break, duration: 200ms }\n`;
    const { result, events } = await run({ yaml });
    expect(events.some((e) => e.type === "observation" && !e.ok && !e.counted)).toBe(true);
    expect(events.filter((e) => e.type === "breach")).toHaveLength(0);
    expect(result.outcome).toBe("passed");
  });

  it("reverts a fault early when its own duration ends", async () => {
    const yaml = `${header("c")}faults:\n  - { name: break b, target: b, action: mem.break, duration: 100ms }\n`;
    const { events } = await run({ yaml });
    const reverted = events.find((e) => e.type === "fault-reverted");
    expect(reverted).toMatchObject({ early: true });
    expect(reverted!.t).toBeLessThan(events.find((e) => e.type === "run-finished")!.t - 200);
  });

  it("rolls back when interrupted during the method", async () => {
    const yaml = `${header("c").replace("duration: 600ms", "duration: 30s")}faults:\n  - { name: break b, target: b, action: mem.break }\n`;
    const { result, world } = await run({ yaml, interruptAfterMs: 150 });
    expect(result.outcome).toBe("aborted");
    expect(result.reason).toMatch(/interrupted by SIGINT/);
    expect(world.broken.size).toBe(0);
  });

  it("hits every selected target and reverts each one", async () => {
    const { world, events } = await run({ yaml: `${header("z")}faults:\n  - { name: break all, target: all, action: mem.break }\n`.replace("item: z", "item: zz") });
    expect(events.filter((e) => e.type === "fault-injected")).toHaveLength(3);
    expect([...world.revertLog].sort()).toEqual(["a", "b", "c"]);
  });

  it("runs the extra rollback steps after the automatic reverts", async () => {
    const yaml = `${header("a")}faults:\n  - { name: break b, target: b, action: mem.break }\nrollbacks:\n  - { name: say done, action: command.run, with: { command: ["true"] } }\n`;
    const { types, result } = await run({ yaml });
    expect(result.outcome).toBe("passed");
    expect(types.indexOf("rollback-step")).toBeGreaterThan(types.indexOf("fault-reverted"));
  });

  it("does not claim everything was reverted when a fault cannot be undone by design", async () => {
    const { result } = await run({ yaml: `${header("a")}faults:\n  - { name: destroy b, target: b, action: mem.destroy }\n` });
    expect(result.outcome).toBe("passed");
    expect(result.reason).toMatch(/every reversible fault was reverted \(1 cannot be undone by design\)/);
  });

  it("says nothing was watched when there is no steady-state hypothesis", async () => {
    const yaml = `version: 1\ntitle: unwatched\nduration: 100ms\ntargets:\n  b: { mem: { prefix: b } }\nfaults:\n  - { name: break b, target: b, action: mem.break }\n`;
    const { result } = await run({ yaml });
    expect(result.reason).toMatch(/^no steadyState was declared, so nothing was watched; everything was reverted$/);
  });

  it("mentions isolated breaches in a passed run", async () => {
    const yaml = `${header("a").replace("after: 2", "after: 1000").replace("duration: 600ms", "duration: 400ms")}faults:\n  - { name: break a, target: a, action: mem.break, duration: 200ms }\n`;
    const { result } = await run({ yaml });
    expect(result.outcome).toBe("passed");
    expect(result.reason).toMatch(/apart from \d+ isolated breach\(es\), fewer than 1000 in a row/);
  });
});


describe("an interrupt during recovery", () => {
  it("ends the run as aborted, not as a deviation, since the wait was cut short", async () => {
    const yaml = `version: 1
title: memory
duration: 300ms
targets:
  a: { mem: { prefix: a } }
steadyState:
  - { name: a healthy, probe: mem, with: { item: a } }
abort: { interval: 50ms, after: 100 }
recovery: { timeout: 20s, interval: 50ms }
faults:
  - { name: destroy a, target: a, action: mem.destroy }
`;
    const { result, types } = await run({ yaml, interruptAfterMs: 700 });
    expect(types.filter((t) => t === "phase-started").length).toBe(5); // recovery had started
    expect(result.outcome).toBe("aborted");
    expect(result.reason).toContain("interrupted while waiting for the steady state to return");
  });
});
