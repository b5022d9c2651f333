// Finding an object again from recorded data: on the same cluster (the server URL recorded with the
// fault must match the context's now, so a renamed or repointed context never receives a revert
// meant for another cluster), and reading its current state.

import { AdapterError } from "../../errors.js";
import { callOrMissing } from "./api.js";
import { clientsFor, connect, type Clients } from "./connection.js";
import { requestFor, type KubeObject, type ObjectRef } from "./targets.js";

/** The clients for the cluster a recorded object lives in, refusing another cluster. */
export async function reconnect(ref: Pick<ObjectRef, "context" | "server">): Promise<Clients> {
  const conn = await connect(ref.context);
  if (ref.server && conn.server !== ref.server) {
    throw new AdapterError(`context "${ref.context}" now points at ${conn.server}, not at ${ref.server} where the fault was made; point it back (or use the kubeconfig of that cluster) and run chaoscast rollback again`);
  }
  return clientsFor(conn);
}

/** Read an object's current state; undefined when it is gone. Used by actions, reverts and probes. */
export async function readObject(clients: Clients, ref: Pick<ObjectRef, "kind" | "namespace" | "name">, ctx: { signal?: AbortSignal }): Promise<KubeObject | undefined> {
  const ns = ref.namespace ?? "";
  const req = requestFor(ref.kind, "get", ref.namespace, ref.name);
  const options = { ...(ctx.signal ? { signal: ctx.signal } : {}), context: clients.conn.context };
  switch (ref.kind) {
    case "pod":
      return callOrMissing(req, () => clients.core.readNamespacedPod({ name: ref.name, namespace: ns }), options);
    case "deployment":
      return callOrMissing(req, () => clients.apps.readNamespacedDeployment({ name: ref.name, namespace: ns }), options);
    case "statefulset":
      return callOrMissing(req, () => clients.apps.readNamespacedStatefulSet({ name: ref.name, namespace: ns }), options);
    case "node":
      return callOrMissing(req, () => clients.core.readNode({ name: ref.name }), options);
  }
}

