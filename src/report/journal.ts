// The journal: the one record of a run, derived from its events (never mutated along the way).

import { mkdir } from "node:fs/promises";
import { writeOutputFile } from "../util/output-file.js";
import { terminalSafeJson } from "../util/terminal-text.js";
import path from "node:path";
import type { CompiledExperiment } from "../contract/compiled-experiment.js";
import type { CohortCounts, Outcome, RunEvent } from "../contract/events.js";
import { chaoscastVersion } from "../version.js";
import { makeRedactor } from "../contract/redact.js";

export interface JournalFault {
  fault: string;
  action: string;
  target: string | null;
  injectedAt: string | null;
  revertedAt: string | null;
  revert: string | null;
  status: "injected" | "reverted" | "not-reversible" | "failed-to-inject" | "revert-failed";
}

export interface Journal {
  journalVersion: 1;
  chaoscast: string;
  node: string;
  platform: string;
  runId: string;
  file: string;
  title: string;
  seed: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  outcome: Outcome;
  exitCode: number;
  reason: string;
  recovered: boolean | null;
  stillInjected: string[];
  experiment: unknown;
  faults: JournalFault[];
  observations: number;
  breaches: number;
  /** With a budget gate: the SLO before, during and after the run, and the budget the run spent. */
  budget: JournalBudget | null;
  /** With cohorts: the verdict, and both cohorts' starts at every look, side by side. */
  cohorts: JournalCohorts | null;
  /** Every preflight gate's verdict, in order. */
  gates: { gate: string; status: string; detail: string }[];
  events: RunEvent[];
}

export type JournalCohorts = Omit<Extract<RunEvent, { type: "cohort-verdict" }>, "type" | "at" | "t"> & {
  /** Each look at the cohorts, in order (`looks` is how many the method had planned). */
  series: { t: number; experiment: CohortCounts; control: CohortCounts; pValue: number | null; state: string }[];
};

export interface JournalBudget {
  slo: string;
  /** charged: the run's window counts against the SLO; excluded: `chaoscast budget --exclude-chaos` leaves it out. */
  chaosWindow: "charged" | "excluded";
  /** The method's window, the one a budget that excludes chaos leaves out. */
  window: { from: string; to: string } | null;
  before: { sli: number | null; remaining: number | null } | null;
  during: { sli: number | null; events: number } | null;
  after: { sli: number | null; remaining: number | null } | null;
  /** Share of the SLO period's error budget the method's window spent (0.02 = 2%). */
  spent: number | null;
}

/** What a journal needs of the experiment: the display copy, and the secrets to scrub from it. */
export type JournaledExperiment = Pick<CompiledExperiment, "display" | "secrets">;

export function buildJournal(experiment: JournaledExperiment, events: readonly RunEvent[]): Journal {
  const started = events.find((e) => e.type === "run-started");
  const finished = events.find((e) => e.type === "run-finished");
  if (started?.type !== "run-started" || !finished || finished.type !== "run-finished") {
    throw new Error("a journal needs a run-started and a run-finished event");
  }
  const faults: JournalFault[] = [];
  const key = (fault: string, target: { id: string } | null) => `${fault}\u0000${target?.id ?? ""}`;
  const byKey = new Map<string, JournalFault>();
  for (const e of events) {
    if (e.type === "fault-injected" || e.type === "fault-failed") {
      const entry: JournalFault = {
        fault: e.fault,
        action: e.action,
        target: e.target?.label ?? null,
        injectedAt: e.type === "fault-injected" ? e.at : null,
        revertedAt: null,
        revert: e.type === "fault-injected" ? e.revert : null,
        status: e.type === "fault-failed" ? "failed-to-inject" : e.revert === null ? "not-reversible" : "injected",
      };
      faults.push(entry);
      byKey.set(key(e.fault, e.target), entry);
    } else if (e.type === "fault-reverted") {
      const entry = byKey.get(key(e.fault, e.target));
      if (entry) {
        entry.revertedAt = e.at;
        if (entry.status !== "failed-to-inject") entry.status = "reverted";
      }
    } else if (e.type === "revert-failed") {
      const entry = byKey.get(key(e.fault, e.target));
      if (entry) entry.status = "revert-failed";
    }
  }
  return {
    journalVersion: 1,
    chaoscast: chaoscastVersion(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    runId: started.runId,
    file: started.file,
    title: started.title,
    seed: started.seed,
    startedAt: started.at,
    finishedAt: finished.at,
    durationMs: finished.t,
    outcome: finished.outcome,
    exitCode: finished.exitCode,
    reason: finished.reason,
    recovered: finished.recovered,
    stillInjected: finished.stillInjected,
    // The display keeps secrets as placeholders; scrub anyway, in case a value found its way in.
    experiment: makeRedactor(experiment.secrets)(experiment.display),
    faults,
    observations: events.filter((e) => e.type === "observation").length,
    breaches: events.filter((e) => e.type === "breach").length,
    budget: journalBudget(events),
    cohorts: journalCohorts(events),
    gates: events.flatMap((e) => (e.type === "gate" ? [{ gate: e.gate, status: e.status, detail: e.detail }] : [])),
    events: [...events],
  };
}

function journalCohorts(events: readonly RunEvent[]): JournalCohorts | null {
  const verdict = events.findLast((e) => e.type === "cohort-verdict");
  if (verdict?.type !== "cohort-verdict") return null;
  const { type: _type, at: _at, t: _t, ...rest } = verdict;
  const series = events.flatMap((e) => (e.type === "cohort" ? [{ t: e.t, experiment: e.experiment, control: e.control, pValue: e.pValue, state: e.state }] : []));
  return { ...rest, series };
}

function journalBudget(events: readonly RunEvent[]): JournalBudget | null {
  const stages = events.flatMap((e) => (e.type === "budget" ? [e] : []));
  if (stages.length === 0) return null;
  const at = (stage: "before" | "during" | "after") => stages.find((e) => e.stage === stage);
  const before = at("before");
  const during = at("during");
  const after = at("after");
  return {
    slo: stages[0]!.slo,
    chaosWindow: stages[0]!.chaosWindow,
    window: during?.from && during.to ? { from: during.from, to: during.to } : null,
    before: before ? { sli: before.sli, remaining: before.remaining } : null,
    during: during ? { sli: during.sli, events: during.events } : null,
    after: after ? { sli: after.sli, remaining: after.remaining } : null,
    spent: during?.spent ?? null,
  };
}

/**
 * Write a journal: a regular file atomically (so a reader never sees half a journal, and a planted
 * link cannot redirect it), a FIFO or device (/dev/stdout, a collector's pipe) as a stream.
 */
export async function writeJournal(file: string, journal: Journal): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  // Terminal-safe: a journal may be written to /dev/stdout or `cat` to a terminal.
  await writeOutputFile(file, `${terminalSafeJson(journal, 2)}\n`);
}
