// What the reports say about one run, read from its events alone: when the method ran, how long the
// abort took, how long the system took to heal. Journals of older versions lack some events; every
// figure is null when the events to compute it are missing.

import { formatDuration } from "../contract/duration.js";
import type { HypothesisLine, RunEvent } from "../contract/events.js";

type Of<T extends RunEvent["type"]> = Extract<RunEvent, { type: T }>;

export interface RunFacts {
  /** Milliseconds since the run started. */
  method: { from: number; to: number; plannedMs: number } | null;
  /** The first failing, counted observation of the streak that tripped the abort. */
  firstBreachT: number | null;
  abortT: number | null;
  /** When the rollback phase ended. */
  rolledBackT: number | null;
  /** Abort latency: from that first failing observation to every fault reverted. */
  abortLatencyMs: number | null;
  /** From the first failing observation to the abort decision. */
  detectionMs: number | null;
  /** From the abort decision to the end of the rollback. */
  rollbackMs: number | null;
  /** From the end of the rollback to the steady state seen again; null when it did not return. */
  timeToRecoveryMs: number | null;
  hypothesis: HypothesisLine[];
  intervalMs: number | null;
}

export function runFacts(events: readonly RunEvent[]): RunFacts {
  const started = first(events, "run-started");
  const methodStart = events.find((e): e is Of<"phase-started"> => e.type === "phase-started" && e.phase === "method");
  const methodEnd = events.find((e): e is Of<"phase-finished"> => e.type === "phase-finished" && e.phase === "method");
  const rollbackEnd = events.find((e): e is Of<"phase-finished"> => e.type === "phase-finished" && e.phase === "rollback");
  const recoveryEnd = events.find((e): e is Of<"phase-finished"> => e.type === "phase-finished" && e.phase === "recovery");
  const abort = first(events, "abort");
  const firstBreachT = abort ? streakStart(events, abort.t) : null;
  const method = methodStart && started ? { from: methodStart.t, to: methodEnd?.t ?? methodStart.t, plannedMs: started.methodMs } : null;
  const rolledBackT = rollbackEnd?.t ?? null;
  return {
    method,
    firstBreachT,
    abortT: abort?.t ?? null,
    rolledBackT,
    abortLatencyMs: firstBreachT !== null && rolledBackT !== null ? rolledBackT - firstBreachT : null,
    detectionMs: firstBreachT !== null && abort ? abort.t - firstBreachT : null,
    rollbackMs: abort && rolledBackT !== null ? rolledBackT - abort.t : null,
    timeToRecoveryMs: recoveryEnd?.ok && rolledBackT !== null ? recoveryEnd.t - rolledBackT : null,
    hypothesis: started?.hypothesis ?? [],
    intervalMs: started?.intervalMs ?? null,
  };
}

/** When the breach streak that ended in the abort at `abortT` began: its first failing, counted observation. */
function streakStart(events: readonly RunEvent[], abortT: number): number | null {
  const breaches = events.filter((e): e is Of<"breach"> => e.type === "breach" && e.t <= abortT);
  const last = breaches.at(-1);
  if (!last) {
    // An abort without breaches (a fault failed to inject, an interrupt): the abort itself.
    return abortT;
  }
  const streakFirst = breaches[breaches.length - last.consecutive] ?? breaches[0]!;
  // The breach event follows its round's observations: the round's first failing one is where it began.
  const round = events.filter((e): e is Of<"observation"> => e.type === "observation" && e.phase === "method" && !e.ok && e.counted && e.t <= streakFirst.t);
  return round.at(-1)?.t ?? streakFirst.t;
}

function first<T extends RunEvent["type"]>(events: readonly RunEvent[], type: T): Of<T> | undefined {
  return events.find((e): e is Of<T> => e.type === type);
}

/** A duration as every chaoscast output writes it (contract/duration), or "–" when unknown. */
export function humanMs(ms: number | null): string {
  return ms === null ? "–" : formatDuration(Math.round(ms));
}

/** The run's cohort verdict, said in one line with its test, or null for a run without cohorts. */
export function cohortVerdictText(events: readonly RunEvent[]): string | null {
  const verdict = events.findLast((e): e is Of<"cohort-verdict"> => e.type === "cohort-verdict");
  if (!verdict) return null;
  return `${verdict.verdict}: ${verdict.detail} (${verdict.test}; alpha ${verdict.alpha} over ${verdict.looks} look(s))`;
}
