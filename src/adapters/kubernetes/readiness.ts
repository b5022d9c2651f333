// How ready a workload is: what a deleted pod's owner must get back to, and what the probe reports.

import { callOrMissing } from "./api.js";
import type { Clients } from "./connection.js";

export interface Readiness {
  desired: number;
  ready: number;
}

interface WithReplicas {
  spec?: { replicas?: number };
  status?: { readyReplicas?: number; numberReady?: number; desiredNumberScheduled?: number };
}

/** The owner's desired and ready replicas; undefined when the owner is gone. */
export async function ownerReadiness(clients: Clients, namespace: string, owner: { kind: string; name: string }, signal?: AbortSignal): Promise<Readiness | undefined> {
  const options = { ...(signal ? { signal } : {}), context: clients.conn.context };
  const name = owner.name;
  let found: WithReplicas | undefined;
  switch (owner.kind) {
    case "ReplicaSet":
      found = await callOrMissing({ verb: "get", resource: "replicasets", group: "apps", namespace, name }, () => clients.apps.readNamespacedReplicaSet({ name, namespace }), options);
      break;
    case "StatefulSet":
      found = await callOrMissing({ verb: "get", resource: "statefulsets", group: "apps", namespace, name }, () => clients.apps.readNamespacedStatefulSet({ name, namespace }), options);
      break;
    case "Deployment":
      found = await callOrMissing({ verb: "get", resource: "deployments", group: "apps", namespace, name }, () => clients.apps.readNamespacedDeployment({ name, namespace }), options);
      break;
    case "DaemonSet": {
      const ds = await callOrMissing({ verb: "get", resource: "daemonsets", group: "apps", namespace, name }, () => clients.apps.readNamespacedDaemonSet({ name, namespace }), options);
      return ds && { desired: ds.status?.desiredNumberScheduled ?? 0, ready: ds.status?.numberReady ?? 0 };
    }
    case "ReplicationController":
      found = await callOrMissing({ verb: "get", resource: "replicationcontrollers", group: "", namespace, name }, () => clients.core.readNamespacedReplicationController({ name, namespace }), options);
      break;
    default:
      return undefined;
  }
  return found && { desired: found.spec?.replicas ?? 1, ready: found.status?.readyReplicas ?? 0 };
}
