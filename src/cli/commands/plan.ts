// `chaoscast plan`: resolve targets and show the fault timeline, probes and abort rule. Read-only.

import { isInBand } from "../../engine/in-band.js";
import { formatDuration } from "../../contract/duration.js";
import type { CompiledExperiment } from "../../contract/compiled-experiment.js";
import { runPreflight, type GateVerdict, type PreflightResult } from "../../engine/preflight.js";
import { loadPolicy } from "../../policy/file.js";
import type { RunEventBody } from "../../contract/events.js";
import type { Target } from "../../contract/adapter.js";
import { buildTimeline } from "../../engine/timeline.js";
import { makeRedactor } from "../../contract/redact.js";
import { makeStyle } from "../render/style.js";
import { forTerminal as t, terminalSafeJson } from "../../util/terminal-text.js";
import { budgetCheck, defaultSeed, haltFile, loadExperiments, locksDir, registry, type CommonOptions } from "../shared.js";
import { guardsOf } from "../../engine/guards.js";
import { describeCohorts } from "../../engine/cohort.js";
import { COHORT_TAGS_FAULT } from "../../experiment/cohorts.js";

export async function planCommand(paths: string[], options: CommonOptions): Promise<number> {
  const experiments = await loadExperiments(paths, options);
  const seed = options.seed ?? defaultSeed();
  const { policy, files: policyFiles } = await loadPolicy();
  const style = makeStyle(process.stdout, options.color);
  const plans: unknown[] = [];
  let exit = 0;
  for (const experiment of experiments) {
    const redact = makeRedactor(experiment.secrets);
    const resolved: Extract<RunEventBody, { type: "targets-resolved" }>[] = [];
    const cleanups: (() => Promise<void>)[] = [];
    let preflight: PreflightResult;
    try {
      const ctx = { signal: new AbortController().signal, runId: "plan", note: () => {}, defer: (cleanup: () => Promise<void>) => void cleanups.push(cleanup) };
      // The same gates a run passes, asked without taking anything: a context or namespace the
      // policy does not allow is never contacted, not even to list targets.
      preflight = await runPreflight({
        experiment,
        registry,
        seed,
        policy,
        ctx,
        emit: (e) => {
          if (e.type === "targets-resolved") resolved.push(e);
        },
        mode: "plan",
        respectSchedule: false,
        now: () => new Date(),
        lock: { dir: locksDir(), waitMs: 0, runId: "plan" },
        budget: budgetCheck,
        guards: guardsOf(policy, haltFile()),
      });
    } finally {
      // Anything resolving started (an embedded proxy) is stopped: plan changes nothing.
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    }
    const statuses = preflight.verdicts.map((v) => v.status);
    exit = Math.max(exit, statuses.includes("refused") ? 4 : statuses.includes("failed") ? 5 : 0);
    const verdict = { files: policyFiles, ok: preflight.violations.length === 0, violations: preflight.violations.map((v) => v.message) };
    const problem = preflight.verdicts.find((v) => v.status === "failed")?.detail;
    const plan = redact({ ...describePlan(experiment, preflight.targets, resolved, seed, problem, preflight.verdicts), policy: verdict });
    plans.push(plan);
    if (options.output !== "json") printPlan(plan, style);
  }
  if (options.output === "json") process.stdout.write(`${terminalSafeJson(plans.length === 1 ? plans[0] : plans, 2)}\n`);
  return exit;
}

function describePlan(
  experiment: CompiledExperiment,
  targets: Map<string, Target[]>,
  resolved: Extract<RunEventBody, { type: "targets-resolved" }>[],
  seed: string,
  problem: string | undefined,
  gates: GateVerdict[],
) {
  const doc = experiment.display as { faults?: { name?: unknown; with?: unknown }[]; steadyState?: { expect?: unknown }[] };
  return {
    file: experiment.file,
    title: experiment.title,
    seed,
    methodMs: experiment.methodMs,
    preflight: problem ? { ok: false, problem, gates } : { ok: true, gates },
    targets: resolved.map((r) => ({ name: r.target, description: r.description, candidates: r.candidates, excluded: r.excluded, chosen: r.chosen })),
    timeline: buildTimeline(experiment.faults, experiment.methodMs).map((step) => {
      const fault = experiment.faults[step.fault]!;
      return {
        atMs: step.atMs,
        event: step.kind === "inject" ? "inject" : "revert",
        fault: fault.name,
        action: fault.action.name,
        reversible: fault.action.reversible === "when-configured" ? (fault.action.revertConfigured?.(fault.params) ?? false) : fault.action.reversible === "always",
        target: fault.target ?? null,
        hits: fault.target ? (targets.get(fault.target) ?? []).map((t) => t.label) : [],
        // As written; a fault the run adds itself (the cohort tags) has only its compiled parameters.
        with: faultWith(experiment, fault, doc.faults?.find((f) => f.name === fault.name)?.with),
      };
    }),
    steadyState: experiment.steadyState.map((p, i) => ({ name: p.name, probe: p.probe.name, expect: doc.steadyState?.[i]?.expect ?? p.probe.defaultExpect, inBand: isInBand(p) })),
    cohorts: experiment.cohorts ? describeCohorts(experiment.cohorts, experiment.methodMs, experiment.abort.intervalMs) : null,
    abort: experiment.abort,
    recovery: experiment.recovery,
    rollbacks: experiment.rollbacks.map((r) => ({ name: r.name, action: r.action.name })),
  };
}

