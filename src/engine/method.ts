// The method: faults injected on their timeline while the steady-state probes run every
// abort.interval; `abort.after` consecutive breaches abort it at once, and so does a single breach
// an in-band probe pushes between rounds.

import type { CompiledExperiment, ProbeSpec } from "../contract/compiled-experiment.js";
import { errorMessage } from "../errors.js";
import { combinedSignal, sleep } from "../util/abortable.js";
import type { Phase, RunEventBody } from "../contract/events.js";
import { checkHypothesis, observationEvent, type ProbeResult } from "./hypothesis.js";
import { InBandWatch } from "./in-band.js";
import type { FaultLedger, InjectedFault } from "./injected.js";
import { DEFAULT_ROLLBACK_POLICY, revertOne, type PerformRevert } from "./rollback.js";
import { buildTimeline } from "./timeline.js";
import { FILE_GUARD_INTERVAL_MS, isFileGuard, trippedGuard, type Guard } from "./guards.js";
import type { Revert, RunContext, Target } from "../contract/adapter.js";
import { CohortComparison, watchCohorts } from "./cohort.js";

export interface MethodOptions {
  experiment: CompiledExperiment;
  targets: ReadonlyMap<string, Target[]>;
  runId: string;
  emit: (event: RunEventBody) => void;
  /** Aborted when the user interrupts the run. */
  interrupt: AbortSignal;
  /** Every injection is recorded here (and in the state file) before it is applied. */
  ledger: FaultLedger;
  perform: PerformRevert;
  defer: (cleanup: () => Promise<void>) => void;
  /** The halt file and the policy's guards: one that trips aborts the method as a breach would. */
  guards?: readonly Guard[];
}

export interface MethodResult {
  /** Why the method stopped early, or undefined when it ran its full length. */
  abortReason: string | undefined;
  /** Rounds that breached (counted), including those fewer than abort.after in a row. */
  breaches: number;
  /** The cohort verdict, for an experiment with cohorts. */
  cohorts?: Extract<RunEventBody, { type: "cohort-verdict" }>;
}

export async function runMethod(options: MethodOptions): Promise<MethodResult> {
  const { experiment, emit, ledger } = options;
  const deps = { runId: options.runId, emit, perform: options.perform, ledger };
  const stop = new AbortController();
  let abortReason: string | undefined;
  const abort = (reason: string) => {
    if (abortReason !== undefined) return;
    abortReason = reason;
    emit({ type: "abort", reason });
    stop.abort();
  };
  const onInterrupt = () => {
    const reason = String(options.interrupt.reason ?? "a signal");
    abort(reason.startsWith("SIG") ? `interrupted by ${reason}` : reason);
  };
  if (options.interrupt.aborted) onInterrupt();
  options.interrupt.addEventListener("abort", onInterrupt, { once: true });

  // Notes made while a step injects wait for its fault-injected events; any other (an action's
  // progress while its fault holds) goes out at once.
  const notes: string[] = [];
  let injecting = false;
  const ctx: RunContext = { signal: stop.signal, runId: options.runId, note: (m) => (injecting ? notes.push(m) : emit({ type: "note", message: m })), defer: options.defer };
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  let graceUntil = -Infinity;

  let breaches = 0;
  // In-band probes push what they see: a breach they push aborts at once, outside the rounds.
  const inBand = new InBandWatch(experiment.steadyState, stop.signal, (result) => {
    if (stop.signal.aborted) return;
    // Inside a grace period (which starts while a fault is being injected: it may already be in
    // effect before its injection returns) the round will journal it, uncounted.
    if (experiment.abort.graceMs !== 0 && (injecting || elapsed() < graceUntil)) return;
    breaches += 1;
    emit(observationEvent("method", result, true));
    emit({ type: "breach", probes: [result.spec.name], consecutive: 1, after: 1, inBand: true });
    abort(`steady state breached in-band (${result.spec.name}: ${result.failures.join("; ")})`);
  }, (message) => emit({ type: "note", message }));
  const watcher = watch(experiment, stop.signal, (event) => {
    if (event.type === "breach") breaches += 1;
    emit(event);
  }, () => graceUntil, abort, elapsed, (spec) => inBand.fresh(spec));

  const guarding = watchGuards(options.guards ?? [], experiment.abort.intervalMs, stop.signal, abort);

  // The cohorts' counters before the first fault: the comparison counts from here. Counters that
  // cannot be read stop the run before anything is injected.
  const comparison = experiment.cohorts ? new CohortComparison(experiment.cohorts, experiment.methodMs, experiment.abort.intervalMs) : undefined;
  let comparing: Promise<void> | undefined;
  if (comparison) {
    try {
      await comparison.start(stop.signal);
      comparing = watchCohorts(comparison, { intervalMs: experiment.abort.intervalMs, after: experiment.abort.after, stop: stop.signal, emit, abort });
    } catch (err) {
      abort(`the cohorts' starts cannot be read (${errorMessage(err)}); nothing was injected`);
    }
  }

  try {
    for (const step of buildTimeline(experiment.faults, experiment.methodMs)) {
      await sleep(step.atMs - elapsed(), stop.signal);
      if (stop.signal.aborted) break;
      const fault = experiment.faults[step.fault]!;
      if (step.kind === "end") {
        for (const entry of ledger.entries.filter((e) => e.fault === fault.name && e.state === "injected")) {
          if (!(await revertOne(entry, deps, DEFAULT_ROLLBACK_POLICY, true))) {
            abort(`fault "${fault.name}" could not be reverted when its duration ended`);
          }
        }
        continue;
      }
      const targets: (Target | null)[] = fault.target ? (options.targets.get(fault.target) ?? []) : [null];
      injecting = true;
      for (const target of targets) {
        const ref = target ? { id: target.id, label: target.label } : null;
        let revert: Revert | null = null;
        let entry: InjectedFault | undefined;
        try {
          const injection = await fault.action.prepare(fault.params, target, ctx);
          revert = injection.revert;
          // Write-ahead: the revert is on record (and on disk) before anything changes.
          // An abort (a breach, a guard, a signal) that came while the injection was being prepared
          // stops it here, before anything changes.
          if (stop.signal.aborted) break;
          entry = await ledger.intend({ fault: fault.name, action: fault.action.name, target: ref, revert });
          await injection.apply(ctx);
          await ledger.update(entry, "injected");
          graceUntil = elapsed() + experiment.abort.graceMs;
          emit({ type: "fault-injected", fault: fault.name, action: fault.action.name, target: ref, revert: revert?.description ?? null });
        } catch (err) {
          // An apply that failed half-way is still reverted by the rollback (reverts are idempotent);
          // one that never got on record changed nothing.
          if (entry && revert) entry.state = "injected";
          else if (entry) await ledger.update(entry, "reverted"); // nothing to undo: clear it from the record
          emit({ type: "fault-failed", fault: fault.name, action: fault.action.name, target: ref, error: errorMessage(err) });
          abort(`fault "${fault.name}" could not be injected${ref ? ` into ${ref.label}` : ""}: ${errorMessage(err)}`);
          break;
        }
      }
      injecting = false;
      for (const message of notes.splice(0)) emit({ type: "note", message });
    }
    await sleep(experiment.methodMs - elapsed(), stop.signal);
  } catch (err) {
    abort(`internal error: ${errorMessage(err)}`);
    throw err;
  } finally {
    stop.abort();
    options.interrupt.removeEventListener("abort", onInterrupt);
    await watcher;
    await inBand.done();
    await guarding;
    await comparing;
  }
  if (!comparison) return { abortReason, breaches };
  const cohorts = comparison.verdict();
  emit(cohorts);
  return { abortReason, breaches, cohorts };
}

