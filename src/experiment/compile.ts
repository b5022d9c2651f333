// The checks a schema cannot express (a fault names an existing target of the right kind, names are
// unique, the timeline fits) and the binding of each action and probe to its definition.

import type { RegistryView } from "../contract/registry-view.js";
import type { ActionDef, ProbeDef } from "../contract/adapter.js";
import { didYouMean } from "../util/did-you-mean.js";
import { ExpectSyntaxError, parseExpectation, type Expectation } from "../contract/expect.js";
import { formatDuration } from "../contract/duration.js";
import type { ExperimentDocument } from "./schema.js";
import type { Selection } from "../contract/selection.js";
import type { CompiledExperiment, FaultSpec, ProbeSpec, RollbackStep, TargetSpec } from "../contract/compiled-experiment.js";
import { compileCohorts } from "./cohorts.js";

/**
 * Problems beyond this many are not shown (see the loader): no "did you mean" search for them. The
 * search is quadratic in the lengths of the names too, so names longer than 64 characters get none.
 */
const SUGGESTIONS = 100;

export interface SemanticProblem {
  path: (string | number)[];
  message: string;
  at?: "value" | "key";
}

export type CompileResult =
  | { ok: true; experiment: Omit<CompiledExperiment, "file" | "display" | "secrets" | "secretSources" | "variables"> }
  | { ok: false; problems: SemanticProblem[] };

export function compileExperiment(doc: ExperimentDocument, registry: RegistryView): CompileResult {
  const problems: SemanticProblem[] = [];

  const targets: TargetSpec[] = [];
  // Declared but invalid (reported here): a fault naming one is not also an "unknown target".
  const broken = new Set<string>();
  for (const [name, block] of Object.entries(doc.targets ?? {})) {
    const kinds = Object.keys(block).filter((k) => k !== "select" && (block as Record<string, unknown>)[k] !== undefined);
    if (kinds.length !== 1) {
      broken.add(name);
      problems.push({
        path: ["targets", name],
        message:
          kinds.length === 0
            ? `target "${name}" needs one of: ${[...registry.targetKinds.keys()].join(", ")}`
            : `target "${name}" names ${kinds.join(" and ")}; a target uses exactly one adapter`,
      });
      continue;
    }
    const kind = kinds[0]!;
    targets.push({ name, kind, selector: (block as Record<string, unknown>)[kind], select: block.select as Selection | undefined });
  }
  const targetNames = targets.map((t) => t.name);

  const checkTarget = (action: ActionDef, target: string | undefined, path: (string | number)[]) => {
    if (action.target === null) {
      if (target !== undefined) {
        problems.push({ path: [...path, "target"], message: `${action.name} acts on no target; remove "target"` });
      }
      return;
    }
    if (target === undefined) {
      problems.push({ path, message: `${action.name} needs a target: a block under targets: with "${action.target}:"` });
      return;
    }
    const found = targets.find((t) => t.name === target);
    if (!found && broken.has(target)) return;
    if (!found) {
      // A file can declare thousands of targets and name thousands of unknown ones: keep each message short,
      // and look for suggestions only while the problems can still be shown.
      const listed = targetNames.length > 10 ? `${targetNames.slice(0, 10).join(", ")} … (${targetNames.length} in all)` : targetNames.join(", ");
      const declared = targetNames.length ? `; declared targets: ${listed}` : "; no targets are declared";
      const hint = problems.length < SUGGESTIONS && target.length <= 64 ? didYouMean(target, targetNames.filter((n) => n.length <= 64)) : "";
      problems.push({ path: [...path, "target"], message: `unknown target "${target}"${hint}${declared}` });
    } else if (found.kind !== action.target) {
      problems.push({
        path: [...path, "target"],
        message: `${action.name} needs a ${action.target} target, but "${target}" is a ${found.kind} target`,
      });
    }
  };

  checkUnique(doc.faults.map((f) => f.name), ["faults"], "fault", problems);
  checkUnique((doc.steadyState ?? []).map((p) => p.name), ["steadyState"], "probe", problems);

  const methodMs = doc.duration ?? Math.max(0, ...doc.faults.map((f) => (f.duration === undefined ? NaN : (f.at ?? 0) + f.duration)));
  const faults: FaultSpec[] = doc.faults.map((fault, i) => {
    const action = registry.actions.get(fault.action)!;
    const path = ["faults", i];
    checkTarget(action, fault.target, path);
    const atMs = fault.at ?? 0;
    if (doc.duration === undefined && fault.duration === undefined) {
      problems.push({ path, message: `fault "${fault.name}" needs a duration, or the experiment needs one (duration: 30s at the top)` });
    } else if (doc.duration !== undefined && atMs >= doc.duration) {
      problems.push({
        path: [...path, "at"],
        message: `fault "${fault.name}" starts at ${formatDuration(atMs)}, after the method ends (duration ${formatDuration(doc.duration)})`,
      });
    } else if (doc.duration !== undefined && fault.duration !== undefined && atMs + fault.duration > doc.duration) {
      problems.push({
        path: [...path, "duration"],
        message: `fault "${fault.name}" would end at ${formatDuration(atMs + fault.duration)}, after the method ends (duration ${formatDuration(doc.duration)}); shorten it or lengthen the experiment`,
      });
    }
    return { name: fault.name, action, params: fault.with, target: fault.target, atMs, durationMs: fault.duration };
  });

  const steadyState: ProbeSpec[] = (doc.steadyState ?? []).map((entry, i) => {
    const probe = registry.probes.get(entry.probe)!;
    const source = entry.expect ?? probe.defaultExpect;
    let expectation: Expectation = { kind: "equals", value: true, source: "true" };
    if (source === undefined) {
      problems.push({ path: ["steadyState", i], message: `the ${probe.name} probe has no sensible default: add expect, e.g. expect: ">= 0.995"` });
      return { name: entry.name, probe, params: entry.with, expectation };
    }
    const checked = checkExpectation(probe, source, ["steadyState", i]);
    problems.push(...checked.problems);
    if (checked.expectation) expectation = checked.expectation;
    return { name: entry.name, probe, params: entry.with, expectation };
  });

  // Actions a rollback step may use: those with nothing of their own to undo.
  const remedies = () => [...registry.actions.values()].filter((a) => a.reversible !== "always").map((a) => a.name);
  const rollbacks: RollbackStep[] = (doc.rollbacks ?? []).map((step, i) => {
    const action = registry.actions.get(step.action)!;
    checkTarget(action, step.target, ["rollbacks", i]);
    // Rollback steps run after every revert and are never undone themselves: a fault there would
    // outlive the run with nothing on record to undo it.
    if (action.reversible === "always") {
      problems.push({
        path: ["rollbacks", i, "action"],
        message: `${action.name} is a fault, and rollback steps are never undone; use it under faults:, or a remedy here (${remedies().join(", ")})`,
      });
    } else if (action.reversible === "when-configured" && action.revertConfigured?.(step.with)) {
      problems.push({ path: ["rollbacks", i, "with"], message: "a rollback step is never undone, so its revert would never run; remove it" });
    }
    return { name: step.name, action, params: step.with, target: step.target };
  });

  const cohorts = doc.cohorts ? compileCohorts(doc.cohorts, faults, targets, registry, problems) : undefined;

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    experiment: {
      title: doc.title,
      lock: doc.lock,
      schedule: doc.schedule,
      budget: doc.budget
        ? {
            // Resolved against the experiment's own directory by the loader.
            slo: sloReference(doc.budget.slo),
            prometheus: doc.budget.prometheus,
            minRemaining: doc.budget.minRemaining / 100,
            maxBurnRate: doc.budget.maxBurnRate,
            chaosWindow: doc.budget.chaosWindow,
          }
        : undefined,
      description: doc.description,
      tags: doc.tags ?? [],
      methodMs: Number.isFinite(methodMs) ? methodMs : 0,
      targets,
      faults: cohorts ? [cohorts.tags, ...faults] : faults,
      steadyState,
      cohorts: cohorts?.spec,
      rollbacks,
      abort: { intervalMs: doc.abort.interval, after: doc.abort.after, graceMs: doc.abort.grace },
      recovery: { timeoutMs: doc.recovery.timeout, intervalMs: doc.recovery.interval ?? doc.abort.interval, holdMs: doc.recovery.hold },
    },
  };
}

