// The run lifecycle: preflight → steady state before → method → rollback → recovery → outcome.
// Rollback is in a `finally`: errors, aborts and interrupts all pass through it.

import type { CompiledExperiment } from "../contract/compiled-experiment.js";
import { ChaoscastError, errorMessage } from "../errors.js";
import type { Slo } from "../slo/model.js";
import { burnCapProbe, loadRunSlo, reportRunBudget } from "./run-budget.js";
import { sleep } from "../util/abortable.js";
import { formatDuration } from "../contract/duration.js";
import type { EventSink, Outcome, RunEventBody } from "../contract/events.js";
import { checkHypothesis, describeHypothesis, observationEvent, type CheckResult } from "./hypothesis.js";
import { FaultLedger, type InjectedFault } from "./injected.js";
import { StateFile } from "./state.js";
import { NO_POLICY, type Policy } from "../policy/rules.js";
import { runPreflight, type BudgetCheck } from "./preflight.js";
import { currentOwner } from "../util/process-owner.js";
import { protectSecrets } from "../contract/redact.js";
import path from "node:path";
import { OUTCOME_EXIT } from "./outcome.js";
import { makeRedactor } from "../contract/redact.js";
import type { RegistryView } from "../contract/registry-view.js";
import { revertPerformer, rollbackAll, runRollbackSteps } from "./rollback.js";
import { runMethod, type MethodResult } from "./method.js";
import { guardsOf, trippedGuard } from "./guards.js";
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
  /** Asks for the error budget when the experiment has a budget gate. */
  budget?: BudgetCheck;
  /** The file `chaoscast halt` writes: while it exists, no run starts and every running one aborts. */
  haltFile?: string;
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
      emit(observationEvent(name, r, true));
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
    hypothesis: describeHypothesis(experiment.steadyState),
    intervalMs: experiment.abort.intervalMs,
  });
  const ctx: RunContext = {
    signal: options.interrupt,
    runId: options.runId,
    note: (message) => emit({ type: "note", message }),
    defer: (cleanup) => cleanups.push(cleanup),
  };

  const guards = guardsOf(options.policy ?? NO_POLICY, options.haltFile);
  // 1. Preflight: one gate after another (engine/preflight.ts). Failing here touches nothing.
  emit({ type: "phase-started", phase: "preflight" });
  const preflight = await runPreflight({
    experiment,
    registry: options.registry,
    seed: options.seed,
    policy: options.policy ?? NO_POLICY,
    ctx,
    emit,
    mode: "run",
    respectSchedule: options.respectSchedule ?? false,
    now: options.now ?? (() => new Date()),
    ...(options.lock ? { lock: { ...options.lock, runId: options.runId } } : {}),
    onLocked: (lock) => cleanups.push(() => lock.release()),
    ...(options.budget ? { budget: options.budget } : {}),
    guards,
  });
  for (const verdict of preflight.verdicts) emit({ type: "gate", ...verdict });
  const stop = preflight.stoppedAt;
  emit({ type: "phase-finished", phase: "preflight", ok: stop === undefined, ...(stop ? { detail: stop.detail } : {}) });
  if (stop?.status === "refused") return finish("refused", `refused by the blast-radius policy: ${preflight.violations.map((v) => v.message).join("; ")}; nothing was injected`);
  if (stop) return finish("skipped", `preflight failed at the ${stop.gate} gate: ${stop.detail}`);
  const targets = preflight.targets;
  // The budget gate passed: its SLO is read once more for what the run spends (the file was
  // validated when the experiment was loaded; reading it now keeps the measure honest if it changed).
  let slo: Slo | undefined;
  if (experiment.budget) {
    if (preflight.budget) {
      const b = preflight.budget;
      emit({ type: "budget", stage: "before", slo: b.slo, from: null, to: new Date().toISOString(), sli: b.sli ?? null, events: b.events ?? 0, spent: null, remaining: b.remaining ?? null, chaosWindow: experiment.budget.chaosWindow });
    }
    try {
      slo = await loadRunSlo(experiment);
    } catch (err) {
      return finish("skipped", `the SLO of the budget gate cannot be read: ${err instanceof ChaoscastError ? err.userMessage() : errorMessage(err)}; nothing was injected`);
    }
  }
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
  // The guards once more, right before the first injection: a halt thrown while the steady state
  // was being checked (a slow probe) must keep this run from injecting anything.
  const haltedBy = guards.length > 0 ? await trippedGuard(guards, options.interrupt) : null;
  if (haltedBy) {
    await state?.close().catch(() => {});
    return finish("skipped", `halted before the method: ${haltedBy}; nothing was injected`);
  }
  const ledger = new FaultLedger({ state, protect: protectSecrets(experiment.secretSources), warn: (message) => emit({ type: "note", message }) });
  const perform = revertPerformer(options.registry.reverts);
  const deps = { runId: options.runId, emit, perform, ledger };
  let abortReason: string | undefined;
  let breaches = 0;
  let cohorts: MethodResult["cohorts"];
  let internalError: unknown;
  emit({ type: "phase-started", phase: "method" });
  const methodFrom = new Date();
  // With maxBurnRate, the SLO's burn since the faults began is one more probe, during the method only.
  const methodExperiment =
    slo && experiment.budget?.maxBurnRate !== undefined ? { ...experiment, steadyState: [...experiment.steadyState, burnCapProbe(experiment, slo, () => methodFrom.getTime())] } : experiment;
  try {
    ({ abortReason, breaches, cohorts } = await runMethod({ experiment: methodExperiment, targets, runId: options.runId, emit, interrupt: options.interrupt, ledger, perform, defer: ctx.defer, guards }));
  } catch (err) {
    internalError = err;
    abortReason = `internal error: ${errorMessage(err)}`;
  }
  const methodTo = new Date();
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
  if (slo && !options.interrupt.aborted) await reportRunBudget(experiment, slo, { from: methodFrom, to: methodTo }, options.interrupt, emit);
  // A signal during recovery cut the wait short: that says nothing about the system, so no verdict.
  if (options.interrupt.aborted && !recovered) {
    return finish("aborted", `${abortReason ? `${abortReason}; rolled back` : "everything was reverted"}, then interrupted while waiting for the steady state to return`, [], null);
  }
  if (abortReason !== undefined) {
    if (recovered) return finish("aborted", `${abortReason}; rolled back and recovered`, [], true);
    return finish("unrecovered", `${abortReason}; rolled back, but steady state did not return within ${formatDuration(experiment.recovery.timeoutMs)}`, [], false);
  }
  if (!recovered) return finish("deviated", `steady state did not return within ${formatDuration(experiment.recovery.timeoutMs)} after rollback`, [], false);
  // A comparison that could not conclude proves nothing: a run must not pass on cohorts it never compared.
  if (cohorts?.verdict === "inconclusive") return finish("deviated", `the cohort comparison could not conclude: ${cohorts.detail}`, [], true);
  const during = breaches === 0 ? "during" : `during (apart from ${breaches} isolated breach(es), fewer than ${experiment.abort.after} in a row)`;
  const watched = experiment.steadyState.length > 0 ? `the steady state held before, ${during} and after the faults` : "no steadyState was declared, so nothing was watched";
  const irreversible = ledger.entries.filter((e) => e.revert === null && e.state === "reverted").length;
  const reverted = irreversible > 0 ? `every reversible fault was reverted (${irreversible} cannot be undone by design)` : "everything was reverted";
  const compared = cohorts ? `; the cohorts showed ${cohorts.detail}` : "";
  return finish("passed", `${watched}${compared}; ${reverted}`, [], true);
}

