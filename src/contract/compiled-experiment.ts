// The compiled experiment the engine runs: validated, variables substituted, durations in ms,
// expectations parsed and every action and probe bound to its definition.

import type { ActionDef, ProbeDef } from "./adapter.js";
import type { Expectation } from "./expect.js";
import type { Selection } from "./selection.js";
import type { Schedule } from "./schedule.js";
import type { PrometheusConnection } from "./prometheus-connection.js";

export interface TargetSpec {
  name: string;
  kind: string;
  selector: unknown;
  select: Selection | undefined;
}

export interface FaultSpec {
  name: string;
  action: ActionDef;
  params: unknown;
  /** Name of the target block, or undefined for actions that take none. */
  target: string | undefined;
  atMs: number;
  /** How long the fault is held; undefined means until the method ends. */
  durationMs: number | undefined;
}

export interface ProbeSpec {
  name: string;
  probe: ProbeDef;
  params: unknown;
  expectation: Expectation;
}

export interface RollbackStep {
  name: string;
  action: ActionDef;
  params: unknown;
  target: string | undefined;
}

export interface BudgetGateSpec {
  /**
   * Where the SLO is: a file (absolute path; with sloName when it holds several), or, when the
   * experiment named the SLO alone, the experiment's directory, searched for an SLO of that name.
   */
  slo: ({ file: string; name: string | undefined } | { near: string; name: string }) & { writtenAt?: { line?: number; col?: number } };
  prometheus: PrometheusConnection;
  /** Skip the run when less than this fraction (0–1) of the error budget remains. */
  minRemaining: number;
  /** Abort the run when the SLO's burn rate since the faults began exceeds this. */
  maxBurnRate: number | undefined;
  /** Whether the run's window counts against the budget (charged) or is reported apart (excluded). */
  chaosWindow: "charged" | "excluded";
}

/** How to read one counter: a probe whose `value` field is the counter's current total. */
export interface CounterReader {
  probe: ProbeDef;
  params: unknown;
}

/**
 * A cohort verdict (the ChAP design): viewers split by a stable hash into an experiment and a
 * control cohort of equal size on one HTTP link; the faults reach the experiment cohort only, and
 * the run compares the two cohorts' starts.
 */
export interface CohortSpec {
  /** The proxy target whose link splits and tags the viewers. */
  split: string;
  /** Each cohort's share of viewers, in percent (0 < size ≤ 50). */
  sizePercent: number;
  /** The chance of a false alarm over the whole method. */
  alpha: number;
  /** Starts each cohort needs before the cohorts are compared. */
  minStarts: number;
  /** The counters of good and all starts, per cohort. */
  counters: Record<"experiment" | "control", Record<"good" | "total", CounterReader>>;
  /** What is compared, for messages, e.g. "playback_start_success_total of playback_start_attempts_total". */
  measure: string;
}

export interface CompiledExperiment {
  file: string;
  title: string;
  description: string | undefined;
  tags: string[];
  /** The lock scope named by `lock:`, or undefined for the default (this file). */
  lock: string | undefined;
  schedule: Schedule | undefined;
  /** The error-budget gate (`budget:`), or undefined for none. */
  budget: BudgetGateSpec | undefined;
  /** Length of the method: the experiment's duration, or the end of the last fault. */
  methodMs: number;
  targets: TargetSpec[];
  faults: FaultSpec[];
  steadyState: ProbeSpec[];
  /** The cohort verdict, or undefined when the experiment judges the whole population only. */
  cohorts: CohortSpec | undefined;
  rollbacks: RollbackStep[];
  abort: { intervalMs: number; after: number; graceMs: number };
  /** holdMs: how long the steady state must hold, check after check, to count as back. */
  recovery: { timeoutMs: number; intervalMs: number; holdMs: number };
  /** The document as written, variables substituted except secrets: safe to show and journal. */
  display: unknown;
  /** Values read from the environment, scrubbed from any text that leaves the process. */
  secrets: string[];
  /** Where each secret came from: secret value → environment variable name. */
  secretSources: Record<string, string>;
  /** Variables the file declares or uses (to catch a misspelt --var). */
  variables: string[];
}