/** "slos/api.yaml", "slos/api.yaml#availability", or a bare SLO name looked up near the experiment. */
function sloReference(text: string): { file: string; name: string | undefined } | { near: string; name: string } {
  const hash = /^(.+)#([^#/]+)$/.exec(text);
  if (hash) return { file: hash[1]!, name: hash[2] };
  if (/[/\\]|\.(ya?ml|json)$/i.test(text)) return { file: text, name: undefined };
  // Resolved against the experiment's directory by the loader.
  return { near: ".", name: text };
}

export function checkUnique(names: string[], path: (string | number)[], what: string, problems: SemanticProblem[]): void {
  const seen = new Map<string, number>();
  names.forEach((name, i) => {
    const first = seen.get(name);
    if (first !== undefined) {
      problems.push({ path: [...path, i, "name"], message: `two ${what}s are named "${name}" (also ${path.join(".")}[${first}]); names must be unique` });
    } else seen.set(name, i);
  });
}

/** Parse a probe's expectation and check it names only the probe's fields. */
export function checkExpectation(probe: ProbeDef, source: unknown, path: (string | number)[]): { expectation?: Expectation; problems: SemanticProblem[] } {
  const problems: SemanticProblem[] = [];
  try {
    const expectation = parseExpectation(source);
    if (expectation.kind === "fields") {
      const known = Object.keys(probe.fields);
      for (const field of Object.keys(expectation.fields)) {
        if (!known.includes(field)) {
          problems.push({ path: [...path, "expect", field], at: "key", message: `the ${probe.name} probe has no field "${field}"${didYouMean(field, known)}; fields: ${known.join(", ")}` });
        }
      }
    }
    return { expectation, problems };
  } catch (err) {
    if (!(err instanceof ExpectSyntaxError)) throw err;
    return { problems: [{ path: [...path, "expect", ...err.path], message: err.message }] };
  }
}
