// The error-budget arithmetic of src/slo/burn.ts, checked against figures worked out by hand from the
// SRE Workbook's "Alerting on SLOs" table (budget consumed = burn rate × window / period):
//
//   30-day period = 30 × 24 × 60 = 43 200 minutes
//   page   14.4× over 1h (60m) and 5m:    14.4 × 60   / 43 200 = 864  / 43 200 = 0.02  (2%)
//   page   6×    over 6h (360m) and 30m:  6    × 360  / 43 200 = 2160 / 43 200 = 0.05  (5%)
//   ticket 1×    over 3d (4320m) and 6h:  1    × 4320 / 43 200 = 4320 / 43 200 = 0.10  (10%)
//
//   28-day period = 40 320 minutes, so every window scales by 28/30:
//   long 60m × 28/30 = 56m, short 56m / 12 = 4.67m → 5m; 14.4 × 56 / 40 320 = 806.4 / 40 320 = 0.02
//   long 360m × 28/30 = 336m (5h36m), short 336 / 12 = 28m; 6 × 336 / 40 320 = 0.05
//   long 4320m × 28/30 = 4032m (2d19h12m), short 4032 / 12 = 336m; 1 × 4032 / 40 320 = 0.10

import { describe, expect, it } from "vitest";
import { budgetConsumed, budgetRemaining, burnPairs, burnRate, errorBudget } from "../../src/slo/burn.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe("burnPairs for the Workbook's 30-day period", () => {
  const pairs = burnPairs(30 * DAY);

  it("gives the three pairs of the Workbook's table: two pages and a ticket, in that order", () => {
    expect(pairs.map((p) => p.severity)).toEqual(["page", "page", "ticket"]);
    expect(pairs.map((p) => p.rate)).toEqual([14.4, 6, 1]);
  });

  it("pages at 14.4× over 1h and 5m, which consumes 2% of the budget", () => {
    const [fast] = pairs;
    expect(fast!.longMs).toBe(3_600_000);
    expect(fast!.shortMs).toBe(300_000);
    expect(fast!.consumes).toBeCloseTo(0.02, 12);
  });

  it("pages at 6× over 6h and 30m, which consumes 5% of the budget", () => {
    const slow = pairs[1]!;
    expect(slow.longMs).toBe(21_600_000);
    expect(slow.shortMs).toBe(1_800_000);
    expect(slow.consumes).toBeCloseTo(0.05, 12);
  });

  it("opens a ticket at 1× over 3d and 6h, which consumes 10% of the budget", () => {
    const ticket = pairs[2]!;
    expect(ticket.longMs).toBe(259_200_000);
    expect(ticket.shortMs).toBe(21_600_000);
    expect(ticket.consumes).toBeCloseTo(0.1, 12);
  });

  it("makes every short window one twelfth of its long window", () => {
    for (const pair of pairs) expect(pair.shortMs * 12).toBe(pair.longMs);
  });
});

