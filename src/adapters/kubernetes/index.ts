// The `kubernetes` adapter: pods, deployments, statefulsets and nodes in any kubeconfig context (or
// in-cluster), through @kubernetes/client-node, loaded on first use.

import type { ActionDef, Adapter } from "../../contract/adapter.js";
import { deletePod, networkIsolate, rolloutRestart, scale } from "./actions.js";
import { cordon } from "./cordon.js";
import { drain } from "./drain.js";
import { execKill } from "./exec-kill.js";
import { kubernetesProbe } from "./probe.js";
import { kubernetesRecords } from "./records.js";
import { isolateRevert, recoverRevert, scaleRevert, uncordonRevert } from "./reverts.js";
import { kubernetesTargets } from "./targets.js";

/**
 * Every Kubernetes action's prepare only reads the cluster, so preflight runs it too: a wrong kind
 * of target, a pod gone, a node someone else cordoned, a missing container or a refused read stop
 * the run before any fault of it is injected, and `plan` shows them.
 */
function preparedInPreflight(action: ActionDef): ActionDef {
  if (action.preflight) return action;
  return { ...action, preflight: async (params, target, ctx) => void (await action.prepare(params, target, ctx)) };
}

export const kubernetesAdapter: Adapter = {
  kind: "kubernetes",
  description: "Kubernetes pods, deployments, statefulsets and nodes, by kubeconfig context (or in-cluster).",
  targets: kubernetesTargets,
  actions: [deletePod, scale, rolloutRestart, networkIsolate, cordon, drain, execKill].map(preparedInPreflight),
  probes: [kubernetesProbe],
  reverts: [recoverRevert, scaleRevert, isolateRevert, uncordonRevert],
  records: kubernetesRecords,
};