/** The continuous check: one round of probes per interval, until the method stops. */
async function watch(
  experiment: CompiledExperiment,
  stop: AbortSignal,
  emit: (event: RunEventBody) => void,
  graceUntil: () => number,
  abort: (reason: string) => void,
  elapsed: () => number,
  known: (spec: ProbeSpec) => ProbeResult | undefined,
): Promise<void> {
  const { intervalMs, after } = experiment.abort;
  const phase: Phase = "method";
  let consecutive = 0;
  while (!stop.aborted && experiment.steadyState.length > 0) {
    const roundStart = elapsed();
    // A probe that cannot answer within one interval counts as a breach: that bounds abort latency.
    const check = await checkHypothesis(experiment.steadyState, stop, intervalMs, known);
    if (stop.aborted) return; // results cut short by the end of the method are not judged
    // With no grace configured every breach counts, even in a round that overlapped an injection.
    const counted = experiment.abort.graceMs === 0 || roundStart >= graceUntil();
    for (const r of check.results) {
      emit(observationEvent(phase, r, r.ok || counted));
    }
    const breached = check.results.filter((r) => !r.ok).map((r) => r.spec.name);
    if (breached.length > 0 && counted) {
      consecutive += 1;
      emit({ type: "breach", probes: breached, consecutive, after });
      if (consecutive >= after) {
        const detail = check.results.filter((r) => !r.ok).map((r) => `${r.spec.name}: ${r.failures.join("; ")}`).join(" | ");
        abort(`steady state breached ${consecutive} time(s) in a row (${detail})`);
        return;
      }
    } else if (breached.length === 0 && check.results.every((r) => r.inconclusive === undefined)) consecutive = 0;
    // An inconclusive round (a query with no data, judged so by the user) neither breaches nor
    // proves the steady state: it leaves the count of breaches in a row as it was.
    await sleep(roundStart + intervalMs - elapsed(), stop);
  }
}

/**
 * The guards, all through the method: a halt file every 200 ms (a halt is seen within that), the
 * others (HTTP, Prometheus) once per abort interval, at least a second apart.
 */
async function watchGuards(guards: readonly Guard[], intervalMs: number, stop: AbortSignal, abort: (reason: string) => void): Promise<void> {
  if (guards.length === 0) return;
  const files = guards.filter(isFileGuard);
  const others = guards.filter((g) => !isFileGuard(g));
  const loop = async (list: readonly Guard[], everyMs: number) => {
    while (!stop.aborted && list.length > 0) {
      const round = performance.now();
      // A guard gets one round to answer, whatever its own timeout: one that hangs says no.
      const tripped = await trippedGuard(list, combinedSignal([stop], Math.max(everyMs, 1000))).catch((err: unknown) => `a guard could not be checked (${errorMessage(err)})`);
      if (stop.aborted) return;
      if (tripped) return abort(`halted by a guard: ${tripped}`);
      await sleep(round + everyMs - performance.now(), stop);
    }
  };
  await Promise.all([loop(files, FILE_GUARD_INTERVAL_MS), loop(others, Math.max(intervalMs, 1000))]);
}
