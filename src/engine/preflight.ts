// Preflight as one ordered list of gates, shared by `run`, `plan` and `budget`: schedule, lock,
// policy, targets, the actions' own checks, the error budget. Every gate answers with a verdict;
// a run stops at the first gate that fails (nothing is injected), while `plan` asks every gate it
// safely can and shows all the verdicts.

import path from "node:path";
import type { CompiledExperiment } from "../contract/compiled-experiment.js";
import type { RunContext, Target } from "../contract/adapter.js";
import type { RunEventBody } from "../contract/events.js";
import type { RegistryView } from "../contract/registry-view.js";
import { scheduleVerdict } from "../contract/schedule.js";
import { selectTargets } from "../contract/selection.js";
import { EXCLUDE_LABEL, isExcluded } from "../contract/exclusion.js";
import { ChaoscastError, errorMessage, PreflightError, UsageError } from "../errors.js";
import { checkResolved, checkScopes, checkStatic, combineViolations, type BlockScope, type Policy, type ResolvedBlock, type StaticFacts, type Violation } from "../policy/rules.js";
import { lockHolderOf, RunLock } from "./lock.js";
import { trippedGuard, type Guard } from "./guards.js";

export const GATES = ["guards", "schedule", "lock", "policy", "targets", "actions", "budget"] as const;
export type GateName = (typeof GATES)[number];

/**
 * passed: the run may go on. failed: the run is skipped (exit 5), nothing injected. refused: the
 * blast-radius policy forbids it (exit 4 for `plan`, outcome "refused" for a run). not-applicable:
 * nothing to check (no schedule, no budget). not-reached: an earlier gate it depends on did not pass.
 */
export type GateStatus = "passed" | "failed" | "refused" | "not-applicable" | "not-reached";

export interface GateVerdict {
  gate: GateName;
  status: GateStatus;
  detail: string;
}

/** What the budget gate asks: is the experiment's error budget high enough to spend some of it? */
export type BudgetCheck = (experiment: CompiledExperiment, signal: AbortSignal) => Promise<{ status: "passed" | "failed"; detail: string; measured?: BudgetMeasure }>;

/** The SLO as the budget gate found it. */
export interface BudgetMeasure {
  slo: string;
  sli: number | undefined;
  remaining: number | undefined;
  events: number | undefined;
}

export interface PreflightRequest {
  experiment: CompiledExperiment;
  registry: RegistryView;
  seed: string;
  policy: Policy;
  ctx: RunContext;
  emit: (event: RunEventBody) => void;
  /** run: stop at the first gate that does not pass, and take the lock. plan: ask every gate, take nothing. */
  mode: "run" | "plan";
  /** Hold the run to the experiment's schedule (--respect-schedule; the policy's requireWindow always does). */
  respectSchedule: boolean;
  now: () => Date;
  /** The lock directory; a run waits up to waitMs for a held lock. Without it there is no lock gate. */
  lock?: { dir: string; waitMs: number; runId: string };
  /** Called with the lock a run took, to release it when the run ends. */
  onLocked?: (lock: RunLock) => void;
  budget?: BudgetCheck;
  /** The halt file and the policy's guards (engine/guards.ts); one that trips skips the run. */
  guards?: readonly Guard[];
}

export interface PreflightResult {
  verdicts: GateVerdict[];
  /** The chosen targets per block (empty when the targets gate did not pass). */
  targets: Map<string, Target[]>;
  /** What the policy refused, from any gate. */
  violations: Violation[];
  /** The first gate that did not pass, if any. */
  stoppedAt?: GateVerdict;
  /** What the budget gate measured, when it asked. */
  budget?: BudgetMeasure;
}

interface GateState {
  targets: Map<string, Target[]>;
  blocks: ResolvedBlock[];
  violations: Violation[];
  passed: Set<GateName>;
  /** The policy refused a context or namespace: nothing there may be contacted, not even to list. */
  scopeRefused: boolean;
  budget?: BudgetMeasure;
}

const always = () => undefined;
const unless =
  (...gates: GateName[]) =>
  (state: GateState) => {
    const missing = gates.find((g) => !state.passed.has(g));
    return missing ? `needs the ${missing} gate to pass first` : undefined;
  };

interface Gate {
  name: GateName;
  /** Why this gate may not be asked yet, if so (a plan never contacts what the policy refused). */
  blockedBy(state: GateState): string | undefined;
  check(request: PreflightRequest, state: GateState): Promise<Omit<GateVerdict, "gate">>;
}

