// The run lifecycle: preflight → steady state before → method → rollback → recovery → outcome.
// Rollback is in a `finally`: errors, aborts and interrupts all pass through it.

import type { CompiledExperiment } from "../contract/compiled-experiment.js";
import { ChaoscastError, errorMessage, PreflightError, UsageError } from "../errors.js";
import { sleep } from "../util/abortable.js";
import { formatDuration } from "../contract/duration.js";
import { selectTargets } from "../contract/selection.js";
import type { EventSink, Outcome, RunEventBody } from "../contract/events.js";
import { checkHypothesis, primaryValue, type CheckResult } from "./hypothesis.js";
import { FaultLedger, type InjectedFault } from "./injected.js";
import { StateFile } from "./state.js";
import { RunLock } from "./lock.js";
import { scheduleVerdict } from "../contract/schedule.js";
import { EXCLUDE_LABEL, isExcluded } from "../contract/exclusion.js";
import { checkResolved, checkScopes, checkStatic, combineViolations, NO_POLICY, type BlockScope, type Policy, type ResolvedBlock, type StaticFacts, type Violation } from "../policy/rules.js";
import { currentOwner } from "../util/process-owner.js";
import { protectSecrets } from "../contract/redact.js";
import path from "node:path";
import { OUTCOME_EXIT } from "./outcome.js";
import { makeRedactor } from "../contract/redact.js";
import type { RegistryView } from "../contract/registry-view.js";
import { revertPerformer, rollbackAll, runRollbackSteps } from "./rollback.js";
import { runMethod } from "./method.js";
import type { Phase } from "../contract/events.js";
import type { RunContext, Target } from "../contract/adapter.js";

export interface RunOptions {
  registry: RegistryView;
  runId: string;
  seed: string;
  sink: EventSink;
  /** Aborted on SIGINT/SIGTERM: the run rolls back and stops. */
  interrupt: AbortSignal;
  /** Asked once targets are known, before anything is injected; false means "do not run". */
  confirm?: (plan: ResolvedPlan) => Promise<boolean>;
  /** Stop after the steady-state check: nothing is injected. */
  dryRun?: boolean;
  /** Where the write-ahead state file goes (<state directory>/state); without it faults are only tracked in memory. */
  stateDir?: string;
  /**
   * Called with the state file once it exists and before anything is injected: the CLI hands it to
   * the run's watchdog. A failure skips the run, with nothing injected.
   */
  arm?: (stateFile: string) => Promise<void>;
  /** Take the experiment's lock (in `dir`) before anything else; wait up to `waitMs` for a held one. */
  lock?: { dir: string; waitMs: number };
  /** The blast-radius policy in force (.chaoscast.yaml). */
  policy?: Policy;
  /** Skip the run outside the experiment's schedule windows or on a blackout day. */
  respectSchedule?: boolean;
  /** The clock for schedule checks (tests pass their own). */
  now?: () => Date;
}

export interface ResolvedPlan {
  experiment: CompiledExperiment;
  targets: Map<string, Target[]>;
}

export interface RunResult {
  outcome: Outcome;
  exitCode: number;
  reason: string;
  stillInjected: string[];
  /** A bug in chaoscast that happened during the method (after which everything was rolled back). */
  internalError?: unknown;
}

export interface ResolvedTargets {
  targets: Map<string, Target[]>;
  /** Per target block: candidates (after exclusions) and the chosen ones, for the policy. */
  blocks: ResolvedBlock[];
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

export async function runExperiment(experiment: CompiledExperiment, options: RunOptions): Promise<RunResult> {
  const cleanups: (() => Promise<void>)[] = [];
  try {
    return await runLifecycle(experiment, options, cleanups);
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // A cleanup (stopping an embedded proxy) failing must not hide the run's outcome.
      }
    }
  }
}

