// The contract between the engine and everything it drives. The engine only ever sees these
// interfaces; adapters and probes implement them and are listed in src/registry.ts.

import type { z } from "zod";

/** Something a fault can be injected into, as resolved by an adapter. */
export interface Target {
  /** Stable identity used for selection and journals, e.g. "pid:4242". */
  id: string;
  /** What a person should read, e.g. "node (pid 4242, listening on 127.0.0.1:8080)". */
  label: string;
  /** The adapter kind that resolved it. */
  kind: string;
  /** What the adapter needs to act on it and to revert later; must be JSON-serialisable. */
  data: Record<string, unknown>;
  /** Labels or tags the target carries; `chaoscast.io/exclude: "true"` keeps it out of every selection. */
  labels?: Record<string, string>;
  /** Where it lives, for allowContexts/allowNamespaces in the policy (Kubernetes-like adapters). */
  context?: string;
  namespace?: string;
}

export interface RunContext {
  /** Aborted when the run is aborted or interrupted: in-flight work should stop. */
  signal: AbortSignal;
  runId: string;
  /** A remark for the journal, e.g. "process had already exited". */
  note(message: string): void;
  /**
   * Run `cleanup` when the whole run is over (after rollback and recovery), e.g. to stop a proxy
   * the run started itself. Cleanups run in reverse order and their failures are reported.
   */
  defer(cleanup: () => Promise<void>): void;
}

/**
 * How to undo one injected fault: plain data naming a revert kind of an adapter. The same data is
 * written to the run's state file before the fault is applied, so a crashed run is undone later by
 * exactly the code that would have undone it in the run.
 */
export interface Revert {
  /** A RevertDef kind, e.g. "process.signal". */
  kind: string;
  /** What the RevertDef needs; JSON-serialisable. */
  data: Record<string, unknown>;
  description: string;
  /** Stop in-process helpers tied to the fault (a lease refresher) before it is reverted; resolves once they are idle. */
  release?(): Promise<void> | void;
  /** The fault lives inside the run's own process (an embedded proxy link): it ends when the run does. */
  diesWithRun?: boolean;
}

/** A way to undo faults from data alone, registered by the adapter that makes them. */
export interface RevertDef<S extends z.ZodType = z.ZodType> {
  kind: string;
  /** Checks data read back from a state file. */
  data: S;
  describe(data: z.output<S>): string;
  /** Undo the fault. Idempotent: undoing what is already undone is harmless (and noted). */
  run(data: z.output<S>, ctx: RunContext): Promise<void>;
  /**
   * Check that the target is back: null when it is, else what is still wrong. Run after `run`
   * (a failed check makes the revert retry, then fail) and by `rollback --dry-run`. Absent when the
   * adapter cannot observe the target; then the undo's own success is all there is to go on.
   */
  verify?(data: z.output<S>, ctx: RunContext): Promise<string | null>;
}

export interface TargetDef<S extends z.ZodType = z.ZodType> {
  /** The schema of `{ <kind>: … }` in a target block. */
  selector: S;
  resolve(selector: z.output<S>, ctx: RunContext): Promise<Target[]>;
  /** One line describing a selector for plans, e.g. "process listening on port 8080". */
  describe(selector: z.output<S>): string;
  /** Where the selector reaches (context, namespaces), from local configuration only. */
  scope?(selector: z.output<S>): Promise<TargetScope>;
}

export interface ActionDef<P extends z.ZodType = z.ZodType> {
  /** "<adapter>.<verb>", e.g. "process.suspend". */
  name: string;
  description: string;
  /** Adapter kind whose targets this action needs, or null for actions that take no target. */
  target: string | null;
  params: P;
  /** A `with:` block for docs, `list` and `init`. */
  example: Record<string, unknown>;
  /** Whether the fault has something to undo; actions that cannot be undone say so in `plan`. */
  reversible: "always" | "never" | "when-configured";
  /**
   * A permission the blast-radius policy must grant before the action may run at all (an action that
   * destroys what cannot be recreated, such as ec2.terminate); refused with exit 4 otherwise.
   */
  requiresPolicy?: "allowTerminate";
  /**
   * Synthetic load the fault sends at its peak (viewers.surge: its `to`), for the policy's
   * maxSurgeViewers, which caps the sum over a run's faults.
   */
  syntheticViewers?: (params: z.output<P>) => number;
  /** For "when-configured": whether these parameters configure an undo (plan shows the difference). */
  revertConfigured?: (params: z.output<P>) => boolean;
  /**
   * Check the target and build the injection without changing anything yet. The engine records
   * the revert (write-ahead) and only then calls `apply`; if `apply` throws, the revert still runs.
   */
  prepare(params: z.output<P>, target: Target | null, ctx: RunContext): Promise<Injection>;
  /**
   * Optional: check in preflight, before any fault of the run is injected, that the action can work
   * on this target at all (e.g. that the kernel has netem). Throwing stops the run with nothing
   * changed; `prepare` still checks again at injection time.
   */
  preflight?(params: z.output<P>, target: Target | null, ctx: RunContext): Promise<void>;
  /**
   * Optional: where the action reaches beyond its target (a drain evicts pods of other namespaces),
   * so the policy's allowContexts/allowNamespaces judge that too before anything is injected.
   */
  reach?(params: z.output<P>, target: Target | null, ctx: RunContext): Promise<TargetScope>;
}

