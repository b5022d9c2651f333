// The resilience score: one number per run (and per suite) that a person can recompute by hand.
//
// A run's score is 100 × H × R. H is the share of the method's planned length during which the whole
// steady-state hypothesis held: every probe's latest answer was within its bounds. An answer inside
// a fault's grace period counts as held; "no data" (inconclusive) counts as not held; the time an
// abort cut off the method counts as not held. R is 1 when the steady state returned within
// recovery.timeout and ½ when it did not. A fault left injected scores 0. Runs that injected nothing
// (skipped, refused, dry run), that were interrupted, or that declare no steady state get no score.
// A suite's score is the mean of its runs' scores. docs/reports.md says the same in prose.

import type { RunEvent } from "../contract/events.js";
import type { Journal } from "./journal.js";

type Observation = Extract<RunEvent, { type: "observation" }>;

export interface RunScore {
  /** 0–100, or null when the run cannot be scored (see `why`). */
  score: number | null;
  /** H: the share of the method's planned length the hypothesis held (0–1). */
  held: number | null;
  why: string;
}

export function scoreRun(journal: Pick<Journal, "outcome" | "recovered" | "events">): RunScore {
  const { outcome, recovered, events } = journal;
  if (outcome === "skipped" || outcome === "refused" || outcome === "dry-run") return { score: null, held: null, why: "nothing was injected" };
  if (outcome === "rollback-failed") return { score: 0, held: null, why: "a fault could not be reverted" };
  const started = events.find((e) => e.type === "run-started");
  if (started?.type === "run-started" && started.probes === 0) return { score: null, held: null, why: "no steady state was declared" };
  // An interrupt or a bug ends a run with no verdict on recovery: it says nothing about the system.
  if (recovered === null) return { score: null, held: null, why: "the run was interrupted" };
  const held = heldShare(events);
  if (held === null) return { score: null, held: null, why: "the method never started" };
  const score = Math.round(100 * held * (recovered ? 1 : 0.5));
  const parts = [`hypothesis held ${(held * 100).toFixed(1)}% of the method`, recovered ? "steady state returned" : "steady state did not return (halved)"];
  return { score, held, why: parts.join("; ") };
}

/** H: time-weighted share of the planned method during which every probe's latest answer held. */
export function heldShare(events: readonly RunEvent[]): number | null {
  const started = events.find((e) => e.type === "run-started");
  const from = events.find((e) => e.type === "phase-started" && e.phase === "method")?.t;
  if (started?.type !== "run-started" || from === undefined) return null;
  const planned = started.methodMs;
  const ended = events.find((e) => e.type === "phase-finished" && e.phase === "method")?.t ?? from;
  const to = Math.min(ended, from + planned);
  const observations = events.filter((e): e is Observation => e.type === "observation" && e.phase === "method");
  if (planned <= 0) return observations.every(holds) ? 1 : 0;
  // The steady state held before the method (it was checked), so every probe starts out holding.
  const failing = new Set<string>();
  let heldMs = 0;
  let cursor = from;
  for (const o of observations) {
    const at = Math.min(Math.max(o.t, from), to);
    if (failing.size === 0) heldMs += at - cursor;
    cursor = at;
    if (holds(o)) failing.delete(o.probe);
    else failing.add(o.probe);
  }
  if (failing.size === 0) heldMs += to - cursor;
  return Math.max(0, Math.min(1, heldMs / planned));
}

function holds(o: Observation): boolean {
  if (o.inconclusive !== undefined) return false;
  return o.ok || !o.counted;
}

/** The mean of the scored runs' scores; null when none could be scored. */
export function suiteScore(scores: readonly (number | null)[]): number | null {
  const scored = scores.filter((s): s is number => s !== null);
  if (scored.length === 0) return null;
  return Math.round(scored.reduce((a, b) => a + b, 0) / scored.length);
}
