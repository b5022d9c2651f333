// Deployments and statefulsets through their scale subresource: read the replica count, and write
// one with optimistic concurrency (the resourceVersion read with it), re-reading and retrying when
// someone else changed the object in between (HTTP 409).

import type { RunContext } from "../../contract/adapter.js";
import { AdapterError } from "../../errors.js";
import { call, callOrMissing, KubeApiError } from "./api.js";
import type { Clients } from "./connection.js";
import { requestFor, type ObjectRef } from "./targets.js";

type WorkloadRef = Pick<ObjectRef, "kind" | "namespace" | "name">;

interface Scale {
  replicas: number;
  resourceVersion: string | undefined;
}

const CONFLICT_RETRIES = 5;

function options(clients: Clients, ctx: Pick<RunContext, "signal"> & { note?: (m: string) => void }) {
  return { signal: ctx.signal, context: clients.conn.context, ...(ctx.note ? { onRetry: ctx.note } : {}) };
}

export async function readScale(clients: Clients, ref: WorkloadRef, ctx: Pick<RunContext, "signal">): Promise<Scale | undefined> {
  const namespace = ref.namespace ?? "";
  const req = requestFor(ref.kind, "get", ref.namespace, ref.name, "scale");
  const scale =
    ref.kind === "deployment"
      ? await callOrMissing(req, () => clients.apps.readNamespacedDeploymentScale({ name: ref.name, namespace }), options(clients, ctx))
      : await callOrMissing(req, () => clients.apps.readNamespacedStatefulSetScale({ name: ref.name, namespace }), options(clients, ctx));
  if (!scale) return undefined;
  return { replicas: scale.spec?.replicas ?? 0, resourceVersion: scale.metadata?.resourceVersion };
}

/** Set the replica count; returns the count the API server reports back. */
export async function writeScale(clients: Clients, ref: WorkloadRef, replicas: number, ctx: Pick<RunContext, "signal" | "note">): Promise<number> {
  if (ref.kind !== "deployment" && ref.kind !== "statefulset") throw new AdapterError(`${ref.kind} ${ref.name} cannot be scaled`);
  const namespace = ref.namespace ?? "";
  const req = requestFor(ref.kind, "update", ref.namespace, ref.name, "scale");
  for (let attempt = 1; ; attempt++) {
    const current = await readScale(clients, ref, ctx);
    if (!current) throw new AdapterError(`${ref.kind} ${namespace}/${ref.name} is gone`);
    const body = { apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name: ref.name, namespace, resourceVersion: current.resourceVersion }, spec: { replicas } };
    try {
      const written =
        ref.kind === "deployment"
          ? await call(req, () => clients.apps.replaceNamespacedDeploymentScale({ name: ref.name, namespace, body }), options(clients, ctx))
          : await call(req, () => clients.apps.replaceNamespacedStatefulSetScale({ name: ref.name, namespace, body }), options(clients, ctx));
      return written.spec?.replicas ?? replicas;
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 409) || attempt >= CONFLICT_RETRIES) throw err;
      ctx.note(`${ref.kind} ${namespace}/${ref.name} changed while it was being scaled (409 Conflict): read again, attempt ${attempt + 1}`);
    }
  }
}
