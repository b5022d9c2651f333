import { describe, expect, it } from "vitest";
import { selectTargets } from "../../src/contract/selection.js";
import { buildTimeline } from "../../src/engine/timeline.js";
import type { FaultSpec } from "../../src/contract/compiled-experiment.js";

const candidates = Array.from({ length: 20 }, (_, i) => ({ id: `pid:${1000 + i}` }));

describe("target selection", () => {
  it("takes every candidate when nothing is said", () => {
    expect(selectTargets(candidates, undefined, "s").chosen).toHaveLength(20);
  });

  it("takes a count, a percentage rounded up, and honours max", () => {
    expect(selectTargets(candidates, { count: 3 }, "s").chosen).toHaveLength(3);
    expect(selectTargets(candidates, { percent: 12 }, "s").chosen).toHaveLength(3);
    expect(selectTargets(candidates, { percent: 50, max: 4 }, "s").chosen).toHaveLength(4);
  });

  it("rounds a percentage up without floating-point surprises", () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `t${String(i).padStart(3, "0")}` }));
    expect(selectTargets(many(25), { percent: 28 }, "s").chosen).toHaveLength(7);
    expect(selectTargets(many(100), { percent: 7 }, "s").chosen).toHaveLength(7);
    expect(selectTargets(many(50), { percent: 14 }, "s").chosen).toHaveLength(7);
    expect(selectTargets(many(50), { percent: 15 }, "s").chosen).toHaveLength(8);
  });

  it("raises a small percentage to min, and refuses when min cannot be met", () => {
    expect(selectTargets(candidates, { percent: 1, min: 2 }, "s").chosen).toHaveLength(2);
    const result = selectTargets(candidates.slice(0, 1), { min: 2 }, "s");
    expect(result.chosen).toEqual([]);
    expect(result.problem).toMatch(/at least 2 target\(s\) but only 1 found/);
  });

  it("chooses the same targets for the same seed whatever the input order", () => {
    const a = selectTargets(candidates, { count: 5 }, "seed-1").chosen;
    const b = selectTargets([...candidates].reverse(), { count: 5 }, "seed-1").chosen;
    expect(a).toEqual(b);
  });

  it("chooses differently for different seeds", () => {
    const picks = new Set(Array.from({ length: 10 }, (_, i) => selectTargets(candidates, { count: 3 }, `seed-${i}`).chosen.map((c) => c.id).join()));
    expect(picks.size).toBeGreaterThan(5);
  });
});

describe("the fault timeline", () => {
  const fault = (name: string, atMs: number, durationMs?: number) => ({ name, atMs, durationMs }) as FaultSpec;

  it("orders injections by time and ends faults that have their own duration", () => {
    const steps = buildTimeline([fault("b", 5000), fault("a", 0, 2000)], 10_000);
    expect(steps).toEqual([
      { atMs: 0, kind: "inject", fault: 1 },
      { atMs: 2000, kind: "end", fault: 1 },
      { atMs: 5000, kind: "inject", fault: 0 },
    ]);
  });

  it("leaves faults that last to the end of the method to the rollback", () => {
    expect(buildTimeline([fault("a", 0, 10_000)], 10_000)).toEqual([{ atMs: 0, kind: "inject", fault: 0 }]);
  });

  it("ends a fault before injecting another at the same instant", () => {
    const steps = buildTimeline([fault("a", 0, 1000), fault("b", 1000)], 5000);
    expect(steps.map((s) => s.kind)).toEqual(["inject", "end", "inject"]);
  });
});
