// What a run with a `budget:` gate spends: a probe that aborts the run when the SLO burns faster
// than the experiment allows (maxBurnRate), and the SLI before, during and after the run with the
// share of the error budget its window cost, for the journal.

import type { CompiledExperiment, ProbeSpec } from "../contract/compiled-experiment.js";
import type { ProbeDef } from "../contract/adapter.js";
import { parseExpectation } from "../contract/expect.js";
import type { RunEventBody } from "../contract/events.js";
import { errorMessage } from "../errors.js";
import { PrometheusClient, PrometheusError } from "../prometheus/client.js";
import { budgetConsumed, burnRate } from "../slo/burn.js";
import { evaluateSlo, round } from "../slo/evaluate.js";
import { sloOfExperiment } from "../slo/gate.js";
import { renderQuery, type Slo } from "../slo/model.js";
import { z } from "zod";

/** A burn measured over less than this is mostly noise (and may hold a single scrape). */
const MIN_BURN_WINDOW_MS = 30_000;

async function errorRatioOver(slo: Slo, client: PrometheusClient, windowMs: number, end: Date, signal: AbortSignal): Promise<{ ratio: number | undefined; total: number }> {
  const seconds = Math.max(1, Math.round(windowMs / 1000)) * 1000;
  const value = async (which: "events" | "total") => {
    const result = await client.query(renderQuery(slo.ratio[which], seconds), { signal, time: end });
    if (result.kind === "scalar") return Number.isNaN(result.value) ? 0 : result.value;
    if (result.kind === "vector") return result.series.reduce((sum, s) => sum + (Number.isNaN(s.value) ? 0 : s.value), 0);
    throw new PrometheusError("bad-query", `an SLO query should give a number or a vector; it gives a ${result.kind}`);
  };
  const [events, total] = await Promise.all([value("events"), value("total")]);
  if (total <= 0) return { ratio: undefined, total };
  const ratio = slo.ratio.counts === "bad" ? events / total : 1 - events / total;
  return { ratio: Math.min(1, Math.max(0, ratio)), total };
}

/**
 * A steady-state probe watched during the method only: the SLO's burn rate since the faults began
 * (at least over the last 30 s), judged against `<= maxBurnRate` like any other probe, so the
 * abort rule (abort.after breaches in a row) applies to it too.
 */
export function burnCapProbe(experiment: CompiledExperiment, slo: Slo, methodStartedAt: () => number | undefined): ProbeSpec {
  const budget = experiment.budget!;
  const client = new PrometheusClient(budget.prometheus);
  const probe: ProbeDef = {
    name: "budget-burn",
    description: "The SLO's burn rate since the faults began.",
    params: z.object({}),
    example: {},
    primaryField: "value",
    fields: { value: "burn rate (1 = spending the budget exactly over the SLO's period)", errorRatio: "error ratio in the window", window: "seconds measured" },
    defaultExpect: undefined,
    timeoutOf: () => budget.prometheus.timeout,
    async run(_params, ctx) {
      const since = methodStartedAt();
      const windowMs = Math.max(MIN_BURN_WINDOW_MS, since === undefined ? 0 : Date.now() - since);
      try {
        const { ratio, total } = await errorRatioOver(slo, client, windowMs, new Date(), ctx.signal);
        if (ratio === undefined) return { fields: { window: windowMs / 1000 }, noVerdict: { as: "inconclusive", reason: `no events counted in the last ${Math.round(windowMs / 1000)}s` }, summary: "no events" };
        const burn = burnRate(ratio, slo.objective);
        return { fields: { value: burn, errorRatio: ratio, window: windowMs / 1000, total }, summary: `burning ${round(burn)}× (${round(ratio * 100)}% errors over ${Math.round(windowMs / 1000)}s)` };
      } catch (err) {
        return { fields: {}, error: errorMessage(err), summary: "query failed" };
      }
    },
  };
  return { name: `budget burn of SLO ${slo.name}`, probe, params: {}, expectation: parseExpectation(`<= ${budget.maxBurnRate}`) };
}

export async function loadRunSlo(experiment: CompiledExperiment): Promise<Slo> {
  return sloOfExperiment(experiment);
}

/**
 * After the run: the SLI during the method's window and the budget that window spent (burn rate ×
 * window / period), then the SLO as it stands. Emitted as `budget` events for the journal; a
 * Prometheus that does not answer now only costs a note.
 */
export async function reportRunBudget(experiment: CompiledExperiment, slo: Slo, window: { from: Date; to: Date }, signal: AbortSignal, emit: (event: RunEventBody) => void): Promise<void> {
  const budget = experiment.budget!;
  const client = new PrometheusClient(budget.prometheus);
  const windowMs = Math.max(1000, window.to.getTime() - window.from.getTime());
  try {
    const during = await errorRatioOver(slo, client, windowMs, window.to, signal);
    const after = await evaluateSlo(slo, client, { signal, minRemaining: budget.minRemaining });
    emit({
      type: "budget",
      stage: "during",
      slo: slo.name,
      from: window.from.toISOString(),
      to: window.to.toISOString(),
      sli: during.ratio === undefined ? null : 1 - during.ratio,
      events: during.total,
      spent: during.ratio === undefined ? null : budgetConsumed(during.ratio, slo.objective, windowMs, slo.periodMs),
      remaining: null,
      chaosWindow: budget.chaosWindow,
    });
    emit({
      type: "budget",
      stage: "after",
      slo: slo.name,
      from: null,
      to: new Date().toISOString(),
      sli: after.sli ?? null,
      events: after.total ?? 0,
      spent: null,
      remaining: after.remaining ?? null,
      chaosWindow: budget.chaosWindow,
    });
  } catch (err) {
    emit({ type: "note", message: `could not measure what the run cost SLO ${slo.name}: ${errorMessage(err)}` });
  }
}
