// The error budget as a preflight gate of an experiment (`budget:`): the run goes ahead only while
// its SLO has budget to spend; no answer (Prometheus down, no data) skips it, since a run that
// cannot be charged cannot be judged either.

import type { CompiledExperiment } from "../contract/compiled-experiment.js";
import { ChaoscastError } from "../errors.js";
import { displayPath } from "../util/display-path.js";
import { PrometheusClient } from "../prometheus/client.js";
import { evaluateSlo, formatShare, type SloReport } from "./evaluate.js";
import { loadSloFile, pickSlo } from "./file.js";
import type { Slo } from "./model.js";

export async function sloOfExperiment(experiment: CompiledExperiment): Promise<Slo> {
  const budget = experiment.budget!;
  return pickSlo(await loadSloFile(budget.sloFile), budget.sloName, displayPath(budget.sloFile));
}

export function summarise(report: SloReport): string {
  if (report.sli === undefined || report.remaining === undefined) return `SLO ${report.name}: ${report.reasons.join("; ")}`;
  return `SLO ${report.name}: SLI ${formatShare(report.sli)} against ${formatShare(report.objective)}, ${formatShare(report.remaining)} of the error budget left`;
}

/** The budget gate for engine/preflight: passed when the SLO has budget above the experiment's minimum. */
export async function budgetGateCheck(
  experiment: CompiledExperiment,
  signal: AbortSignal,
): Promise<{ status: "passed" | "failed"; detail: string; measured?: { slo: string; sli: number | undefined; remaining: number | undefined; events: number | undefined } }> {
  const budget = experiment.budget!;
  let slo: Slo;
  try {
    slo = await sloOfExperiment(experiment);
  } catch (err) {
    return { status: "failed", detail: err instanceof ChaoscastError ? err.userMessage() : (err as Error).message };
  }
  const report = await evaluateSlo(slo, new PrometheusClient(budget.prometheus), { signal, minRemaining: budget.minRemaining });
  const measured = { slo: report.name, sli: report.sli, remaining: report.remaining, events: report.total };
  if (report.verdict === "go") return { status: "passed", detail: `${summarise(report)} (minimum ${formatShare(budget.minRemaining)})`, measured };
  if (report.verdict === "inconclusive") return { status: "failed", detail: `cannot tell how much error budget is left, so nothing is spent: ${report.reasons.join("; ")}`, measured };
  return { status: "failed", detail: `${summarise(report)}: ${report.reasons.join("; ")}`, measured };
}

