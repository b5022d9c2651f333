// The compiled experiment the engine runs: validated, variables substituted, durations in ms,
// expectations parsed and every action and probe bound to its definition.

import type { ActionDef, ProbeDef } from "./adapter.js";
import type { Expectation } from "./expect.js";
import type { Selection } from "./selection.js";
import type { Schedule } from "./schedule.js";

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

export interface CompiledExperiment {
  file: string;
  title: string;
  description: string | undefined;
  tags: string[];
  /** The lock scope named by `lock:`, or undefined for the default (this file). */
  lock: string | undefined;
  schedule: Schedule | undefined;
  /** Length of the method: the experiment's duration, or the end of the last fault. */
  methodMs: number;
  targets: TargetSpec[];
  faults: FaultSpec[];
  steadyState: ProbeSpec[];
  rollbacks: RollbackStep[];
  abort: { intervalMs: number; after: number; graceMs: number };
  recovery: { timeoutMs: number; intervalMs: number };
  /** The document as written, variables substituted except secrets: safe to show and journal. */
  display: unknown;
  /** Values read from the environment, scrubbed from any text that leaves the process. */
  secrets: string[];
  /** Where each secret came from: secret value → environment variable name. */
  secretSources: Record<string, string>;
  /** Variables the file declares or uses (to catch a misspelt --var). */
  variables: string[];
}