const guardsGate: Gate = {
  name: "guards",
  blockedBy: always,
  async check({ guards, ctx }) {
    if (!guards || guards.length === 0) return { status: "not-applicable", detail: "no guard" };
    const tripped = await trippedGuard(guards, ctx.signal);
    return tripped ? { status: "failed", detail: `halted: ${tripped}` } : { status: "passed", detail: `${guards.length} guard(s) allow chaos` };
  },
};

const scheduleGate: Gate = {
  name: "schedule",
  blockedBy: always,
  async check({ experiment, policy, respectSchedule, now }) {
    if (!experiment.schedule) return { status: "not-applicable", detail: "the experiment has no schedule" };
    const why = scheduleVerdict(experiment.schedule, now());
    const enforced = respectSchedule || policy.requireWindow !== undefined;
    if (!why) return { status: "passed", detail: "inside the experiment's schedule" };
    if (!enforced) return { status: "passed", detail: `not enforced (outside the schedule: ${why}; --respect-schedule or the policy's requireWindow would skip the run)` };
    return { status: "failed", detail: `not inside the experiment's schedule: ${why}${policy.requireWindow ? ` (the policy requires a window: ${policy.requireWindow.source})` : ""}` };
  },
};

const lockGate: Gate = {
  name: "lock",
  blockedBy: always,
  async check(request) {
    const { experiment, lock, mode } = request;
    if (!lock) return { status: "not-applicable", detail: "no lock directory" };
    const scope = lockScope(experiment);
    if (mode === "plan") {
      const holder = await lockHolderOf(lock.dir, scope);
      return holder ? { status: "failed", detail: `the lock for ${scope} is held by ${holder}; a run now would wait (--wait-lock) or be skipped` } : { status: "passed", detail: `free (${scope})` };
    }
    try {
      const taken = await RunLock.acquire({
        dir: lock.dir,
        scope,
        runId: lock.runId,
        experiment: path.resolve(experiment.file),
        waitMs: lock.waitMs,
        signal: request.ctx.signal,
        onNote: request.ctx.note,
      });
      request.onLocked?.(taken);
    } catch (err) {
      if (err instanceof PreflightError) return { status: "failed", detail: err.message };
      throw err;
    }
    // Waiting for the lock may have outlasted the window: judge the clock again.
    const again = await scheduleGate.check(request, emptyState());
    if (again.status === "failed") return { status: "failed", detail: `${again.detail} (after waiting for the lock)` };
    return { status: "passed", detail: `taken (${scope})` };
  },
};

/** What can be judged without sending a request: the file's own limits and where its targets reach. */
const policyGate: Gate = {
  name: "policy",
  blockedBy: always,
  async check({ experiment, registry, policy }, state) {
    const reach = checkScopes(await targetScopes(experiment, registry), policy);
    const violations = [...checkStatic(staticFacts(experiment), policy), ...reach];
    state.scopeRefused = reach.length > 0;
    state.violations.push(...violations);
    return violations.length > 0 ? { status: "refused", detail: violations.map((v) => v.message).join("; ") } : { status: "passed", detail: "within the policy (duration, percentages, contexts and namespaces)" };
  },
};

const targetsGate: Gate = {
  name: "targets",
  blockedBy: (state) => (state.scopeRefused ? "the policy refuses where the targets are: they are not contacted" : undefined),
  async check({ experiment, registry, seed, ctx, emit, policy }, state) {
    const resolved = await resolveTargets(experiment, registry, seed, ctx, emit);
    state.targets = resolved.targets;
    state.blocks = resolved.blocks;
    const violations = combineViolations(checkStatic(staticFacts(experiment), policy), checkResolved(resolved.blocks, policy)).filter((v) => !state.violations.some((known) => known.message === v.message));
    state.violations.push(...violations);
    if (violations.length > 0) return { status: "refused", detail: violations.map((v) => v.message).join("; ") };
    const chosen = resolved.blocks.map((b) => `${b.name}: ${b.chosen.length} of ${b.candidates}`);
    return { status: "passed", detail: chosen.length > 0 ? chosen.join(", ") : "the experiment has no targets" };
  },
};

