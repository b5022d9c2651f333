import { describe, expect, it } from "vitest";
import type { CohortSpec, CounterReader } from "../../src/contract/compiled-experiment.js";
import type { ProbeDef } from "../../src/contract/adapter.js";
import type { RunEventBody } from "../../src/contract/events.js";
import { CohortComparison, watchCohorts } from "../../src/engine/cohort.js";

/** Counters a test sets by hand, read through a probe as the engine reads real ones. */
function fakeCounters() {
  const values = new Map<string, number>();
  let failing: string | undefined;
  const probe = {
    name: "fake",
    timeoutOf: () => 1000,
    run: async (params: { key: string }) => (failing ? { fields: {}, error: failing, summary: "down" } : { fields: { value: values.get(params.key) ?? 0 }, summary: "" }),
  } as unknown as ProbeDef;
  const reader = (key: string): CounterReader => ({ probe, params: { key } });
  const spec: CohortSpec = {
    split: "edge",
    sizePercent: 5,
    alpha: 0.05,
    minStarts: 5,
    measure: "good of total",
    counters: { experiment: { good: reader("eg"), total: reader("et") }, control: { good: reader("cg"), total: reader("ct") } },
  };
  const set = (c: Partial<Record<"eg" | "et" | "cg" | "ct", number>>) => {
    for (const [k, v] of Object.entries(c)) values.set(k, v);
  };
  return { spec, set, fail: (why: string | undefined) => (failing = why) };
}

const signal = new AbortController().signal;

describe("comparing cohorts during a run", () => {
  it("counts only the starts since the baseline read before the faults", async () => {
    const c = fakeCounters();
    c.set({ eg: 100, et: 100, cg: 90, ct: 90 });
    const comparison = new CohortComparison(c.spec, 20_000, 1000);
    await comparison.start(signal);
    c.set({ eg: 100, et: 106, cg: 96, ct: 96 });
    const look = await comparison.look(signal);
    expect(look.experiment).toEqual({ starts: 6, good: 0 });
    expect(look.control).toEqual({ starts: 6, good: 6 });
    expect(look.state).toBe("diverged");
  });

  it("refuses a reading with more good starts than starts: the counters are swapped or wrong", async () => {
    const c = fakeCounters();
    const comparison = new CohortComparison(c.spec, 20_000, 1000);
    await comparison.start(signal);
    c.set({ eg: 10, et: 4 });
    await expect(comparison.look(signal)).rejects.toThrow(/the experiment cohort counts more good starts \(10\) than starts \(4\): are good and total swapped\?/);
  });

  it("splits alpha over the looks the method has", () => {
    const c = fakeCounters();
    const comparison = new CohortComparison(c.spec, 20_000, 1000);
    expect(comparison.looks).toBe(20);
    expect(comparison.alphaPerLook).toBeCloseTo(0.0025, 10);
  });

  it("treats a counter that went down as reset, counting from zero", async () => {
    const c = fakeCounters();
    c.set({ eg: 50, et: 50, cg: 50, ct: 50 });
    const comparison = new CohortComparison(c.spec, 10_000, 1000);
    await comparison.start(signal);
    c.set({ eg: 3, et: 3, cg: 4, ct: 4 });
    const look = await comparison.look(signal);
    expect(look.experiment).toEqual({ starts: 3, good: 3 });
    expect(look.control).toEqual({ starts: 4, good: 4 });
  });

  it("says inconclusive, naming the counts, when a cohort never reached its minimum", async () => {
    const c = fakeCounters();
    const comparison = new CohortComparison(c.spec, 10_000, 1000);
    await comparison.start(signal);
    c.set({ eg: 2, et: 2, cg: 9, ct: 9 });
    await comparison.look(signal);
    const verdict = comparison.verdict();
    expect(verdict.verdict).toBe("inconclusive");
    expect(verdict.detail).toMatch(/too few starts to compare: 2 experiment and 9 control start\(s\) counted, 5 needed in each/);
  });

  it("says no difference with the effect size and its interval when the cohorts are alike", async () => {
    const c = fakeCounters();
    const comparison = new CohortComparison(c.spec, 10_000, 1000);
    await comparison.start(signal);
    c.set({ eg: 29, et: 30, cg: 30, ct: 30 });
    await comparison.look(signal);
    const verdict = comparison.verdict();
    expect(verdict.verdict).toBe("no-difference");
    expect(verdict.difference).toBeCloseTo(-1 / 30, 10);
    expect(verdict.low).toBeLessThan(verdict.difference!);
    expect(verdict.high).toBeGreaterThan(0);
  });

  it("aborts at the first look that sees the cohorts diverge, and keeps the failed starts it took", async () => {
    const c = fakeCounters();
    // 40 looks: each tests at 0.05 / 40.
    const comparison = new CohortComparison(c.spec, 2000, 50);
    await comparison.start(signal);
    const stop = new AbortController();
    const events: RunEventBody[] = [];
    let reason: string | undefined;
    const watching = watchCohorts(comparison, { intervalMs: 50, after: 3, stop: stop.signal, emit: (e) => events.push(e), abort: (r) => { reason = r; stop.abort(); } });
    c.set({ cg: 3, ct: 3, et: 1 });
    const deadline = Date.now() + 5000;
    while (!events.some((e) => e.type === "cohort") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(reason).toBeUndefined(); // still collecting: fewer than 5 starts each
    c.set({ cg: 8, ct: 8, et: 7 });
    await watching;
    expect(reason).toMatch(/the experiment cohort diverged from control: experiment 0\/7 good, control 8\/8 good, p = .* < /);
    const verdict = comparison.verdict();
    expect(verdict.verdict).toBe("diverged");
    expect(verdict.failedBeforeDetection).toBe(7);
  });

  it("aborts after `after` readings in a row that fail, since the comparison is then blind", async () => {
    const c = fakeCounters();
    const comparison = new CohortComparison(c.spec, 60_000, 20);
    await comparison.start(signal);
    c.fail("connection refused");
    const stop = new AbortController();
    let reason: string | undefined;
    await watchCohorts(comparison, { intervalMs: 20, after: 3, stop: stop.signal, emit: () => {}, abort: (r) => { reason = r; stop.abort(); } });
    expect(reason).toMatch(/could not be read 3 time\(s\) in a row \(connection refused\)/);
  });
});
