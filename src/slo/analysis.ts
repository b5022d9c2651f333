// Canary analysis with Argo Rollouts' measurement semantics, so a release pipeline that knows
// AnalysisTemplates reads chaoscast's verdicts the same way. Each measurement is Successful,
// Failed, Inconclusive (both conditions given, neither true) or Error (no answer, no data); the
// analysis fails when failures exceed failureLimit, is inconclusive when inconclusive measurements
// exceed inconclusiveLimit, errs when consecutive errors exceed consecutiveErrorLimit, and succeeds
// once `count` measurements passed those limits.

import { judge, type Expectation } from "../contract/expect.js";

export type MeasurementPhase = "Successful" | "Failed" | "Inconclusive" | "Error";
export type AnalysisPhase = "Running" | "Successful" | "Failed" | "Inconclusive" | "Error";

export interface AnalysisLimits {
  count: number;
  /** Failed measurements tolerated; more fails the analysis. Argo's default: 0. */
  failureLimit: number;
  /** Inconclusive measurements tolerated. Argo's default: 0. */
  inconclusiveLimit: number;
  /** Errors in a row tolerated. Argo's default: 4. */
  consecutiveErrorLimit: number;
}

export interface Conditions {
  success: Expectation | undefined;
  failure: Expectation | undefined;
}

const ask = async (expectation: Expectation, value: number) => (await judge(expectation, { value }, "value", { deadlineMs: 1000, signal: new AbortController().signal })).ok;

/** One measurement's phase from its value, as Argo's EvaluateResult decides it (failure first). */
export async function classify(value: number | undefined, conditions: Conditions): Promise<MeasurementPhase> {
  if (value === undefined || Number.isNaN(value)) return "Error";
  // A canary that errs against a baseline that does not is infinitely worse: above any threshold
  // (the expect language judges finite numbers only, so infinity is the largest finite one here).
  if (!Number.isFinite(value)) value = value > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
  const { success, failure } = conditions;
  if (!success && !failure) return "Successful";
  const failed = failure ? await ask(failure, value) : undefined;
  const succeeded = success ? await ask(success, value) : undefined;
  if (failure && success) return failed ? "Failed" : succeeded ? "Successful" : "Inconclusive";
  if (failure) return failed ? "Failed" : "Successful";
  return succeeded ? "Successful" : "Failed";
}

export interface Tally {
  measurements: number;
  successful: number;
  failed: number;
  inconclusive: number;
  errors: number;
  consecutiveErrors: number;
}

export function emptyTally(): Tally {
  return { measurements: 0, successful: 0, failed: 0, inconclusive: 0, errors: 0, consecutiveErrors: 0 };
}

/** Count one measurement: errors do not count towards `count`, and any other phase ends an error streak. */
export function record(tally: Tally, phase: MeasurementPhase): Tally {
  if (phase === "Error") return { ...tally, errors: tally.errors + 1, consecutiveErrors: tally.consecutiveErrors + 1 };
  return {
    ...tally,
    measurements: tally.measurements + 1,
    successful: tally.successful + (phase === "Successful" ? 1 : 0),
    failed: tally.failed + (phase === "Failed" ? 1 : 0),
    inconclusive: tally.inconclusive + (phase === "Inconclusive" ? 1 : 0),
    consecutiveErrors: 0,
  };
}

/** The analysis phase after a measurement, checked in Argo's order; a later limit wins over an earlier one. */
export function assess(tally: Tally, limits: AnalysisLimits): AnalysisPhase {
  let phase: AnalysisPhase | undefined;
  if (limits.failureLimit >= 0 && tally.failed > limits.failureLimit) phase = "Failed";
  if (tally.inconclusive > limits.inconclusiveLimit) phase = "Inconclusive";
  if (tally.consecutiveErrors > limits.consecutiveErrorLimit) phase = "Error";
  if (phase) return phase;
  return tally.measurements >= limits.count ? "Successful" : "Running";
}

/** How canary and baseline become the one value the conditions judge. */
export type Comparison = "ratio" | "difference";

export function compare(canary: number | undefined, baseline: number | undefined, how: Comparison, hasBaseline: boolean): number | undefined {
  if (canary === undefined || Number.isNaN(canary)) return undefined;
  if (!hasBaseline) return canary;
  if (baseline === undefined || Number.isNaN(baseline)) return undefined;
  if (how === "difference") return canary - baseline;
  // A baseline at 0 (no errors at all) against a canary at 0 is "the same", not NaN.
  if (baseline === 0) return canary === 0 ? 1 : Number.POSITIVE_INFINITY;
  return canary / baseline;
}