/**
 * A fault's parameters as written; with cohorts, the viewers the run confines it to are shown too,
 * and the fault the run adds itself (the cohort tags) shows its compiled parameters.
 */
function faultWith(experiment: CompiledExperiment, fault: CompiledExperiment["faults"][number], written: unknown): unknown {
  if (!experiment.cohorts) return written ?? {};
  if (fault.name === COHORT_TAGS_FAULT) return fault.params;
  return { ...(written as object | undefined), viewerPercent: `${experiment.cohorts.sizePercent}% (the experiment cohort)`, viewerRequired: true };
}

/**
 * The plan as text. Nearly every string in it came from outside chaoscast (the file's title and
 * names, target labels, selector values, messages quoting them): each goes through forTerminal,
 * and the `with` and `expect` values through terminalSafeJson, before any colour is added.
 */
function printPlan(plan: ReturnType<typeof describePlan> & { policy: { files: string[]; ok: boolean; violations: string[] } }, style: ReturnType<typeof makeStyle>): void {
  const out: string[] = [];
  out.push(`${style.bold(t(plan.title))}  ${style.dim(`${t(plan.file)} · method ${formatDuration(plan.methodMs)} · seed ${t(plan.seed)}`)}`);
  out.push(style.bold("Targets") + (plan.targets.some((x) => x.chosen.length < x.candidates) ? style.dim(`  (a run picks these with --seed ${t(plan.seed)}; without it, its own seed picks)`) : ""));
  for (const target of plan.targets) {
    out.push(`  ${t(target.name)}: ${target.chosen.length} of ${target.candidates} ${t(target.description)}`);
    for (const c of target.chosen) out.push(`    → ${t(c.label)}`);
    for (const c of target.excluded) out.push(style.dim(`    ✗ ${t(c.label)} (excluded: chaoscast.io/exclude=true)`));
  }
  out.push(style.bold("Timeline"));
  for (const step of plan.timeline) {
    const hits = step.target ? ` → ${t(step.target)}${step.hits.length ? ` (${t(step.hits.join(", "))})` : ""}` : "";
    const note = step.event === "inject" && !step.reversible ? style.yellow(" [cannot be reverted]") : "";
    out.push(`  ${formatDuration(step.atMs).padStart(6)}  ${step.event.padEnd(6)} ${t(step.fault)} (${t(step.action)})${hits} ${style.dim(terminalSafeJson(step.with))}${note}`);
  }
  out.push(`  ${formatDuration(plan.methodMs).padStart(6)}  end    method ends; everything still injected is reverted`);
  out.push(style.bold("Steady-state hypothesis"));
  if (plan.steadyState.length === 0) out.push(style.yellow("  (none: nothing is watched, the run cannot abort on a breach)"));
  for (const p of plan.steadyState) out.push(`  ${t(p.name)} (${t(p.probe)}${p.inBand ? ", in-band: judged at each change, a breach aborts at once" : ""}): expect ${terminalSafeJson(p.expect)}`);
  if (plan.cohorts) out.push(`${style.bold("Cohort verdict")}: ${t(plan.cohorts)}`);
  out.push(
    `${style.bold("Abort")} after ${plan.abort.after} consecutive breach(es), probes every ${formatDuration(plan.abort.intervalMs)}${plan.abort.graceMs ? `, ${formatDuration(plan.abort.graceMs)} grace after each injection` : ""}; recovery within ${formatDuration(plan.recovery.timeoutMs)}${plan.recovery.holdMs ? `, holding ${formatDuration(plan.recovery.holdMs)}` : ""}`,
  );
  if (plan.rollbacks.length) out.push(`${style.bold("Extra rollback steps")}: ${plan.rollbacks.map((r) => `${t(r.name)} (${t(r.action)})`).join(", ")}`);
  out.push(style.bold("Blast-radius policy"));
  if (plan.policy.files.length === 0) out.push(style.dim("  no .chaoscast.yaml found (here, in a parent directory or in your home): no limits beyond the experiment's own"));
  else out.push(style.dim(`  from ${t(plan.policy.files.join(", "))}`));
  if (plan.policy.ok) out.push(style.green(`  ✔ within the policy`));
  for (const v of plan.policy.violations) out.push(style.red(`  ✖ refused: ${t(v)}`));
  out.push(style.bold("Preflight gates") + style.dim("  (a run stops at the first that does not pass)"));
  for (const gate of plan.preflight.gates) {
    const mark = gate.status === "passed" ? style.green("✔") : gate.status === "failed" || gate.status === "refused" ? style.red("✖") : style.dim("·");
    out.push(`  ${mark} ${gate.gate.padEnd(8)} ${gate.status === "passed" ? "" : `${gate.status}: `}${t(gate.detail)}`);
  }
  out.push(style.dim("Nothing was injected."));
  process.stdout.write(`${out.join("\n")}\n\n`);
}