describe("burnPairs for another period", () => {
  it("scales the windows of a 28-day period by 28/30: 56m, 5h36m and 2d19h12m", () => {
    const pairs = burnPairs(28 * DAY);
    expect(pairs.map((p) => p.longMs)).toEqual([56 * MINUTE, 336 * MINUTE, 4032 * MINUTE]);
  });

  it("rounds a 28-day period's first short window (56m / 12 = 4.67m) to the minute: 5m", () => {
    const pairs = burnPairs(28 * DAY);
    expect(pairs.map((p) => p.shortMs)).toEqual([5 * MINUTE, 28 * MINUTE, 336 * MINUTE]);
  });

  it("keeps the rates of the 30-day table for a 28-day period", () => {
    expect(burnPairs(28 * DAY).map((p) => p.rate)).toEqual([14.4, 6, 1]);
  });

  it("computes consumes as rate × long window / period, which for 28 days is again 2%, 5% and 10%", () => {
    const period = 28 * DAY;
    const pairs = burnPairs(period);
    for (const pair of pairs) expect(pair.consumes).toBeCloseTo((pair.rate * pair.longMs) / period, 12);
    expect(pairs.map((p) => p.consumes)).toEqual([expect.closeTo(0.02, 12), expect.closeTo(0.05, 12), expect.closeTo(0.1, 12)]);
  });

  it("scales a 7-day period's windows to 14m, 1h24m and 16h48m, with short windows of 1m, 7m and 1h24m", () => {
    // 60m × 7/30 = 14m (14/12 = 1.17m → 1m); 360m × 7/30 = 84m (84/12 = 7m); 4320m × 7/30 = 1008m (1008/12 = 84m).
    const pairs = burnPairs(7 * DAY);
    expect(pairs.map((p) => p.longMs)).toEqual([14 * MINUTE, 84 * MINUTE, 1008 * MINUTE]);
    expect(pairs.map((p) => p.shortMs)).toEqual([1 * MINUTE, 7 * MINUTE, 84 * MINUTE]);
    // 14.4 × 14 / 10 080 = 0.02 exactly, since the long window rounded to a whole minute without loss.
    expect(pairs[0]!.consumes).toBeCloseTo(0.02, 12);
  });

  it("never makes a window shorter than a minute, and then reports the larger share it really consumes", () => {
    // A 1h period: 60m × 1/720 = 0.083m, raised to 1m; 14.4 × 1m / 60m = 0.24, not the Workbook's 2%.
    const [fast] = burnPairs(HOUR);
    expect(fast!.longMs).toBe(MINUTE);
    expect(fast!.shortMs).toBe(MINUTE);
    expect(fast!.consumes).toBeCloseTo(0.24, 12);
  });
});

describe("the budget arithmetic", () => {
  it("gives a 99.9% objective an error budget of 0.1%", () => {
    expect(errorBudget(0.999)).toBeCloseTo(0.001, 12);
  });

  it("says a 5% error ratio burns a 99.9% objective's budget 50 times too fast", () => {
    expect(burnRate(0.05, 0.999)).toBeCloseTo(50, 9);
  });

  it("says an error ratio equal to the budget burns at exactly 1", () => {
    expect(burnRate(0.001, 0.999)).toBeCloseTo(1, 9);
  });

  it("leaves 90% of the budget when 0.01% of events failed over the period at 99.9%", () => {
    expect(budgetRemaining(0.0001, 0.999)).toBeCloseTo(0.9, 9);
  });

  it("leaves the whole budget when nothing failed", () => {
    expect(budgetRemaining(0, 0.999)).toBe(1);
  });

  it("goes negative, to −49 budgets, when 5% of events failed over the period at 99.9%", () => {
    expect(budgetRemaining(0.05, 0.999)).toBeCloseTo(-49, 9);
  });

  it("says an hour at 1.44% errors consumes 2% of a 30-day budget at 99.9% (the fast page's threshold)", () => {
    // Burn rate 0.0144 / 0.001 = 14.4; 14.4 × 1h / 720h = 0.02.
    expect(budgetConsumed(0.0144, 0.999, HOUR, 30 * DAY)).toBeCloseTo(0.02, 9);
  });

  it("says six hours at 0.6% errors consume 5% of a 30-day budget at 99.9% (the slow page's threshold)", () => {
    expect(budgetConsumed(0.006, 0.999, 6 * HOUR, 30 * DAY)).toBeCloseTo(0.05, 9);
  });

  it("says the whole period at exactly the budget consumes the whole budget", () => {
    expect(budgetConsumed(0.001, 0.999, 30 * DAY, 30 * DAY)).toBeCloseTo(1, 9);
  });

  it("agrees with burnPairs: a window burning at a pair's rate consumes what the pair says", () => {
    const period = 30 * DAY;
    for (const pair of burnPairs(period)) {
      expect(budgetConsumed(pair.rate * errorBudget(0.999), 0.999, pair.longMs, period)).toBeCloseTo(pair.consumes, 9);
    }
  });
});
