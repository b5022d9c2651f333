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

/**
 * One-sided Fisher exact test: the probability, were both cohorts alike, of the experiment cohort
 * having as few good starts as it has, or fewer, given both cohorts' starts and all good starts.
 * Small values say the experiment cohort does worse than chance allows.
 */
export function fisherOneSided(experiment: CohortCount, control: CohortCount): number {
  const n = experiment.starts;
  const total = experiment.starts + control.starts;
  const goodAll = experiment.good + control.good;
  const lowest = Math.max(0, n - (total - goodAll));
  const denominator = logChoose(total, n);
  const logTerms: number[] = [];
  // The lower tail, from the observed count down: terms fall fast, so stop once they no longer count.
  for (let x = experiment.good; x >= lowest; x--) {
    const term = logChoose(goodAll, x) + logChoose(total - goodAll, n - x) - denominator;
    logTerms.push(term);
    if (term < logTerms[0]! - 40) break;
  }
  const max = Math.max(...logTerms);
  const p = Math.exp(max) * logTerms.reduce((sum, t) => sum + Math.exp(t - max), 0);
  return Math.min(1, p);
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
