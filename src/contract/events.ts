// The one stream of typed events a run produces. The terminal renderer, --output jsonl and the
// journal all consume it; the engine itself never prints.

export type Phase = "preflight" | "steady-state-before" | "method" | "rollback" | "recovery";
/**
 * How a run ended. `unrecovered`: the run aborted and rolled back every fault, but the steady state
 * did not return within recovery.timeout; kept apart from a clean abort so cron and CI can tell
 * "the system healed" from "the system is still hurting".
 */
export type Outcome = "passed" | "deviated" | "aborted" | "unrecovered" | "rollback-failed" | "refused" | "skipped" | "dry-run";

/** Every outcome, worst first: the order in which a suite's outcomes combine. */
export const OUTCOMES_WORST_FIRST: readonly Outcome[] = ["rollback-failed", "unrecovered", "aborted", "deviated", "refused", "skipped", "passed", "dry-run"];

export interface TargetRef {
  id: string;
  label: string;
}

export type RunEventBody =
  | {
      type: "run-started";
      runId: string;
      title: string;
      file: string;
      seed: string;
      methodMs: number;
      faults: number;
      probes: number;
      /** Each steady-state probe and what it must stay within (absent in journals before 0.2). */
      hypothesis?: HypothesisLine[];
      /** How often the hypothesis is checked during the method, in ms. */
      intervalMs?: number;
    }
  | { type: "phase-started"; phase: Phase }
  | { type: "phase-finished"; phase: Phase; ok: boolean; detail?: string }
  | {
      type: "targets-resolved";
      target: string;
      description: string;
      /** Candidates found, not counting excluded ones. */
      candidates: number;
      /** Candidates labelled chaoscast.io/exclude=true, never chosen. */
      excluded: TargetRef[];
      chosen: TargetRef[];
    }
  | {
      type: "observation";
      phase: Phase;
      probe: string;
      ok: boolean;
      /** False when the breach fell inside the grace period after an injection. */
      counted: boolean;
      summary: string;
      failures: string[];
      /** The probe's primary field. */
      value: unknown;
      /** The value of the hypothesis line's `metric` field, when it is a number: what a timeline plots. */
      metric?: number;
      /** The probe could not tell (no data) and the experiment counts that as neither pass nor breach. */
      inconclusive?: string;
      durationMs: number;
    }
  /** `inBand`: pushed by an in-band probe between rounds; it aborts at once (its window is the smoothing). */
  | { type: "breach"; probes: string[]; consecutive: number; after: number; inBand?: boolean }
  | { type: "abort"; reason: string }
  | { type: "fault-injected"; fault: string; action: string; target: TargetRef | null; revert: string | null }
  | { type: "fault-failed"; fault: string; action: string; target: TargetRef | null; error: string }
  | { type: "revert-retry"; fault: string; target: TargetRef | null; attempt: number; error: string; retryInMs: number }
  | { type: "fault-reverted"; fault: string; target: TargetRef | null; attempts: number; early: boolean; notes: string[] }
  | { type: "revert-failed"; fault: string; target: TargetRef | null; revert: string; error: string }
  | { type: "rollback-step"; step: string; action: string; ok: boolean; error?: string }
  | { type: "note"; message: string }
  /**
   * One look at the cohorts (experiment and control): their starts since the faults began, and the
   * one-sided p-value of Fisher's exact test (null while a cohort has too few starts to compare).
   */
  | {
      type: "cohort";
      experiment: CohortCounts;
      control: CohortCounts;
      pValue: number | null;
      /** The p-value below which this look calls the cohorts diverged (alpha over the looks). */
      threshold: number;
      state: "collecting" | "holding" | "diverged";
    }
  /** The cohort verdict once the method is over (or cut short). */
  | {
      type: "cohort-verdict";
      verdict: "no-difference" | "diverged" | "inconclusive";
      experiment: CohortCounts;
      control: CohortCounts;
      pValue: number | null;
      /** The effect size: experiment's success rate minus control's, with its 95% interval. */
      difference: number | null;
      low: number | null;
      high: number | null;
      /** The stated test, its alpha over the whole method, and the looks it was split over. */
      test: string;
      alpha: number;
      looks: number;
      /** Starts that had failed in the experiment cohort when the divergence was detected. */
      failedBeforeDetection: number | null;
      detail: string;
    }
  /**
   * The SLO of an experiment's budget gate: before the run (from the gate), during the method
   * (the SLI in its window and the share of the period's budget it spent) and after.
   */
  | {
      type: "budget";
      stage: "before" | "during" | "after";
      slo: string;
      from: string | null;
      to: string | null;
      sli: number | null;
      events: number;
      spent: number | null;
      remaining: number | null;
      chaosWindow: "charged" | "excluded";
    }
  /** One preflight gate's verdict (engine/preflight.ts names the gates and statuses). */
  | { type: "gate"; gate: string; status: "passed" | "failed" | "refused" | "not-applicable" | "not-reached"; detail: string }
  /** The run's watchdog took over: the run's process died or froze, and the watchdog rolls back. */
  | { type: "watchdog"; reason: string; watchdogPid: number }
  | {
      type: "run-finished";
      outcome: Outcome;
      exitCode: number;
      reason: string;
      /** Faults that could not be reverted: what is still injected. */
      stillInjected: string[];
      recovered: boolean | null;
    };

/**
 * The version of the event stream's shape, written on every `--output jsonl` line as `eventVersion`.
 * Adding an optional field keeps it; renaming, removing or changing the meaning of one bumps it.
 */
export const EVENT_VERSION = 1;

/** One cohort's starts since its faults began. */
export interface CohortCounts {
  starts: number;
  good: number;
}

/** One steady-state probe as a run announces it: enough to draw its values against its threshold. */
export interface HypothesisLine {
  /** The steady-state entry's name. */
  name: string;
  /** The probe kind, e.g. http. */
  probe: string;
  /** The whole expectation as written, e.g. `status: 200, latencyMs: < 250`. */
  expect: string;
  /** The field a timeline plots: the primary field when its bound is numeric, else the first numeric one. */
  metric: string;
  /** The numeric bound on `metric`, if any. */
  bound: { op: "<" | "<=" | ">" | ">=" | "==" | "!="; value: number } | { min: number; max: number } | null;
}

export type RunEvent = RunEventBody & {
  /** Wall-clock time, ISO 8601. */
  at: string;
  /** Milliseconds since the run started. */
  t: number;
};

export type EventSink = (event: RunEvent) => void;
