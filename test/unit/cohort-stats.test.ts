import { describe, expect, it } from "vitest";
import { fisherOneSided, judgeCohorts, rateDifference, wilsonInterval } from "../../src/engine/cohort-stats.js";

const count = (good: number, failed: number) => ({ good, starts: good + failed });

/** The lower tail of the hypergeometric law with exact integers: an independent check. */
function exactLowerTail(e: { good: number; starts: number }, c: { good: number; starts: number }): number {
  const choose = (n: number, k: number): bigint => {
    if (k < 0 || k > n) return 0n;
    let r = 1n;
    for (let i = 1; i <= k; i++) r = (r * BigInt(n - k + i)) / BigInt(i);
    return r;
  };
  const total = e.starts + c.starts;
  const good = e.good + c.good;
  let tail = 0n;
  for (let x = 0; x <= e.good; x++) tail += choose(good, x) * choose(total - good, e.starts - x);
  return Number((tail * 10n ** 15n) / choose(total, e.starts)) / 1e15;
}

describe("Fisher's exact test on cohorts", () => {
  it("gives the published one-sided p-values", () => {
    // Values from scipy.stats.fisher_exact(..., alternative="less").
    expect(fisherOneSided(count(2, 7), count(12, 0))).toBeCloseTo(0.00030959752321981426, 12);
    expect(fisherOneSided(count(5, 5), count(5, 5))).toBeCloseTo(0.6718591006516703, 10);
    expect(fisherOneSided(count(90, 10), count(98, 2))).toBeCloseTo(0.016520054662092484, 10);
    expect(fisherOneSided(count(450, 50), count(490, 10)) / 3.493922962738732e-8).toBeCloseTo(1, 6);
    expect(fisherOneSided(count(9990, 10), count(9999, 1))).toBeCloseTo(0.005848637110314886, 10);
  });

  it("agrees with exact integer arithmetic on many tables", () => {
    for (const [eg, ef, cg, cf] of [[90, 10, 98, 2], [0, 10, 10, 0], [30, 3, 31, 0], [1, 0, 0, 1], [17, 4, 20, 1], [200, 40, 230, 10]] as const) {
      const e = count(eg, ef);
      const c = count(cg, cf);
      expect(fisherOneSided(e, c)).toBeCloseTo(exactLowerTail(e, c), 9);
    }
  });

  it("is right on the far side of the mode too, where the experiment cohort does better", () => {
    expect(fisherOneSided(count(98, 2), count(90, 10))).toBeCloseTo(0.9975091413663075, 9);
    expect(fisherOneSided(count(40_000, 100), count(40_000, 140))).toBeCloseTo(0.9959557161204184, 6);
  });

  it("answers for tens of millions of starts without walking every term", () => {
    for (const [e, c] of [[count(200_000, 200_000), count(0, 200_000)], [count(20_000_000, 20_000), count(20_000_000, 10_000)], [count(20_000_000, 10_000), count(20_000_000, 10_000)]] as const) {
      const p = fisherOneSided(e, c);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
    }
    // Alike cohorts at that size: about one half, as the exact test would say.
    expect(fisherOneSided(count(20_000_000, 10_000), count(20_000_000, 10_000))).toBeCloseTo(0.5, 1);
    expect(fisherOneSided(count(20_000_000, 20_000), count(20_000_000, 10_000))).toBeLessThan(1e-6);
  });

  it("stays at 1 when the experiment cohort does better", () => {
    expect(fisherOneSided(count(10, 0), count(0, 10))).toBeCloseTo(1, 12);
  });

  it("copes with counts in the hundreds of thousands", () => {
    const p = fisherOneSided(count(499_000, 1_000), count(499_900, 100));
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThan(1e-100);
  });
});

describe("the effect size", () => {
  it("is the difference of success rates with an interval that contains it", () => {
    const d = rateDifference(count(2, 7), count(12, 0));
    expect(d.difference).toBeCloseTo(2 / 9 - 1, 12);
    expect(d.low).toBeLessThan(d.difference);
    expect(d.high).toBeGreaterThan(d.difference);
    expect(d.low).toBeGreaterThanOrEqual(-1);
    expect(d.high).toBeLessThan(0);
  });

  it("gives Wilson intervals that match the textbook values", () => {
    // 81 of 263: 0.2553..0.3662 (Newcombe 1998, table I).
    const w = wilsonInterval(81, 263);
    expect(w.low).toBeCloseTo(0.2553, 3);
    expect(w.high).toBeCloseTo(0.3662, 3);
  });
});

describe("judging the cohorts at one look", () => {
  const rules = { alphaPerLook: 0.05 / 15, minStarts: 10 };

  it("waits until both cohorts have the minimum starts", () => {
    expect(judgeCohorts(count(0, 9), count(20, 0), rules).state).toBe("collecting");
    expect(judgeCohorts(count(0, 9), count(20, 0), rules).pValue).toBeNull();
  });

  it("says diverged when the experiment cohort fails far more than control", () => {
    expect(judgeCohorts(count(2, 10), count(12, 0), rules).state).toBe("diverged");
  });

  it("says holding when the cohorts are alike", () => {
    expect(judgeCohorts(count(28, 1), count(29, 1), rules).state).toBe("holding");
  });

  it("does not call one extra failure a divergence", () => {
    expect(judgeCohorts(count(11, 1), count(12, 0), rules).state).toBe("holding");
  });
});
