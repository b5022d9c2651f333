// Running the steady-state probes: all at once, each bounded by its timeout (and, during the
// method, by the abort interval), each observation judged against its expectation.

import { judge } from "../contract/expect.js";
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
  if (observation.noVerdict?.as === "pass") return { spec, observation, ok: true, failures: [], durationMs };
  if (observation.noVerdict?.as === "inconclusive") return { spec, observation, ok: true, inconclusive: observation.noVerdict.reason, failures: [], durationMs };
  if (observation.error !== undefined) return { spec, observation, ok: false, failures: [observation.error], durationMs };
  // The probe's timeout bounds judging too: a slow regex match gets what the probe left of it, but
  // never so little that an ordinary large body could not be matched.
  const deadlineMs = Math.max(timeoutMs - durationMs, Math.min(timeoutMs, MIN_MATCH_MS));
  const verdict = await judge(spec.expectation, observation.fields, spec.probe.primaryField, { deadlineMs, signal });
  return { spec, observation, ok: verdict.ok, failures: verdict.failures, durationMs };
}

export async function checkHypothesis(probes: readonly ProbeSpec[], signal: AbortSignal, capMs?: number): Promise<CheckResult> {
  const results = await Promise.all(probes.map((spec) => runProbe(spec, signal, capMs)));
  return { ok: results.every((r) => r.ok && r.inconclusive === undefined), results };
}

/** The probe's main value, for status lines and the journal (never the whole body). */
export function primaryValue(result: ProbeResult): unknown {
  const value = lookup(result.observation.fields, result.spec.probe.primaryField);
  return typeof value === "object" ? undefined : value;
}
