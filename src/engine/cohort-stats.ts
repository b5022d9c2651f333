// The statistics of a cohort comparison: Fisher's exact test on the 2×2 table of starts (good or
// failed) × cohort (experiment or control), and the difference of the two success rates with a
// 95% interval. Exact rather than a normal approximation because a comparison has to decide on a
// few dozen starts, where the approximation is poor, and because failures in a healthy cohort are
// near zero, where it is worst.

export interface CohortCount {
  /** Starts attempted (good and failed). */
  starts: number;
  /** Starts that succeeded. */
  good: number;
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms): accurate to about 15 digits. */
function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = c[0]!;
  for (let i = 1; i < 9; i++) sum += c[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

const logChoose = (n: number, k: number) => logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);

/** Above this many starts in all, the normal approximation is as good as exact, and far cheaper. */
const EXACT_UP_TO = 100_000;

/**
 * One-sided Fisher exact test: the probability, were both cohorts alike, of the experiment cohort
 * having as few good starts as it has, or fewer, given both cohorts' starts and all good starts.
 * Small values say the experiment cohort does worse than chance allows.
 */
export function fisherOneSided(experiment: CohortCount, control: CohortCount): number {
  const n = experiment.starts;
  const total = experiment.starts + control.starts;
  const goodAll = experiment.good + control.good;
  if (n === 0 || control.starts === 0 || goodAll === 0 || goodAll === total) return 1;
  if (total > EXACT_UP_TO) return normalOneSided(experiment, control);
  const lowest = Math.max(0, n - (total - goodAll));
  const highest = Math.min(n, goodAll);
  const denominator = logChoose(total, n);
  const logTerm = (x: number) => logChoose(goodAll, x) + logChoose(total - goodAll, n - x) - denominator;
  // The terms rise to the mode and fall after it: sum the tail away from the mode, from the
  // observed count outwards, until the terms no longer count.
  const mode = Math.floor(((n + 1) * (goodAll + 1)) / (total + 2));
  if (experiment.good < mode) return Math.min(1, sumTail(logTerm, experiment.good, lowest, -1));
  return Math.max(0, 1 - sumTail(logTerm, experiment.good + 1, highest, 1));
}

/** Σ exp(logTerm(x)) from `from` towards `to` (step ±1), stopping once a term is e⁻⁴⁰ of the largest. */
function sumTail(logTerm: (x: number) => number, from: number, to: number, step: 1 | -1): number {
  let max = -Infinity;
  let scaled = 0; // Σ exp(term - max), kept as terms arrive (log-sum-exp without an array)
  for (let x = from; step < 0 ? x >= to : x <= to; x += step) {
    const term = logTerm(x);
    if (term > max) {
      scaled = scaled * Math.exp(max - term) + 1;
      max = term;
    } else scaled += Math.exp(term - max);
    if (term < max - 40) break;
  }
  return max === -Infinity ? 0 : Math.exp(max) * scaled;
}

/** The two-proportion z-test, one-sided, for counts where the exact test would be slow. */
function normalOneSided(experiment: CohortCount, control: CohortCount): number {
  const p1 = experiment.good / experiment.starts;
  const p2 = control.good / control.starts;
  const pooled = (experiment.good + control.good) / (experiment.starts + control.starts);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / experiment.starts + 1 / control.starts));
  return normalCdf((p1 - p2) / se);
}

/** Φ(z), by the complementary error function (Numerical Recipes' erfc, 1.2e-7 relative). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** Wilson score interval of a proportion, at z (1.96: 95%). */
export function wilsonInterval(good: number, n: number, z = 1.96): { low: number; high: number } {
  if (n === 0) return { low: 0, high: 1 };
  const p = good / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/**
 * The effect size: experiment's success rate minus control's, with Newcombe's 95% interval (built
 * from the two Wilson intervals), which stays inside −1..1 and behaves at rates of 0 and 1.
 */
export function rateDifference(experiment: CohortCount, control: CohortCount): { difference: number; low: number; high: number } {
  const p1 = experiment.good / experiment.starts;
  const p2 = control.good / control.starts;
  const a = wilsonInterval(experiment.good, experiment.starts);
  const b = wilsonInterval(control.good, control.starts);
  const difference = p1 - p2;
  return {
    difference,
    low: difference - Math.sqrt((p1 - a.low) ** 2 + (b.high - p2) ** 2),
    high: difference + Math.sqrt((a.high - p1) ** 2 + (p2 - b.low) ** 2),
  };
}

export type CohortState = "collecting" | "holding" | "diverged";

export interface CohortJudgement {
  experiment: CohortCount;
  control: CohortCount;
  /** Null while either cohort has fewer than the minimum starts. */
  pValue: number | null;
  state: CohortState;
}

/**
 * One look at the cohorts. The run looks once per abort interval, and every look is a chance of a
 * false alarm, so each look tests at alpha divided by the looks the method has (Bonferroni): the
 * chance of aborting a run whose cohorts are alike stays under alpha over the whole method.
 */
export function judgeCohorts(experiment: CohortCount, control: CohortCount, rules: { alphaPerLook: number; minStarts: number }): CohortJudgement {
  if (experiment.starts < rules.minStarts || control.starts < rules.minStarts) return { experiment, control, pValue: null, state: "collecting" };
  const pValue = fisherOneSided(experiment, control);
  return { experiment, control, pValue, state: pValue < rules.alphaPerLook ? "diverged" : "holding" };
}
