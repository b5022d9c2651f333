// The cohort verdict during the method: the cohorts' start counters are read once before the first
// injection (the baseline) and once per abort interval after it; each look compares the starts
// counted since the baseline, and a divergence aborts the run as a breach would.

import type { CohortSpec, CounterReader } from "../contract/compiled-experiment.js";
import type { CohortCounts, RunEventBody } from "../contract/events.js";
import { combinedSignal, sleep } from "../util/abortable.js";
import { errorMessage } from "../errors.js";
import { formatP } from "../contract/p-value.js";
import { judgeCohorts, rateDifference, type CohortJudgement } from "./cohort-stats.js";

type Cohort = "experiment" | "control";
type Totals = Record<Cohort, { good: number; total: number }>;

export const COHORT_TEST = "Fisher's exact test, one-sided (experiment worse than control)";

async function readCounter(reader: CounterReader, signal: AbortSignal): Promise<number> {
  const timeoutMs = reader.probe.timeoutOf(reader.params);
  const observation = await reader.probe.run(reader.params, { signal: combinedSignal([signal], timeoutMs), timeoutMs });
  if (observation.error !== undefined) throw new Error(observation.error);
  const value = observation.fields.value;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) throw new Error(`a counter read ${String(value)}, not a count`);
  return value;
}

/**
 * One cohort's counters: good first, then total. A start is counted in total no later than in good,
 * so read in this order total can never be behind good; if it is, the counters are not what their
 * names say (swapped, or not counting the same starts).
 */
async function readCohort(counters: CohortSpec["counters"]["experiment"], cohort: Cohort, signal: AbortSignal): Promise<{ good: number; total: number }> {
  const good = Math.round(await readCounter(counters.good, signal));
  const total = Math.round(await readCounter(counters.total, signal));
  if (good > total) throw new Error(`the ${cohort} cohort counts more good starts (${good}) than starts (${total}): are good and total swapped?`);
  return { good, total };
}

async function readTotals(spec: CohortSpec, signal: AbortSignal): Promise<Totals> {
  const [experiment, control] = await Promise.all([readCohort(spec.counters.experiment, "experiment", signal), readCohort(spec.counters.control, "control", signal)]);
  return { experiment, control };
}

/** Counted since the baseline; a counter that went down was reset (a restart) and counts from zero. */
function since(base: number, now: number): number {
  return now >= base ? now - base : now;
}

export class CohortComparison {
  private baseline: Totals | undefined;
  private last: CohortJudgement | undefined;
  private detectedAt: CohortJudgement | undefined;
  readonly looks: number;
  readonly alphaPerLook: number;

  constructor(
    private readonly spec: CohortSpec,
    methodMs: number,
    intervalMs: number,
  ) {
    this.looks = Math.max(1, Math.ceil(methodMs / intervalMs));
    this.alphaPerLook = spec.alpha / this.looks;
  }

  /** The counters before any fault: what every later look counts from. */
  async start(signal: AbortSignal): Promise<void> {
    this.baseline = await readTotals(this.spec, signal);
  }

  async look(signal: AbortSignal): Promise<CohortJudgement> {
    if (!this.baseline) throw new Error("the cohorts were looked at before their baseline was read");
    const now = await readTotals(this.spec, signal);
    const counts = (cohort: Cohort): CohortCounts => {
      const starts = since(this.baseline![cohort].total, now[cohort].total);
      // Good starts can never outnumber starts; a scrape between two increments could say so.
      return { starts, good: Math.min(starts, since(this.baseline![cohort].good, now[cohort].good)) };
    };
    const judged = judgeCohorts(counts("experiment"), counts("control"), { alphaPerLook: this.alphaPerLook, minStarts: this.spec.minStarts });
    this.last = judged;
    if (judged.state === "diverged") this.detectedAt ??= judged;
    return judged;
  }

  event(j: CohortJudgement): RunEventBody {
    return { type: "cohort", experiment: j.experiment, control: j.control, pValue: j.pValue, threshold: this.alphaPerLook, state: j.state };
  }

  /** Why the run aborts: the cohorts as they were at the look that saw them diverge. */
  divergence(j: CohortJudgement): string {
    return `the experiment cohort diverged from control: ${describeCounts(j)}, p = ${formatP(j.pValue!)} < ${formatP(this.alphaPerLook)} (${COHORT_TEST})`;
  }