async function recover(
  experiment: CompiledExperiment,
  interrupt: AbortSignal,
  emit: (event: RunEventBody) => void,
  reportCheck: (name: Phase, check: CheckResult) => void,
): Promise<boolean> {
  emit({ type: "phase-started", phase: "recovery" });
  const { timeoutMs, intervalMs, holdMs } = experiment.recovery;
  const deadline = performance.now() + timeoutMs;
  let last: CheckResult | undefined;
  // Since when every check has passed (undefined: the last one did not): back once that is holdMs.
  let heldSince: number | undefined;
  let held = false;
  while (!interrupt.aborted) {
    const roundStart = performance.now();
    last = await checkHypothesis(experiment.steadyState, interrupt);
    reportCheck("recovery", last);
    heldSince = last.ok ? (heldSince ?? roundStart) : undefined;
    held = heldSince !== undefined && roundStart - heldSince >= holdMs;
    if (held || performance.now() >= deadline) break;
    await sleep(Math.min(intervalMs - (performance.now() - roundStart), deadline - performance.now()), interrupt);
  }
  const ok = last?.ok === true && held;
  const detail = ok || !last ? undefined : last.ok ? `the steady state came back but did not hold for ${formatDuration(holdMs)}` : failureText(last);
  emit({ type: "phase-finished", phase: "recovery", ok, ...(detail ? { detail } : {}) });
  return ok;
}

function failureText(check: CheckResult): string {
  return check.results
    .filter((r) => !r.ok || r.inconclusive !== undefined)
    .map((r) => (r.inconclusive !== undefined ? `${r.spec.name}: inconclusive (${r.inconclusive})` : `${r.spec.name}: ${r.failures.join("; ")}`))
    .join(" | ");
}

function describeEntry(entry: InjectedFault): string {
  return `${entry.fault}${entry.target ? ` on ${entry.target.label}` : ""} (${entry.revert?.description ?? "no revert"})`;
}
