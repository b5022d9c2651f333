// Undoing faults: each revert retried with backoff, a failing one never stopping the others,
// in reverse order of injection. Rollback ignores the run's abort signal: it must always finish.

import type { z } from "zod";
import type { RollbackStep } from "../contract/compiled-experiment.js";
import { sleep } from "../util/abortable.js";
import { AdapterError, errorMessage } from "../errors.js";
import type { FaultLedger, InjectedFault } from "./injected.js";
import type { RunEventBody } from "../contract/events.js";
import type { Revert, RevertDef, RunContext, Target } from "../contract/adapter.js";

export interface RollbackPolicy {
  attempts: number;
  backoffMs: number;
  /** Upper bound for one attempt, so a hung revert cannot hold the rollback forever. */
  attemptTimeoutMs: number;
}

export const DEFAULT_ROLLBACK_POLICY: RollbackPolicy = { attempts: 4, backoffMs: 250, attemptTimeoutMs: 30_000 };

type Emit = (event: RunEventBody) => void;

function attemptContext(runId: string, timeoutMs: number, notes: string[]): RunContext {
  // Nothing a revert starts may outlive it: a deferred cleanup runs at once.
  return { signal: AbortSignal.timeout(timeoutMs), runId, note: (message) => notes.push(message), defer: (cleanup) => void cleanup().catch(() => {}) };
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms}ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Runs one revert from its data: the adapter's RevertDef undoes it, then checks the target is back. */
export type PerformRevert = (revert: Revert, ctx: RunContext) => Promise<void>;

export function revertPerformer(reverts: ReadonlyMap<string, RevertDef>): PerformRevert {
  return async (revert, ctx) => {
    const def = reverts.get(revert.kind);
    // Both can come from a state file written by another version of chaoscast, or edited by hand.
    if (!def) throw new AdapterError(`this chaoscast has no way to revert "${revert.kind}" (was the state file written by another version?)`);
    const data = parseRevertData(def, revert.kind, revert.data);
    await def.run(data, ctx);
    const problem = def.verify ? await def.verify(data, ctx) : null;
    if (problem) throw new AdapterError(`not reverted: ${problem}`);
  };
}

/** A revert's data checked against its adapter's schema, or an AdapterError that says what is wrong, in one line. */
export function parseRevertData<T>(def: { data: z.ZodType<T> }, kind: string, data: unknown): T {
  const parsed = def.data.safeParse(data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  // A bad record key (a header name) wraps the rule it broke: say the rule.
  const message = (issue && "issues" in issue && Array.isArray(issue.issues) ? (issue.issues[0] as { message?: string } | undefined)?.message : undefined) ?? issue?.message ?? "unknown shape";
  throw new AdapterError(`the data recorded to revert "${kind}" is malformed: ${message}${issue?.path.length ? ` at ${issue.path.map(String).join(".")}` : ""}`);
}

export interface RevertDeps {
  runId: string;
  emit: Emit;
  perform: PerformRevert;
  ledger: FaultLedger;
}

/** Revert one injected fault. Returns false when it could not be reverted after every attempt. */
export async function revertOne(entry: InjectedFault, deps: RevertDeps, policy: RollbackPolicy, early = false): Promise<boolean> {
  if (entry.state === "reverted") return true;
  if (!entry.revert) {
    // Cannot be undone by design (a kill): nothing to do, and nothing to keep on record.
    await deps.ledger.update(entry, "reverted");
    return true;
  }
  // Let an in-flight lease refresh land first, so it cannot redo the fault after the revert.
  const released = entry.revert.release?.();
  if (released) {
    const done = new AbortController();
    await Promise.race([released, sleep(2_000, done.signal)]);
    done.abort(); // no timer left behind
  }
  let lastError = "";
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    const notes: string[] = [];
    try {
      await withTimeout(deps.perform(entry.revert, attemptContext(deps.runId, policy.attemptTimeoutMs, notes)), policy.attemptTimeoutMs + 1_000);
      await deps.ledger.update(entry, "reverted");
      deps.emit({ type: "fault-reverted", fault: entry.fault, target: entry.target, attempts: attempt, early, notes });
      return true;
    } catch (err) {
      lastError = errorMessage(err);
      if (attempt < policy.attempts) {
        const retryInMs = policy.backoffMs * 2 ** (attempt - 1);
        deps.emit({ type: "revert-retry", fault: entry.fault, target: entry.target, attempt, error: lastError, retryInMs });
        await sleep(retryInMs);
      }
    }
  }
  await deps.ledger.update(entry, "revert-failed");
  deps.emit({ type: "revert-failed", fault: entry.fault, target: entry.target, revert: entry.revert.description, error: lastError });
  return false;
}

/** Revert everything not yet reverted, newest first. Returns the entries that are still injected. */
/** How many targets of one fault are reverted at once (starting 100 stopped instances one by one takes an hour). */
export const REVERT_CONCURRENCY = 8;

export async function rollbackAll(deps: RevertDeps, policy = DEFAULT_ROLLBACK_POLICY): Promise<InjectedFault[]> {
  const failed: InjectedFault[] = [];
  // Faults are undone newest first, one fault after another; the targets of one fault are
  // independent of each other, so they are undone together, a few at a time. Every one is tried,
  // whatever happens to the others.
  for (const group of byFault([...deps.ledger.entries].reverse().filter((e) => e.state !== "reverted"))) {
    let next = 0;
    const worker = async () => {
      while (next < group.length) {
        const entry = group[next++]!;
        if (!(await revertOne(entry, deps, policy))) failed.push(entry);
      }
    };
    await Promise.all(Array.from({ length: Math.min(REVERT_CONCURRENCY, group.length) }, worker));
  }
  return failed;
}

/** Consecutive entries of the same fault (one per target), in order. */
function byFault(entries: InjectedFault[]): InjectedFault[][] {
  const groups: InjectedFault[][] = [];
  for (const entry of entries) {
    const last = groups.at(-1);
    if (last && last[0]!.fault === entry.fault) last.push(entry);
    else groups.push([entry]);
  }
  return groups;
}

/**
 * The experiment's extra rollback steps, after the automatic reverts, each retried like a revert.
 * Returns the names of failed steps.
 */
export async function runRollbackSteps(
  steps: readonly RollbackStep[],
  targets: ReadonlyMap<string, Target[]>,
  runId: string,
  emit: Emit,
  policy = DEFAULT_ROLLBACK_POLICY,
): Promise<string[]> {
  const failed: string[] = [];
  for (const step of steps) {
    const chosen: (Target | null)[] = step.target ? (targets.get(step.target) ?? []) : [null];
    for (const target of chosen) {
      let lastError = "";
      let ok = false;
      for (let attempt = 1; attempt <= policy.attempts && !ok; attempt++) {
        try {
          const ctx = attemptContext(runId, policy.attemptTimeoutMs, []);
          const injection = await withTimeout(step.action.prepare(step.params, target, ctx), policy.attemptTimeoutMs);
          await withTimeout(injection.apply(ctx), policy.attemptTimeoutMs);
          ok = true;
        } catch (err) {
          lastError = errorMessage(err);
          if (attempt < policy.attempts) await sleep(policy.backoffMs * 2 ** (attempt - 1));
        }
      }
      if (!ok) failed.push(step.name);
      emit({ type: "rollback-step", step: step.name, action: step.action.name, ok, ...(ok ? {} : { error: lastError }) });
    }
  }
  return failed;
}
