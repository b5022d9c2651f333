// The `cohorts:` block: checks what a schema cannot (every fault acts on the split link and can be
// confined to viewers), confines the faults to the experiment cohort, adds the fault that tags both
// cohorts, and binds the readers of the cohorts' counters to the metrics or prometheus probe.

import type { RegistryView } from "../contract/registry-view.js";
import type { CohortSpec, CounterReader, FaultSpec, TargetSpec } from "../contract/compiled-experiment.js";
import type { ExperimentDocument } from "./schema.js";

type CohortsBlock = NonNullable<ExperimentDocument["cohorts"]>;
/** A problem at a path of the document (compile.ts's SemanticProblem, which it collects). */
type Problem = { path: (string | number)[]; message: string };

/** The name of the fault that tags the cohorts; a fault of the file may not take it. */
export const COHORT_TAGS_FAULT = "cohort tags";

interface ViewerScope {
  viewerPercent?: number;
  viewerHeader?: string;
  viewerCookie?: string | undefined;
  viewerCmcd?: boolean;
  viewerRequired?: boolean;
}

export function compileCohorts(
  block: CohortsBlock,
  faults: FaultSpec[],
  targets: TargetSpec[],
  registry: RegistryView,
  problems: Problem[],
): { spec: CohortSpec; tags: FaultSpec } | undefined {
  const before = problems.length;
  const split = targets.find((t) => t.name === block.split);
  if (!split) problems.push({ path: ["cohorts", "split"], message: `unknown target "${block.split}"; cohorts.split names a proxy target declared under targets:` });
  else if (split.kind !== "proxy") problems.push({ path: ["cohorts", "split"], message: `cohorts.split needs a proxy target (an HTTP link of the fault proxy), but "${block.split}" is a ${split.kind} target` });

  faults.forEach((fault, i) => {
    if (fault.name === COHORT_TAGS_FAULT) problems.push({ path: ["faults", i, "name"], message: `"${COHORT_TAGS_FAULT}" is the name of the fault that tags the cohorts; choose another` });
    if (fault.target !== block.split) {
      problems.push({
        path: ["faults", i, "target"],
        message: `with cohorts:, every fault acts on the split target "${block.split}", so that it reaches the experiment cohort only; "${fault.name}" acts on ${fault.target ? `"${fault.target}"` : "no target"}`,
      });
      return;
    }
    const scope = fault.params as ViewerScope;
    if (scope.viewerPercent === undefined) {
      problems.push({
        path: ["faults", i, "action"],
        message: `${fault.action.name} acts on whole connections and cannot be confined to a cohort of viewers; use an HTTP fault (proxy.http-error, proxy.http-latency, proxy.http-bandwidth, proxy.segment-drop, proxy.truncate-body, proxy.stale-playlist)`,
      });
    } else if (scope.viewerPercent !== 100) {
      problems.push({ path: ["faults", i, "with", "viewerPercent"], message: "cohorts: decides which viewers a fault reaches (the experiment cohort); remove viewerPercent" });
    }
  });

  const tagAction = registry.actions.get("proxy.tag-cohorts");
  if (!tagAction) {
    problems.push({ path: ["cohorts"], message: "this build of chaoscast has no proxy.tag-cohorts action" });
    return undefined;
  }
  if (problems.length > before) return undefined;

  const viewer = { viewerHeader: block.viewerHeader, viewerCmcd: block.viewerCmcd, viewerCookie: block.viewerCookie, viewerSalt: block.salt };
  // cohorts: says who the viewers are and which of them a fault reaches: the experiment cohort,
  // and never a request that names no viewer (it is in neither cohort).
  for (const fault of faults) fault.params = { ...(fault.params as object), ...viewer, viewerPercent: block.size, viewerRequired: true };
  const tags: FaultSpec = {
    name: COHORT_TAGS_FAULT,
    action: tagAction,
    params: tagAction.params.parse({ size: block.size, header: block.header, viewerHeader: block.viewerHeader, viewerCmcd: block.viewerCmcd, viewerSalt: block.salt, ...(block.viewerCookie !== undefined ? { viewerCookie: block.viewerCookie } : {}) }),
    target: block.split,
    atMs: 0,
    durationMs: undefined,
  };

  const reader = (name: string, cohort: "experiment" | "control"): CounterReader => {
    const s = block.starts;
    if (s.metrics !== undefined) {
      const probe = registry.probes.get("metrics")!;
      return { probe, params: probe.params.parse({ url: s.metrics, metric: name, labels: { [s.label]: cohort }, timeout: `${s.timeout}ms` }) };
    }
    const probe = registry.probes.get("prometheus")!;
    // `or vector(0)`: a cohort that has not counted a start yet has no series at all.
    return { probe, params: probe.params.parse({ ...s.prometheus, timeout: `${s.timeout}ms`, query: `sum(${name}{${s.label}="${cohort}"}) or vector(0)`, series: "sum" }) };
  };
  const counters = {
    experiment: { good: reader(block.starts.good, "experiment"), total: reader(block.starts.total, "experiment") },
    control: { good: reader(block.starts.good, "control"), total: reader(block.starts.total, "control") },
  };
  return {
    tags,
    spec: { split: block.split, sizePercent: block.size, alpha: block.alpha, minStarts: block.minStarts, counters, measure: `${block.starts.good} of ${block.starts.total}` },
  };
}
