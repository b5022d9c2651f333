// The error budget as a preflight gate of an experiment (`budget:`): the run goes ahead only while
// its SLO has budget to spend; no answer (Prometheus down, no data) skips it, since a run that
// cannot be charged cannot be judged either.

import type { CompiledExperiment } from "../contract/compiled-experiment.js";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { ChaoscastError, ExperimentError, type Problem } from "../errors.js";
import { looksLikeSloFile } from "../experiment/loader.js";
import { displayPath } from "../util/display-path.js";
import { PrometheusClient } from "../prometheus/client.js";
import { evaluateSlo, formatShare, type SloReport } from "./evaluate.js";
import { loadSloFile, pickSlo } from "./file.js";
import type { Slo } from "./model.js";

export async function sloOfExperiment(experiment: CompiledExperiment): Promise<Slo> {
  const { slo } = experiment.budget!;
  const named = { file: displayPath(experiment.file), ...slo.writtenAt, path: "budget.slo" };
  if ("file" in slo) {
    try {
      return pickSlo(await loadSloFile(slo.file), slo.name, displayPath(slo.file));
    } catch (err) {
      // Say where the experiment names the file too: the fix may be in either.
      if (err instanceof ExperimentError) throw new ExperimentError([...err.problems, { ...named, message: `the SLO of the budget gate (${displayPath(slo.file)}${slo.name ? `#${slo.name}` : ""}) is named here` }]);
      throw err;
    }
  }
  return findSloByName(slo.near, slo.name, named);
}

/** The folders a bare SLO name is looked for in: the experiment's own, and its slos/ and slo/. */
const SLO_FOLDERS = [".", "slos", "slo"];

/**
 * An SLO named alone (budget: { slo: playback-start }) is looked for in the SLO files next to the
 * experiment, and in its slos/ and slo/ folders. Exactly one must match.
 */
async function findSloByName(near: string, name: string, named: Omit<Problem, "message">): Promise<Slo> {
  const found: { slo: Slo; file: string }[] = [];
  const searched: string[] = [];
  for (const folder of SLO_FOLDERS) {
    const dir = path.join(near, folder);
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isFile() || !/\.(ya?ml|json)$/i.test(entry.name)) continue;
      const file = path.join(dir, entry.name);
      if (!(await looksLikeSloFile(file))) continue;
      searched.push(displayPath(file));
      for (const slo of await loadSloFile(file)) if (slo.name === name) found.push({ slo, file });
    }
  }
  const where = `${SLO_FOLDERS.map((f) => (f === "." ? "next to the experiment" : `${f}/`)).join(", ")}`;
  if (found.length === 1) return found[0]!.slo;
  const message =
    found.length === 0
      ? `no SLO named "${name}" in the SLO files ${where} (${searched.length ? searched.join(", ") : "there are none"}); name the file instead, e.g. slos/${name}.yaml`
      : `${found.length} SLOs are named "${name}" (${found.map((f) => displayPath(f.file)).join(", ")}); name the file: FILE#${name}`;
  throw new ExperimentError([{ ...named, message }]);
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