export interface Injection {
  /** How to undo it, or null when the action cannot be undone (e.g. a killed process). */
  revert: Revert | null;
  apply(ctx: RunContext): Promise<void>;
}

export interface ProbeContext {
  signal: AbortSignal;
  /** The probe must give up after this long and report a timeout. */
  timeoutMs: number;
  /**
   * Judge candidate fields against the probe's `expect`, for probes that observe many things at
   * once (the series of a PromQL vector) and report the one that decides the verdict.
   */
  judgeFields?: (fields: Record<string, unknown>) => Promise<boolean>;
}

/** What a probe saw. Deviation is data: the engine judges `fields` against `expect`. */
export interface Observation {
  fields: Record<string, unknown>;
  /** Set when the probe could not observe at all (refused, timed out); counts as a breach. */
  error?: string;
  /** A short text for status lines, e.g. "200 in 12ms". */
  summary: string;
  /**
   * The probe saw nothing to judge (a query with no data) and the user chose what that means:
   * pass, or inconclusive (neither a breach nor proof of steady state). Without it, `error` breaches.
   */
  noVerdict?: { as: "pass" | "inconclusive"; reason: string };
}

export interface ProbeDef<P extends z.ZodType = z.ZodType> {
  /** The name used in `probe:`, e.g. "http". */
  name: string;
  description: string;
  params: P;
  example: Record<string, unknown>;
  /** The field a bare `expect` (not a mapping) applies to. */
  primaryField: string;
  /** Top-level observation fields that `expect` may name, with what they mean. */
  fields: Record<string, string>;
  /** Used when `expect` is omitted. */
  defaultExpect: unknown;
  /** The probe's own timeout from its params, if it has one. */
  timeoutOf(params: z.output<P>): number;
  run(params: z.output<P>, ctx: ProbeContext): Promise<Observation>;
  /**
   * Optional, for in-band probes: during the method, instead of waiting to be polled, push an
   * observation whenever what the probe watches changes, until the signal aborts; the engine judges
   * each one at once. Rejects when the source fails; the engine then polls `run` until it is back.
   */
  subscribe?(params: z.output<P>, ctx: { signal: AbortSignal }, push: (observation: Observation) => void): Promise<void>;
}

/**
 * A fault an adapter also recorded in the backend itself (a Kubernetes ConfigMap, an EC2 tag), so
 * that `chaoscast rollback` run from another machine or state directory can find and undo it.
 */
export interface RecordedFault {
  runId: string;
  /** Where the record is kept, for messages: "ConfigMap payment/chaoscast-fault-1a2b (context prod)". */
  where: string;
  fault: string;
  action: string;
  target: { id: string; label: string } | null;
  revert: { kind: string; data: Record<string, unknown>; description: string };
  /** The process that made the fault. */
  owner: { pid: number; startTime: string | null; host: string };
  /** When the run last renewed the record's lease, and how long a lease lasts. */
  renewedAt: string;
  leaseMs: number;
  /** Drop the record without reverting (`rollback --run <id> --forget`). */
  forget(): Promise<void>;
}

/** Finding the records of an adapter that keeps them in its backend. */
export interface FaultRecords {
  /** What scopes a search, in the words of `chaoscast rollback`'s option, e.g. "context". */
  scope: string;
  find(scope: string | undefined, ctx: RunContext): Promise<{ records: RecordedFault[]; unreadable: { where: string; problem: string }[] }>;
}

/** Where a target block reaches, known without asking the backend (for the policy, before any request). */
export interface TargetScope {
  context?: string;
  namespaces?: string[];
}

/** One folder under src/adapters: its targets (if any), actions and probes. */
export interface Adapter {
  kind: string;
  description: string;
  targets?: TargetDef;
  actions: readonly ActionDef[];
  probes: readonly ProbeDef[];
  /** Every kind of Revert its actions produce. */
  reverts?: readonly RevertDef[];
  /** Faults it records in its backend, for `chaoscast rollback` from anywhere. */
  records?: FaultRecords;
}

// Definitions are written with precise parameter types; the registry holds them erased.
export function defineAction<P extends z.ZodType>(def: ActionDef<P>): ActionDef {
  return def as unknown as ActionDef;
}
export function defineProbe<P extends z.ZodType>(def: ProbeDef<P>): ProbeDef {
  return def as unknown as ProbeDef;
}
export function defineRevert<S extends z.ZodType>(def: RevertDef<S>): RevertDef {
  return def as unknown as RevertDef;
}
/** A Revert for `def` with `data`, so actions name their revert kind without repeating it. */
export function revertWith(def: RevertDef, data: Record<string, unknown>, release?: () => Promise<void> | void, diesWithRun = false): Revert {
  return { kind: def.kind, data, description: def.describe(data), ...(release ? { release } : {}), ...(diesWithRun ? { diesWithRun } : {}) };
}
export function defineTargets<S extends z.ZodType>(def: TargetDef<S>): TargetDef {
  return def as unknown as TargetDef;
}