  verdict(): Extract<RunEventBody, { type: "cohort-verdict" }> {
    const j = this.detectedAt ?? this.last;
    const zero = { starts: 0, good: 0 };
    const base = {
      type: "cohort-verdict" as const,
      experiment: j?.experiment ?? zero,
      control: j?.control ?? zero,
      pValue: j?.pValue ?? null,
      test: COHORT_TEST,
      alpha: this.spec.alpha,
      looks: this.looks,
    };
    const effect = j && j.experiment.starts > 0 && j.control.starts > 0 ? rateDifference(j.experiment, j.control) : undefined;
    const size = effect ? { difference: effect.difference, low: effect.low, high: effect.high } : { difference: null, low: null, high: null };
    const effectText = effect ? `; difference ${formatRate(effect.difference)} (95% interval ${formatRate(effect.low)} to ${formatRate(effect.high)})` : "";
    if (this.detectedAt) {
      const failed = this.detectedAt.experiment.starts - this.detectedAt.experiment.good;
      return { ...base, ...size, verdict: "diverged", failedBeforeDetection: failed, detail: `diverged after ${failed} failed start(s) in the experiment cohort: ${describeCounts(this.detectedAt)}${effectText}` };
    }
    if (!j || j.pValue === null) {
      const counted = j ? `${j.experiment.starts} experiment and ${j.control.starts} control start(s)` : "no start";
      return {
        ...base,
        ...size,
        verdict: "inconclusive",
        failedBeforeDetection: null,
        detail: `too few starts to compare: ${counted} counted, ${this.spec.minStarts} needed in each (is ${this.spec.measure} labelled with the cohort header?)`,
      };
    }
    return { ...base, ...size, verdict: "no-difference", failedBeforeDetection: null, detail: `no difference: ${describeCounts(j)}, p = ${formatP(j.pValue)}${effectText}` };
  }
}

/** The cohort verdict as `plan` states it before anything runs. */
export function describeCohorts(spec: CohortSpec, methodMs: number, intervalMs: number): string {
  const comparison = new CohortComparison(spec, methodMs, intervalMs);
  return `experiment and control cohorts of ${spec.sizePercent}% of viewers each, split and tagged on ${spec.split}; the faults reach the experiment cohort only; ${spec.measure} compared with ${COHORT_TEST}, alpha ${spec.alpha} over ${comparison.looks} look(s) (each aborts below p = ${formatP(comparison.alphaPerLook)}) once each cohort has ${spec.minStarts} starts`;
}

function describeCounts(j: CohortJudgement): string {
  const one = (c: CohortCounts) => `${c.good}/${c.starts} good`;
  return `experiment ${one(j.experiment)}, control ${one(j.control)}`;
}

function formatRate(r: number): string {
  return `${(r * 100).toFixed(1)} pt`;
}

/**
 * Looks at the cohorts once per abort interval until the method stops. A divergence aborts the
 * run; so do `after` readings in a row that fail, since the comparison is then blind.
 */
export async function watchCohorts(
  comparison: CohortComparison,
  options: { intervalMs: number; after: number; stop: AbortSignal; emit: (event: RunEventBody) => void; abort: (reason: string) => void },
): Promise<void> {
  let failures = 0;
  let next = performance.now() + options.intervalMs;
  while (!options.stop.aborted) {
    await sleep(next - performance.now(), options.stop);
    if (options.stop.aborted) return;
    next = Math.max(next + options.intervalMs, performance.now());
    try {
      const judged = await comparison.look(combinedSignal([options.stop], Math.max(options.intervalMs, 1000)));
      if (options.stop.aborted) return;
      failures = 0;
      options.emit(comparison.event(judged));
      if (judged.state === "diverged") return options.abort(comparison.divergence(judged));
    } catch (err) {
      if (options.stop.aborted) return;
      failures += 1;
      options.emit({ type: "note", message: `the cohorts' starts could not be read (${errorMessage(err)})` });
      if (failures >= options.after) return options.abort(`the cohorts' starts could not be read ${failures} time(s) in a row (${errorMessage(err)})`);
    }
  }
}
