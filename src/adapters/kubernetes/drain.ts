// `kubernetes.drain`, as `kubectl drain` does it: cordon the node, then evict its pods through the
// eviction API, which refuses (429) an eviction a PodDisruptionBudget forbids; those are retried
// until the timeout. DaemonSet pods and mirror pods stay, as with kubectl. The revert uncordons the
// node; the evicted pods are not moved back (their controllers placed them elsewhere).

import { z } from "zod";
import { defineAction, type RunContext } from "../../contract/adapter.js";
import { DurationSchema } from "../../contract/common-schemas.js";
import { AdapterError } from "../../errors.js";
import { EXCLUDE_LABEL, isExcluded } from "../../contract/exclusion.js";
import { sleep } from "../../util/abortable.js";
import { call, KubeApiError, listAll, mapLimit, PAGE_SIZE } from "./api.js";
import type { Clients } from "./connection.js";
import { prepareCordon } from "./cordon.js";
import { objectOf } from "./faults.js";
import { reconnect } from "./objects.js";

/**
 * The namespaces the policy judged for each drain of a run (from reach, in preflight): pods of any
 * other namespace that arrive on the node before the drain are not evicted behind its back.
 */
const judged = new Map<string, Set<string>>();
const judgedKey = (runId: string, targetId: string) => `${runId}\0${targetId}`;

/** Evictions in flight at once: a node's worth of pods without flooding the API server. */
const EVICTION_CONCURRENCY = 8;

interface PodOnNode {
  metadata?: { name?: string; namespace?: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: { kind: string; controller?: boolean }[]; deletionTimestamp?: unknown };
  spec?: { nodeName?: string; volumes?: { emptyDir?: unknown }[] };
  status?: { phase?: string };
}