const actionsGate: Gate = {
  name: "actions",
  blockedBy: unless("policy", "targets"),
  async check({ experiment, policy, ctx }, state) {
    const violations = checkScopes(await actionReach(experiment, state.targets, ctx), policy);
    state.violations.push(...violations);
    if (violations.length > 0) return { status: "refused", detail: violations.map((v) => v.message).join("; ") };
    const checked = await preflightActions(experiment, state.targets, ctx);
    return { status: "passed", detail: checked > 0 ? `${checked} check(s) passed` : "no action has a check of its own" };
  },
};

const budgetGate: Gate = {
  name: "budget",
  blockedBy: always,
  async check({ experiment, budget, ctx }, state) {
    if (!experiment.budget) return { status: "not-applicable", detail: "the experiment has no budget gate" };
    if (!budget) return { status: "failed", detail: "the experiment has a budget gate, but no way to ask for the budget was given" };
    const { measured, ...verdict } = await budget(experiment, ctx.signal);
    if (measured) state.budget = measured;
    return verdict;
  },
};

const ALL_GATES: Gate[] = [guardsGate, scheduleGate, lockGate, policyGate, targetsGate, actionsGate, budgetGate];

function emptyState(): GateState {
  return { targets: new Map(), blocks: [], violations: [], passed: new Set(), scopeRefused: false };
}

/**
 * Ask the gates in order. A PreflightError from a gate is its "failed" verdict; a UsageError (a
 * broken kubeconfig) is the user's to fix and propagates (exit 4); anything else is a bug.
 */
export async function runPreflight(request: PreflightRequest): Promise<PreflightResult> {
  const state = emptyState();
  const verdicts: GateVerdict[] = [];
  let stoppedAt: GateVerdict | undefined;
  for (const gate of ALL_GATES) {
    const blockedBy = stoppedAt && request.mode === "run" ? "an earlier gate stopped the run" : request.ctx.signal.aborted ? "interrupted" : gate.blockedBy(state);
    if (blockedBy) {
      verdicts.push({ gate: gate.name, status: "not-reached", detail: blockedBy });
      continue;
    }
    let verdict: GateVerdict;
    try {
      verdict = { gate: gate.name, ...(await gate.check(request, state)) };
    } catch (err) {
      if (!(err instanceof PreflightError)) throw err;
      verdict = { gate: gate.name, status: "failed", detail: err.message };
    }
    verdicts.push(verdict);
    if (verdict.status === "passed" || verdict.status === "not-applicable") state.passed.add(gate.name);
    else stoppedAt ??= verdict;
  }
  return { verdicts, targets: state.targets, violations: state.violations, ...(stoppedAt ? { stoppedAt } : {}), ...(state.budget ? { budget: state.budget } : {}) };
}

/** Where each target block reaches (context, namespaces), from local configuration only: no request is sent. */
export async function targetScopes(experiment: CompiledExperiment, registry: RegistryView): Promise<BlockScope[]> {
  const scopes: BlockScope[] = [];
  for (const spec of experiment.targets) {
    const def = registry.targetKinds.get(spec.kind);
    if (!def?.scope) continue;
    try {
      scopes.push({ who: `target "${spec.name}"`, target: spec.name, ...(await def.scope(spec.selector)) });
    } catch (err) {
      // Bad input (a broken kubeconfig, a context that does not exist) is the user's to fix: exit 4.
      if (err instanceof UsageError) throw new UsageError(`target "${spec.name}": ${err.message}`);
      if (err instanceof ChaoscastError) throw new PreflightError(`target "${spec.name}": ${err.userMessage()}`, { cause: err });
      throw new PreflightError(`target "${spec.name}": ${errorMessage(err)}`, { cause: err });
    }
  }
  return scopes;
}

export interface ResolvedTargets {
  targets: Map<string, Target[]>;
  /** Per target block: candidates (after exclusions) and the chosen ones, for the policy. */
  blocks: ResolvedBlock[];
}