/** Each action's own preflight check on each of its targets: a fault that cannot work stops the run before any is injected. */
/** Where faults reach beyond their targets (a drain: the namespaces of the pods it would evict). */
export async function actionReach(experiment: CompiledExperiment, targets: Map<string, Target[]>, ctx: RunContext): Promise<BlockScope[]> {
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

export async function preflightActions(experiment: CompiledExperiment, targets: Map<string, Target[]>, ctx: RunContext): Promise<void> {
  for (const fault of experiment.faults) {
    if (!fault.action.preflight) continue;
    for (const target of fault.target ? (targets.get(fault.target) ?? []) : [null]) {
      try {
        await fault.action.preflight(fault.params, target, ctx);
      } catch (err) {
        throw new PreflightError(`fault "${fault.name}"${target ? ` on ${target.label}` : ""} cannot be injected: ${errorMessage(err)}`, { cause: err });
      }
    }
  }
}

async function runLifecycle(experiment: CompiledExperiment, options: RunOptions, cleanups: (() => Promise<void>)[]): Promise<RunResult> {
  const redact = makeRedactor(experiment.secrets);
  const startedAt = performance.now();
  const emit = (body: RunEventBody) => {
    try {
      options.sink(redact({ ...body, at: new Date().toISOString(), t: Math.round(performance.now() - startedAt) }));
    } catch {
      // Reporting must never stop a rollback: a closed terminal or pipe only loses output.
    }
  };
  const finish = (outcome: Outcome, reason: string, stillInjected: string[] = [], recovered: boolean | null = null): RunResult => {
    const exitCode = OUTCOME_EXIT[outcome];
    emit({ type: "run-finished", outcome, exitCode, reason, stillInjected, recovered });
    return { outcome, exitCode, reason: redact(reason), stillInjected };
  };
  const phase = async <T>(name: Phase, work: () => Promise<T>, judge: (value: T) => { ok: boolean; detail?: string }): Promise<T> => {
    emit({ type: "phase-started", phase: name });
    const value = await work();
    emit({ type: "phase-finished", phase: name, ...judge(value) });
    return value;
  };
  const reportCheck = (name: Phase, check: CheckResult) => {
    for (const r of check.results) {
      emit({ type: "observation", phase: name, probe: r.spec.name, ok: r.ok, counted: true, summary: r.observation.summary, failures: r.failures, value: primaryValue(r), durationMs: r.durationMs });
    }
  };

  emit({
    type: "run-started",
    runId: options.runId,
    title: experiment.title,
    file: experiment.file,
    seed: options.seed,
    methodMs: experiment.methodMs,
    faults: experiment.faults.length,
    probes: experiment.steadyState.length,
  });
  const ctx: RunContext = {
    signal: options.interrupt,
    runId: options.runId,
    note: (message) => emit({ type: "note", message }),
    defer: (cleanup) => cleanups.push(cleanup),
  };

  // 1. Preflight: schedule, lock, targets, policy. Failing here touches nothing.
  let targets: Map<string, Target[]>;
  let violations: Violation[] = [];
  try {
    targets = await phase(
      "preflight",
      async () => {
        const policy = options.policy ?? NO_POLICY;
        const checkSchedule = () => {
          if (!(options.respectSchedule || policy.requireWindow) || !experiment.schedule) return;
          const why = scheduleVerdict(experiment.schedule, (options.now ?? (() => new Date()))());
          if (why) throw new PreflightError(`not inside the experiment's schedule: ${why}${policy.requireWindow ? ` (the policy requires a window: ${policy.requireWindow.source})` : ""}`);
        };
        checkSchedule();
        if (options.lock) {
          const lock = await RunLock.acquire({
            dir: options.lock.dir,
            scope: lockScope(experiment),
            runId: options.runId,
            experiment: path.resolve(experiment.file),
            waitMs: options.lock.waitMs,
            signal: options.interrupt,
            onNote: ctx.note,
          });
          cleanups.push(() => lock.release());
          // Waiting for the lock may have outlasted the window: judge the clock again.
          checkSchedule();
        }
        // Contexts and namespaces the policy does not allow are refused before a request reaches them.
        const reach = checkScopes(await targetScopes(experiment, options.registry), policy);
        if (reach.length > 0) {
          violations = [...checkStatic(staticFacts(experiment), policy), ...reach];
          return new Map<string, Target[]>();
        }
        const resolved = await resolveTargets(experiment, options.registry, options.seed, ctx, emit);
        violations = combineViolations(checkStatic(staticFacts(experiment), policy), checkResolved(resolved.blocks, policy));
        if (violations.length === 0) violations = checkScopes(await actionReach(experiment, resolved.targets, ctx), policy);
        if (violations.length === 0) await preflightActions(experiment, resolved.targets, ctx);
        return resolved.targets;
      },
      () => ({ ok: violations.length === 0, ...(violations.length ? { detail: violations.map((v) => v.message).join("; ") } : {}) }),
    );
  } catch (err) {
    if (!(err instanceof PreflightError)) throw err;
    emit({ type: "phase-finished", phase: "preflight", ok: false, detail: err.message });
    return finish("skipped", `preflight failed: ${err.message}`);
  }
  if (violations.length > 0) return finish("refused", `refused by the blast-radius policy: ${violations.map((v) => v.message).join("; ")}; nothing was injected`);
  if (options.interrupt.aborted) return finish("skipped", "interrupted before anything was injected");
  if (options.confirm && !options.dryRun && !(await options.confirm({ experiment, targets }))) {
    return finish("skipped", "not confirmed: nothing was injected");
  }

  // 2. Steady state before.
  if (experiment.steadyState.length > 0) {
    const before = await phase(
      "steady-state-before",
      async () => {
        const check = await checkHypothesis(experiment.steadyState, options.interrupt);
        reportCheck("steady-state-before", check);
        return check;
      },
      (check) => ({ ok: check.ok, ...(check.ok ? {} : { detail: failureText(check) }) }),
    );
    if (options.interrupt.aborted) return finish("skipped", "interrupted before anything was injected");
    if (!before.ok) return finish("skipped", `not in steady state before the method: ${failureText(before)}`);
  }
  if (options.dryRun) return finish("dry-run", "dry run: targets resolved and steady state holds; nothing was injected");

  // 3–4. Method, then rollback whatever happened.
  let state: StateFile | undefined;
  if (options.stateDir) {
    try {
      state = await StateFile.create(options.stateDir, options.runId, await currentOwner(), { file: path.resolve(experiment.file), title: redact(experiment.title) });
    } catch (err) {
      return finish("skipped", `cannot write the run's state file in ${options.stateDir} (${errorMessage(err)}); nothing was injected`);
    }
    if (options.arm) {
      try {
        await options.arm(state.file);
      } catch (err) {
        await state.close().catch(() => {});
        return finish("skipped", `the watchdog could not be armed (${errorMessage(err)}); nothing was injected`);
      }
    }
  }
  const ledger = new FaultLedger({ state, protect: protectSecrets(experiment.secretSources), warn: (message) => emit({ type: "note", message }) });
  const perform = revertPerformer(options.registry.reverts);
  const deps = { runId: options.runId, emit, perform, ledger };
  let abortReason: string | undefined;
  let breaches = 0;
  let internalError: unknown;
  emit({ type: "phase-started", phase: "method" });
  try {
    ({ abortReason, breaches } = await runMethod({ experiment, targets, runId: options.runId, emit, interrupt: options.interrupt, ledger, perform, defer: ctx.defer }));
  } catch (err) {
    internalError = err;
    abortReason = `internal error: ${errorMessage(err)}`;
  }
  emit({ type: "phase-finished", phase: "method", ok: abortReason === undefined, ...(abortReason ? { detail: abortReason } : {}) });

  emit({ type: "phase-started", phase: "rollback" });
  const stillInjected = (await rollbackAll(deps)).map(describeEntry);
  const failedSteps = await runRollbackSteps(experiment.rollbacks, targets, options.runId, emit);
  const rollbackOk = stillInjected.length === 0 && failedSteps.length === 0;
  if (state) {
    try {
      if ((await state.close()) === "kept") emit({ type: "note", message: `what could not be reverted is recorded in ${state.file}; retry with: chaoscast rollback --run ${options.runId}` });
    } catch (err) {
      emit({ type: "note", message: `could not finish the state file ${state.file}: ${errorMessage(err)}` });
    }
  }
  emit({ type: "phase-finished", phase: "rollback", ok: rollbackOk });
  if (!rollbackOk) {
    const what = [...stillInjected, ...failedSteps.map((s) => `rollback step "${s}"`)];
    return { ...finish("rollback-failed", `could not revert: ${what.join(", ")}`, what), internalError };
  }

  // 5. Recovery: the hypothesis must hold again within recovery.timeout.
  if (internalError !== undefined) return { ...finish("aborted", `${abortReason}; rolled back`), internalError };
  if (options.interrupt.aborted) return finish("aborted", abortReason ?? "interrupted", [], null);
  const recovered = experiment.steadyState.length === 0 ? true : await recover(experiment, options.interrupt, emit, reportCheck);
  // A signal during recovery cut the wait short: that says nothing about the system, so no verdict.
  if (options.interrupt.aborted && !recovered) {
    return finish("aborted", `${abortReason ? `${abortReason}; rolled back` : "everything was reverted"}, then interrupted while waiting for the steady state to return`, [], null);
  }
  if (abortReason !== undefined) {
    return finish("aborted", `${abortReason}; rolled back${recovered ? " and recovered" : `, but steady state did not return within ${formatDuration(experiment.recovery.timeoutMs)}`}`, [], recovered);
  }
  if (!recovered) return finish("deviated", `steady state did not return within ${formatDuration(experiment.recovery.timeoutMs)} after rollback`, [], false);
  const during = breaches === 0 ? "during" : `during (apart from ${breaches} isolated breach(es), fewer than ${experiment.abort.after} in a row)`;
  const watched = experiment.steadyState.length > 0 ? `the steady state held before, ${during} and after the faults` : "no steadyState was declared, so nothing was watched";
  const irreversible = ledger.entries.filter((e) => e.revert === null && e.state === "reverted").length;
  const reverted = irreversible > 0 ? `every reversible fault was reverted (${irreversible} cannot be undone by design)` : "everything was reverted";
  return finish("passed", `${watched}; ${reverted}`, [], true);
}

async function recover(
  experiment: CompiledExperiment,
  interrupt: AbortSignal,
  emit: (event: RunEventBody) => void,
  reportCheck: (name: Phase, check: CheckResult) => void,
): Promise<boolean> {
  emit({ type: "phase-started", phase: "recovery" });
  const deadline = performance.now() + experiment.recovery.timeoutMs;
  let last: CheckResult | undefined;
  while (!interrupt.aborted) {
    const roundStart = performance.now();
    last = await checkHypothesis(experiment.steadyState, interrupt);
    reportCheck("recovery", last);
    if (last.ok || performance.now() >= deadline) break;
    await sleep(Math.min(experiment.recovery.intervalMs - (performance.now() - roundStart), deadline - performance.now()), interrupt);
  }
  const ok = last?.ok === true;
  emit({ type: "phase-finished", phase: "recovery", ok, ...(ok || !last ? {} : { detail: failureText(last) }) });
  return ok;
}

/** The facts the policy judges before any target is resolved. */
export function staticFacts(experiment: CompiledExperiment): StaticFacts {
  return {
    methodMs: experiment.methodMs,
    hasWindows: (experiment.schedule?.windows?.length ?? 0) > 0,
    percents: experiment.targets.flatMap((t) => (t.select?.percent !== undefined ? [{ target: t.name, percent: t.select.percent }] : [])),
  };
}

/** Runs of the same experiment file exclude each other, unless `lock:` names a scope to share. */
export function lockScope(experiment: CompiledExperiment): string {
  return experiment.lock ? `lock "${experiment.lock}"` : path.resolve(experiment.file);
}

function failureText(check: CheckResult): string {
  return check.results
    .filter((r) => !r.ok)
    .map((r) => `${r.spec.name}: ${r.failures.join("; ")}`)
    .join(" | ");
}

function describeEntry(entry: InjectedFault): string {
  return `${entry.fault}${entry.target ? ` on ${entry.target.label}` : ""} (${entry.revert?.description ?? "no revert"})`;
}
