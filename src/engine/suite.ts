// A suite: several experiments run one after another, every event handed to the reporters, the
// journals and outcomes returned. The batch stops early when a fault is left injected, on an
// interrupt, on a bug in chaoscast, and (with failFast) after the first run that did not pass.

import type { CompiledExperiment } from "../contract/compiled-experiment.js";
import type { Outcome } from "../contract/events.js";
import { makeRedactor } from "../contract/redact.js";
import { buildJournal } from "../report/journal.js";
import { ReporterFanout, type FinishedRun, type Reporter, type ReporterFailure, type SuiteResult, type UnrunExperiment } from "../report/reporter.js";
import { OUTCOME_EXIT, worstOutcome } from "./outcome.js";
import { runExperiment, type RunOptions } from "./runner.js";
import type { RunEvent } from "../contract/events.js";

/** Outcomes after which --fail-fast stops the suite: the hypothesis or the policy said no. */
export const FAIL_FAST_OUTCOMES: readonly Outcome[] = ["deviated", "aborted", "unrecovered", "rollback-failed", "refused"];

export interface SuiteOptions {
  reporters: readonly Reporter[];
  /** Told of a reporter that failed; the suite goes on. */
  reporterFailed: ReporterFailure;
  interrupt: AbortSignal;
  failFast?: boolean;
  /** A fresh run id for an experiment (its title has already had secrets scrubbed). */
  runIdFor: (title: string) => string;
  /** Where the run's journal goes, for the reporters to name; null when none is kept. */
  journalFileFor: (runId: string) => string | null;
  /** Everything else runExperiment needs, per experiment. */
  runOptions: (experiment: CompiledExperiment, runId: string) => Omit<RunOptions, "runId" | "sink" | "interrupt">;
}

export interface SuiteOutcome extends SuiteResult {
  /** A bug in chaoscast during a run (everything was rolled back first); the suite stopped there. */
  internalError?: unknown;
}

export async function runSuite(experiments: readonly CompiledExperiment[], options: SuiteOptions): Promise<SuiteOutcome> {
  const fanout = new ReporterFanout(options.reporters, options.reporterFailed);
  const startedAt = new Date().toISOString();
  const runs: FinishedRun[] = [];
  const notRun: UnrunExperiment[] = [];
  let internalError: unknown;
  let stopReason: string | undefined;
  await fanout.suiteStarted(experiments.map((e) => ({ file: e.file, title: titleOf(e) })));
  for (const experiment of experiments) {
    if (stopReason === undefined && options.interrupt.aborted) stopReason = "interrupted";
    if (stopReason !== undefined) {
      notRun.push({ file: experiment.file, title: titleOf(experiment), reason: stopReason });
      continue;
    }
    const runId = options.runIdFor(titleOf(experiment));
    const events: RunEvent[] = [];
    const result = await runExperiment(experiment, {
      ...options.runOptions(experiment, runId),
      runId,
      interrupt: options.interrupt,
      sink: (event) => {
        events.push(event);
        fanout.event(event);
      },
    });
    const run: FinishedRun = { journal: buildJournal(experiment, events), journalFile: options.journalFileFor(runId) };
    runs.push(run);
    await fanout.runFinished(run);
    if (result.internalError !== undefined) {
      internalError = result.internalError;
      stopReason = "chaoscast hit an internal error in an earlier run";
    } else if (result.outcome === "rollback-failed") stopReason = "an earlier run left a fault injected";
    else if (options.failFast && FAIL_FAST_OUTCOMES.includes(result.outcome)) stopReason = `--fail-fast: "${titleOf(experiment)}" ended ${result.outcome}`;
  }
  const outcome = worstOutcome(runs.map((r) => r.journal.outcome));
  const suite: SuiteOutcome = { startedAt, finishedAt: new Date().toISOString(), runs, notRun, outcome, exitCode: OUTCOME_EXIT[outcome], ...(internalError !== undefined ? { internalError } : {}) };
  await fanout.suiteFinished(suite);
  return suite;
}

/** The title as reports show it: a substituted secret never reaches a file name or a report. */
function titleOf(experiment: CompiledExperiment): string {
  return makeRedactor(experiment.secrets)(experiment.title);
}
