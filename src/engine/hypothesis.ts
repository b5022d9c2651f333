// Running the steady-state probes: all at once, each bounded by its timeout (and, during the
// method, by the abort interval), each observation judged against its expectation.

import { judge, type Expectation } from "../contract/expect.js";
import type { HypothesisLine, Phase, RunEventBody } from "../contract/events.js";
import type { ProbeSpec } from "../contract/compiled-experiment.js";
import { lookup } from "../contract/expect.js";
import { combinedSignal } from "../util/abortable.js";
import type { Observation } from "../contract/adapter.js";

export interface ProbeResult {
  spec: ProbeSpec;
  observation: Observation;
  /** False for a breach. True for a pass, and for an inconclusive observation (not a breach either). */
  ok: boolean;
  /** Why the probe could not tell (no data, and the user said that is inconclusive). */
  inconclusive?: string;
  failures: string[];
  durationMs: number;
}

export interface CheckResult {
  /** Every probe passed, conclusively. */
  ok: boolean;
  results: ProbeResult[];
}

/** Time regex matching always gets (unless the probe's whole timeout is shorter). */
const MIN_MATCH_MS = 250;

export async function runProbe(spec: ProbeSpec, signal: AbortSignal, capMs?: number): Promise<ProbeResult> {
  const ownTimeout = spec.probe.timeoutOf(spec.params);
  const timeoutMs = capMs === undefined ? ownTimeout : Math.min(ownTimeout, capMs);
  const probeSignal = combinedSignal([signal], timeoutMs);
  const started = performance.now();
  let observation: Observation;
  try {
    // Probes honour the signal; the race is a backstop so one misbehaving probe cannot stall the run.
    observation = await Promise.race([
      spec.probe.run(spec.params, {
        signal: probeSignal,
        timeoutMs,
        judgeFields: async (fields) => (await judge(spec.expectation, fields, spec.probe.primaryField, { deadlineMs: timeoutMs, signal: probeSignal })).ok,
      }),
      new Promise<Observation>((resolve) => {
        const fire = () => resolve({ fields: {}, error: signal.aborted ? "cancelled" : `no answer within ${timeoutMs}ms`, summary: "timeout" });
        if (probeSignal.aborted) fire();
        else probeSignal.addEventListener("abort", () => setTimeout(fire, 50), { once: true });
      }),
    ]);
  } catch (err) {
    observation = { fields: {}, error: `probe failed: ${(err as Error).message}`, summary: "probe failed" };
  }
  const durationMs = Math.round(performance.now() - started);
  // When the abort interval, not the probe's own timeout, cut it off, say which limit applied.
  if (observation.error !== undefined && capMs !== undefined && capMs < ownTimeout && !signal.aborted && /timed out|no answer/.test(observation.error)) {
    observation = { ...observation, error: `no answer within one abort interval (${capMs}ms)`, summary: "no answer in time" };
  }
  // The probe's timeout bounds judging too: a slow regex match gets what the probe left of it, but
  // never so little that an ordinary large body could not be matched.
  const deadlineMs = Math.max(timeoutMs - durationMs, Math.min(timeoutMs, MIN_MATCH_MS));
  return judgeObservation(spec, observation, durationMs, { deadlineMs, signal });
}

/** An observation judged against the probe's expectation (also for observations an in-band probe pushed). */
export async function judgeObservation(spec: ProbeSpec, observation: Observation, durationMs: number, limits: { deadlineMs: number; signal: AbortSignal }): Promise<ProbeResult> {
  if (observation.noVerdict?.as === "pass") return { spec, observation, ok: true, failures: [], durationMs };
  if (observation.noVerdict?.as === "inconclusive") return { spec, observation, ok: true, inconclusive: observation.noVerdict.reason, failures: [], durationMs };
  if (observation.error !== undefined) return { spec, observation, ok: false, failures: [observation.error], durationMs };
  const verdict = await judge(spec.expectation, observation.fields, spec.probe.primaryField, limits);
  return { spec, observation, ok: verdict.ok, failures: verdict.failures, durationMs };
}

/** Run every probe; `known` supplies results already in hand (an in-band probe's latest push), which are not polled again. */
export async function checkHypothesis(probes: readonly ProbeSpec[], signal: AbortSignal, capMs?: number, known?: (spec: ProbeSpec) => ProbeResult | undefined): Promise<CheckResult> {
  const results = await Promise.all(probes.map((spec) => known?.(spec) ?? runProbe(spec, signal, capMs)));
  return { ok: results.every((r) => r.ok && r.inconclusive === undefined), results };
}

/** The probe's main value, for status lines and the journal (never the whole body). */
export function primaryValue(result: ProbeResult): unknown {
  const value = lookup(result.observation.fields, result.spec.probe.primaryField);
  return typeof value === "object" ? undefined : value;
}

/** Each probe of the hypothesis as the run-started event announces it (for timelines and reports). */
export function describeHypothesis(specs: readonly ProbeSpec[]): HypothesisLine[] {
  return specs.map((spec) => {
    const { metric, bound } = plottedField(spec);
    return { name: spec.name, probe: spec.probe.name, expect: expectationSource(spec.expectation), metric, bound };
  });
}

/** The value a timeline plots for this result: the hypothesis line's metric, when it is a number. */
export function metricValue(result: ProbeResult): number | undefined {
  const value = lookup(result.observation.fields, plottedField(result.spec).metric);
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function plottedField(spec: ProbeSpec): Pick<HypothesisLine, "metric" | "bound"> {
  const primary = spec.probe.primaryField;
  const e = spec.expectation;
  if (e.kind !== "fields") return { metric: primary, bound: numericBound(e) };
  const primaryBound = e.fields[primary] ? numericBound(e.fields[primary]) : null;
  if (primaryBound) return { metric: primary, bound: primaryBound };
  // An http probe's primary field is the status; its latency bound is what a chart should show.
  for (const [field, expectation] of Object.entries(e.fields)) {
    const bound = numericBound(expectation);
    if (bound) return { metric: field, bound };
  }
  return { metric: primary, bound: null };
}

function numericBound(e: Expectation): HypothesisLine["bound"] {
  if (e.kind === "compare") return { op: e.op, value: e.value };
  if (e.kind === "range") return { min: e.min, max: e.max };
  return null;
}

function expectationSource(e: Expectation): string {
  if (e.kind === "fields") return Object.entries(e.fields).map(([field, inner]) => `${field}: ${expectationSource(inner)}`).join(", ");
  return e.source;
}

/** The observation event for one probe's result; `counted` is false for a breach inside a grace period. */
export function observationEvent(phase: Phase, r: ProbeResult, counted: boolean): RunEventBody {
  const metric = metricValue(r);
  return {
    type: "observation",
    phase,
    probe: r.spec.name,
    ok: r.ok,
    counted,
    summary: r.observation.summary,
    failures: r.failures,
    value: primaryValue(r),
    ...(metric !== undefined ? { metric } : {}),
    ...(r.inconclusive !== undefined ? { inconclusive: r.inconclusive } : {}),
    durationMs: r.durationMs,
  };
}