export async function resolveTargets(
  experiment: CompiledExperiment,
  registry: RegistryView,
  seed: string,
  ctx: RunContext,
  emit: (event: RunEventBody) => void,
): Promise<ResolvedTargets> {
  const resolved = new Map<string, Target[]>();
  const blocks: ResolvedBlock[] = [];
  for (const spec of experiment.targets) {
    const def = registry.targetKinds.get(spec.kind);
    if (!def) throw new PreflightError(`target "${spec.name}": no adapter for ${spec.kind}`);
    let candidates: Target[];
    try {
      candidates = await def.resolve(spec.selector, ctx);
    } catch (err) {
      if (err instanceof PreflightError) throw err;
      if (err instanceof UsageError) throw new UsageError(`target "${spec.name}": ${err.message}`);
      // Nothing is injected yet: a backend that cannot list (unreachable, refusing) skips the run.
      const why = err instanceof ChaoscastError ? err.userMessage() : errorMessage(err);
      throw new PreflightError(`target "${spec.name}": could not list ${def.describe(spec.selector)}: ${why}`, { cause: err });
    }
    // Excluded targets are not candidates at all: no selection, count or percentage can reach them.
    const excluded = candidates.filter(isExcluded);
    candidates = candidates.filter((t) => !isExcluded(t));
    const { chosen, problem } = selectTargets(candidates, spec.select, `${seed}:${spec.name}`);
    emit({
      type: "targets-resolved",
      target: spec.name,
      description: def.describe(spec.selector),
      candidates: candidates.length,
      excluded: excluded.map(({ id, label }) => ({ id, label })),
      chosen: chosen.map(({ id, label }) => ({ id, label })),
    });
    blocks.push({ name: spec.name, candidates: candidates.length, chosen: chosen.map(({ id, label, context, namespace }) => ({ id, label, context, namespace })) });
    if (problem) throw new PreflightError(`target "${spec.name}" (${def.describe(spec.selector)}) ${problem}`);
    if (chosen.length === 0) {
      const why = excluded.length > 0 ? `every one found (${excluded.length}) is labelled ${EXCLUDE_LABEL}=true` : `found none of: ${def.describe(spec.selector)}`;
      throw new PreflightError(`target "${spec.name}" matched nothing: ${why}`);
    }
    resolved.set(spec.name, chosen);
  }
  return { targets: resolved, blocks };
}

/** Where faults reach beyond their targets (a drain: the namespaces of the pods it would evict). */
async function actionReach(experiment: CompiledExperiment, targets: Map<string, Target[]>, ctx: RunContext): Promise<BlockScope[]> {
  const scopes: BlockScope[] = [];
  for (const fault of experiment.faults) {
    if (!fault.action.reach) continue;
    for (const target of fault.target ? (targets.get(fault.target) ?? []) : [null]) {
      try {
        scopes.push({ who: `fault "${fault.name}"${target ? ` on ${target.label}` : ""}`, ...(await fault.action.reach(fault.params, target, ctx)) });
      } catch (err) {
        throw new PreflightError(`fault "${fault.name}"${target ? ` on ${target.label}` : ""} cannot be checked against the policy: ${errorMessage(err)}`, { cause: err });
      }
    }
  }
  return scopes;
}

/** Each action's own check on each of its targets: a fault that cannot work stops the run before any is injected. Returns how many checks ran. */
async function preflightActions(experiment: CompiledExperiment, targets: Map<string, Target[]>, ctx: RunContext): Promise<number> {
  let checked = 0;
  for (const fault of experiment.faults) {
    if (!fault.action.preflight) continue;
    for (const target of fault.target ? (targets.get(fault.target) ?? []) : [null]) {
      try {
        await fault.action.preflight(fault.params, target, ctx);
        checked++;
      } catch (err) {
        throw new PreflightError(`fault "${fault.name}"${target ? ` on ${target.label}` : ""} cannot be injected: ${errorMessage(err)}`, { cause: err });
      }
    }
  }
  return checked;
}

/** The facts the policy judges before any target is resolved. */
export function staticFacts(experiment: CompiledExperiment): StaticFacts {
  return {
    methodMs: experiment.methodMs,
    hasWindows: (experiment.schedule?.windows?.length ?? 0) > 0,
    percents: experiment.targets.flatMap((t) => (t.select?.percent !== undefined ? [{ target: t.name, percent: t.select.percent }] : [])),
    permissions: experiment.faults.flatMap((f) => (f.action.requiresPolicy ? [{ fault: f.name, action: f.action.name, permission: f.action.requiresPolicy }] : [])),
    crowds: experiment.faults.flatMap((f) => (f.action.syntheticViewers ? [{ fault: f.name, viewers: f.action.syntheticViewers(f.params) }] : [])),
  };
}

/** Runs of the same experiment file exclude each other, unless `lock:` names a scope to share. */
export function lockScope(experiment: CompiledExperiment): string {
  return experiment.lock ? `lock "${experiment.lock}"` : path.resolve(experiment.file);
}
