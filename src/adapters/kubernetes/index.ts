// The `kubernetes` adapter: pods, deployments, statefulsets and nodes in any kubeconfig context (or
// in-cluster), through @kubernetes/client-node, loaded on first use.

import type { Adapter } from "../../contract/adapter.js";
import { deletePod, networkIsolate, rolloutRestart, scale } from "./actions.js";
import { cordon } from "./cordon.js";
import { drain } from "./drain.js";
import { execKill } from "./exec-kill.js";
import { kubernetesProbe } from "./probe.js";
import { kubernetesRecords } from "./records.js";
import { isolateRevert, recoverRevert, scaleRevert, uncordonRevert } from "./reverts.js";
import { kubernetesTargets } from "./targets.js";

export const kubernetesAdapter: Adapter = {
  kind: "kubernetes",
  description: "Kubernetes pods, deployments, statefulsets and nodes, by kubeconfig context (or in-cluster).",
  targets: kubernetesTargets,
  actions: [deletePod, scale, rolloutRestart, networkIsolate, cordon, drain, execKill],
  probes: [kubernetesProbe],
  reverts: [recoverRevert, scaleRevert, isolateRevert, uncordonRevert],
  records: kubernetesRecords,
};