async function podsOn(clients: Clients, node: string, ctx: Pick<RunContext, "signal">): Promise<PodOnNode[]> {
  return listAll<PodOnNode>(
    { verb: "list", resource: "pods", group: "" },
    (cont) => clients.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}`, limit: PAGE_SIZE, _continue: cont }),
    { signal: ctx.signal, context: clients.conn.context },
  );
}

const isDaemon = (p: PodOnNode) => p.metadata?.ownerReferences?.some((o) => o.controller && o.kind === "DaemonSet") ?? false;
const isMirror = (p: PodOnNode) => p.metadata?.annotations?.["kubernetes.io/config.mirror"] !== undefined;
const isFinished = (p: PodOnNode) => ["Succeeded", "Failed"].includes(p.status?.phase ?? "");
const name = (p: PodOnNode) => `${p.metadata?.namespace}/${p.metadata?.name}`;

/** The pods a drain must evict, or why it cannot drain the node at all. */
function evictable(pods: PodOnNode[], options: { allowBare: boolean; deleteEmptyDirData: boolean }): { evict: PodOnNode[]; refusal?: string } {
  const evict = pods.filter((p) => !isDaemon(p) && !isMirror(p) && !isFinished(p) && !p.metadata?.deletionTimestamp);
  // An excluded pod is never hit: a drain that would evict one is refused, not narrowed, since the
  // node would still be emptied around it.
  const excluded = evict.filter((p) => isExcluded({ labels: p.metadata?.labels }));
  if (excluded.length) return { evict, refusal: `it runs ${excluded.length} pod(s) labelled ${EXCLUDE_LABEL}=true that a drain would evict (${excluded.slice(0, 5).map(name).join(", ")}); choose another node` };
  const bare = evict.filter((p) => !p.metadata?.ownerReferences?.some((o) => o.controller));
  if (bare.length && !options.allowBare) return { evict, refusal: `${bare.length} pod(s) no controller owns would be lost (${bare.slice(0, 5).map(name).join(", ")}); set allowBare: true to evict them anyway` };
  const local = evict.filter((p) => p.spec?.volumes?.some((v) => v.emptyDir !== undefined));
  if (local.length && !options.deleteEmptyDirData) return { evict, refusal: `${local.length} pod(s) keep data in emptyDir volumes that eviction deletes (${local.slice(0, 5).map(name).join(", ")}); set deleteEmptyDirData: true to evict them anyway` };
  return { evict };
}

function interrupted(signal: AbortSignal, action: string, node: string): void {
  if (signal.aborted) throw new AdapterError(`${action}: node ${node}: interrupted while evicting; what was evicted stays evicted, the node is uncordoned by the rollback`, { action });
}

async function evict(clients: Clients, pod: PodOnNode, deadline: number, ctx: RunContext): Promise<string | null> {
  const namespace = pod.metadata?.namespace ?? "";
  const podName = pod.metadata?.name ?? "";
  // The pod seen on the node, not one that took its name elsewhere while a budget held us back.
  const body = { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: podName, namespace }, deleteOptions: { preconditions: { uid: pod.metadata?.uid } } };
  for (;;) {
    try {
      await call({ verb: "create", resource: "pods/eviction", group: "", namespace, name: podName }, () => clients.core.createNamespacedPodEviction({ name: podName, namespace, body }), { signal: ctx.signal, context: clients.conn.context, backoffMs: 100 });
      return null;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return null;
      // 429 after the API client's own retries: a PodDisruptionBudget forbids it for now.
      if (!(err instanceof KubeApiError && err.status === 429)) throw err;
      if (performance.now() > deadline) return `${namespace}/${podName}: ${err.message}`;
      await sleep(1_000, ctx.signal);
      interrupted(ctx.signal, "kubernetes.drain", pod.spec?.nodeName ?? "");
    }
  }
}

export const drain = defineAction({
  name: "kubernetes.drain",
  description: "Cordon nodes and evict their pods through the eviction API, honouring PodDisruptionBudgets; the revert uncordons them.",
  target: "kubernetes",
  params: z
    .object({
      timeout: DurationSchema.prefault("2m").meta({ description: "How long evictions may wait on PodDisruptionBudgets and pods take to go, before the fault fails (and is rolled back)." }),
      allowBare: z.boolean().default(false).meta({ description: "Also evict pods no controller owns (like kubectl drain --force)." }),
      deleteEmptyDirData: z.boolean().default(false).meta({ description: "Also evict pods with emptyDir volumes, whose data is lost (like --delete-emptydir-data)." }),
    })
    .strict(),
  example: { timeout: "2m" },
  reversible: "always",
  async preflight(params, target, ctx) {
    await prepareCordon("kubernetes.drain", target, ctx);
    const ref = objectOf("kubernetes.drain", target, ["node"]);
    const { refusal } = evictable(await podsOn(await reconnect(ref), ref.name, ctx), params);
    if (refusal) throw new AdapterError(`kubernetes.drain: node ${ref.name}: ${refusal}`, { action: "kubernetes.drain", target: target!.id });
  },
  // The pods it evicts may live in any namespace: the policy's allowNamespaces judges those too.
  async reach(params, target, ctx) {
    const ref = objectOf("kubernetes.drain", target, ["node"]);
    const { evict: pods } = evictable(await podsOn(await reconnect(ref), ref.name, ctx), params);
    const namespaces = [...new Set(pods.map((p) => p.metadata?.namespace ?? ""))].sort();
    judged.set(judgedKey(ctx.runId, target!.id), new Set(namespaces));
    return { context: ref.context, namespaces };
  },
  async prepare(params, target, ctx) {
    const { ref, clients, revert, cordon } = await prepareCordon("kubernetes.drain", target, ctx);
    return {
      revert,
      async apply(applyCtx) {
        await cordon(applyCtx);
        const deadline = performance.now() + params.timeout;
        const { evict: pods, refusal } = evictable(await podsOn(clients, ref.name, applyCtx), params);
        if (refusal) throw new AdapterError(`kubernetes.drain: node ${ref.name}: ${refusal}`, { action: "kubernetes.drain", target: target!.id });
        const seen = judged.get(judgedKey(applyCtx.runId, target!.id));
        const arrived = seen ? [...new Set(pods.map((p) => p.metadata?.namespace ?? ""))].filter((ns) => !seen.has(ns)) : [];
        if (arrived.length) throw new AdapterError(`kubernetes.drain: node ${ref.name}: pods of namespace(s) ${arrived.join(", ")} arrived on it after the drain was judged against the policy; nothing was evicted`, { action: "kubernetes.drain", target: target!.id });
        applyCtx.note(`node ${ref.name}: evicting ${pods.length} pod(s)${pods.length ? `: ${pods.slice(0, 10).map(name).join(", ")}${pods.length > 10 ? ", …" : ""}` : ""}`);
        const blocked = (await mapLimit(pods, EVICTION_CONCURRENCY, (pod) => evict(clients, pod, deadline, applyCtx))).filter((b): b is string => b !== null);
        interrupted(applyCtx.signal, "kubernetes.drain", ref.name);
        if (blocked.length) throw new AdapterError(`kubernetes.drain: node ${ref.name}: ${blocked.length} pod(s) could not be evicted within ${Math.round(params.timeout / 1000)}s (a PodDisruptionBudget forbids it): ${blocked.slice(0, 3).join("; ")}`, { action: "kubernetes.drain", target: target!.id });
        // Evicted pods terminate on their own time; the drain is done when none is left.
        const evicted = new Set(pods.map((p) => p.metadata?.uid));
        for (let round = 0; ; round++) {
          const left = (await podsOn(clients, ref.name, applyCtx)).filter((p) => evicted.has(p.metadata?.uid));
          if (left.length === 0) break;
          if (performance.now() > deadline) throw new AdapterError(`kubernetes.drain: node ${ref.name}: ${left.length} evicted pod(s) still there after ${Math.round(params.timeout / 1000)}s: ${left.slice(0, 3).map(name).join(", ")}`, { action: "kubernetes.drain", target: target!.id });
          if (round === 0) applyCtx.note(`node ${ref.name}: waiting for ${left.length} evicted pod(s) to go`);
          await sleep(500, applyCtx.signal);
          interrupted(applyCtx.signal, "kubernetes.drain", ref.name);
        }
      },
    };
  },
});
