// The Kubernetes actions on pods and workloads (nodes: cordon.ts, drain.ts; exec: exec-kill.ts). Each checks its object in prepare, returns the
// revert (written ahead by the engine), records the fault in the cluster before changing anything
// when there is something to undo, and confirms through the API that the fault took effect.

import { createHash } from "node:crypto";
import { z } from "zod";
import { defineAction, revertWith, type RunContext } from "../../contract/adapter.js";
import { DurationSchema } from "../../contract/common-schemas.js";
import { AdapterError } from "../../errors.js";
import { call, callOrMissing, listAll, PAGE_SIZE } from "./api.js";
import type { Clients } from "./connection.js";
import { selects, type LabelSelector } from "./label-selector.js";
import { livePod, objectOf, recordedRevert } from "./faults.js";
import { readObject, reconnect } from "./objects.js";
import { mergePatch } from "./connection.js";
import { MANAGED_BY, RUN_LABEL, runLabel } from "./records.js";
import { ISOLATE_LABEL, isolateRevert, recoverRevert, scaleRevert } from "./reverts.js";
import { requestFor } from "./targets.js";
import { readScale, writeScale } from "./workloads.js";

interface PodLike {
  metadata?: { uid?: string; deletionTimestamp?: unknown; ownerReferences?: { kind: string; name: string; controller?: boolean }[]; labels?: Record<string, string> };
}

export const deletePod = defineAction({
  name: "kubernetes.delete-pod",
  description: "Delete pods; the revert waits until their owner has every replica ready again and reports how long that took.",
  target: "kubernetes",
  params: z
    .object({
      gracePeriod: DurationSchema.optional().meta({ description: "Grace period for the pod to stop; the pod's own terminationGracePeriodSeconds when not given. 0s kills at once." }),
      allowBare: z.boolean().default(false).meta({ description: "Also delete a pod no controller owns (nothing will bring it back)." }),
      recoveryTimeout: DurationSchema.prefault("2m")
        .refine((ms) => ms >= 1_000 && ms <= 120_000, { message: "recoveryTimeout must be between 1s and 2m (a rollback waits at most that long for one revert)" })
        .meta({ description: "How long after the deletion the owner may take to have every replica ready again, at most 2m; later, the revert fails." }),
    })
    .strict(),
  example: { gracePeriod: "0s" },
  reversible: "always",
  async prepare(params, target, ctx) {
    const { ref, clients, pod } = await livePod<PodLike>("kubernetes.delete-pod", target, ctx);
    const owner = pod.metadata?.ownerReferences?.find((o) => o.controller);
    const known = ["ReplicaSet", "StatefulSet", "DaemonSet", "ReplicationController"] as const;
    const ownerKind = known.find((k) => k === owner?.kind);
    if (!owner || !ownerKind) {
      if (!params.allowBare) throw new AdapterError(`kubernetes.delete-pod: pod ${ref.namespace}/${ref.name} has no controller${owner ? ` chaoscast knows how to wait for (owned by a ${owner.kind})` : ""}, so nothing would bring it back; set allowBare: true to delete it anyway`, { action: "kubernetes.delete-pod", target: target!.id });
    }
    return {
      revert: owner && ownerKind ? revertWith(recoverRevert, { ref, owner: { kind: ownerKind, name: owner.name }, timeoutMs: params.recoveryTimeout, deletedAt: Date.now() }) : null,
      async apply() {
        const namespace = ref.namespace ?? "";
        const grace = params.gracePeriod === undefined ? undefined : Math.round(params.gracePeriod / 1000);
        // Preconditions: delete this pod, not one that took its name since it was chosen.
        const body = { preconditions: { uid: ref.uid }, ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}) };
        await call(requestFor("pod", "delete", ref.namespace, ref.name), () => clients.core.deleteNamespacedPod({ name: ref.name, namespace, body, ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}) }), { signal: ctx.signal, context: clients.conn.context, onRetry: ctx.note });
        const after = (await readObject(clients, ref, ctx)) as PodLike | undefined;
        if (after && after.metadata?.uid === ref.uid && !after.metadata.deletionTimestamp) {
          throw new AdapterError(`kubernetes.delete-pod: pod ${namespace}/${ref.name} is still there after its deletion was accepted`, { action: "kubernetes.delete-pod", target: target!.id });
        }
      },
    };
  },
});

export const scale = defineAction({
  name: "kubernetes.scale",
  description: "Scale a deployment or statefulset; the revert restores the recorded replica count.",
  target: "kubernetes",
  params: z.object({ replicas: z.int().min(0).max(100_000).meta({ description: "The replica count during the fault (0 takes the workload away)." }) }).strict(),
  example: { replicas: 0 },
  reversible: "always",
  async prepare(params, target, ctx) {
    const ref = objectOf("kubernetes.scale", target, ["deployment", "statefulset"]);
    const clients = await reconnect(ref);
    const before = await readScale(clients, ref, ctx);
    if (!before) throw new AdapterError(`kubernetes.scale: ${ref.kind} ${ref.namespace}/${ref.name} is gone`, { action: "kubernetes.scale", target: target!.id });
    const { revert, begin } = recordedRevert(scaleRevert, (record) => ({ ref, replicas: before.replicas, during: params.replicas, record }), { action: "kubernetes.scale", target: target!, namespace: ref.namespace, marked: ref, markDetail: `replicas=${before.replicas}` });
    if (before.replicas === params.replicas) ctx.note(`${ref.kind} ${ref.namespace}/${ref.name} already has ${params.replicas} replica(s)`);
    return {
      revert,
      async apply(applyCtx) {
        await begin(clients, applyCtx);
        const now = await writeScale(clients, ref, params.replicas, applyCtx);
        if (now !== params.replicas) throw new AdapterError(`kubernetes.scale: ${ref.kind} ${ref.namespace}/${ref.name} reports ${now} replica(s) after being scaled to ${params.replicas}`, { action: "kubernetes.scale", target: target!.id });
      },
    };
  },
});

export const rolloutRestart = defineAction({
  name: "kubernetes.rollout-restart",
  description: "Restart a deployment's or statefulset's pods the way kubectl rollout restart does (a new template annotation); cannot be undone.",
  target: "kubernetes",
  params: z.object({}).strict(),
  example: {},
  reversible: "never",
  async prepare(_params, target, ctx) {
    const ref = objectOf("kubernetes.rollout-restart", target, ["deployment", "statefulset"]);
    const clients = await reconnect(ref);
    // A new template annotation restarts nothing on a paused deployment or an OnDelete statefulset.
    const workload = (await readObject(clients, ref, ctx)) as { spec?: { paused?: boolean; updateStrategy?: { type?: string } } } | undefined;
    if (!workload) throw new AdapterError(`kubernetes.rollout-restart: ${ref.kind} ${ref.namespace}/${ref.name} is gone`, { action: "kubernetes.rollout-restart", target: target!.id });
    if (workload.spec?.paused) throw new AdapterError(`kubernetes.rollout-restart: deployment ${ref.namespace}/${ref.name} is paused, so a restart would change nothing (kubectl rollout resume it first)`, { action: "kubernetes.rollout-restart", target: target!.id });
    if (workload.spec?.updateStrategy?.type === "OnDelete") throw new AdapterError(`kubernetes.rollout-restart: statefulset ${ref.namespace}/${ref.name} updates OnDelete, so a restart would change nothing (use kubernetes.delete-pod)`, { action: "kubernetes.rollout-restart", target: target!.id });
    return {
      revert: null,
      async apply() {
        const namespace = ref.namespace ?? "";
        const stamp = new Date().toISOString();
        const body = { spec: { template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": stamp } } } } };
        const options = { signal: ctx.signal, context: clients.conn.context, onRetry: ctx.note };
        const req = requestFor(ref.kind, "patch", ref.namespace, ref.name);
        const patched =
          ref.kind === "deployment"
            ? await call(req, () => clients.apps.patchNamespacedDeployment({ name: ref.name, namespace, body }, mergePatch(clients)), options)
            : await call(req, () => clients.apps.patchNamespacedStatefulSet({ name: ref.name, namespace, body }, mergePatch(clients)), options);
        if (patched.spec?.template?.metadata?.annotations?.["kubectl.kubernetes.io/restartedAt"] !== stamp) {
          throw new AdapterError(`kubernetes.rollout-restart: ${ref.kind} ${namespace}/${ref.name} did not take the restart annotation`, { action: "kubernetes.rollout-restart", target: target!.id });
        }
      },
    };
  },
});

interface PolicyLike {
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { podSelector?: LabelSelector; policyTypes?: string[]; ingress?: unknown[]; egress?: unknown[] };
}

/** A policy chaoscast did not make that selects pods with these labels and allows traffic of one of `types`. */
async function openingPolicy(clients: Clients, namespace: string, podLabels: Record<string, string>, types: string[], ctx: RunContext): Promise<string | undefined> {
  const policies = await listAll<PolicyLike>({ verb: "list", resource: "networkpolicies", group: "networking.k8s.io", namespace }, (cont) => clients.networking.listNamespacedNetworkPolicy({ namespace, limit: PAGE_SIZE, _continue: cont }), { signal: ctx.signal, context: clients.conn.context });
  for (const p of policies) {
    if (p.metadata?.labels?.[MANAGED_BY] === "chaoscast" || !selects(p.spec?.podSelector, podLabels)) continue;
    // Without policyTypes, Ingress always applies and Egress when egress rules are given.
    const policyTypes = p.spec?.policyTypes ?? ["Ingress", ...(p.spec?.egress ? ["Egress"] : [])];
    const opens = (type: string) => policyTypes.includes(type) && ((type === "Ingress" ? p.spec?.ingress : p.spec?.egress)?.length ?? 0) > 0;
    if (types.some(opens)) return p.metadata?.name;
  }
  return undefined;
}

export const networkIsolate = defineAction({
  name: "kubernetes.network-isolate",
  description: "Cut pods off the network with a NetworkPolicy that denies their ingress, egress or both; the revert deletes it. Needs a CNI that enforces NetworkPolicy.",
  target: "kubernetes",
  params: z.object({ direction: z.enum(["ingress", "egress", "both"]).default("both").meta({ description: "Which traffic is denied." }) }).strict(),
  example: { direction: "both" },
  reversible: "always",
  async prepare(params, target, ctx) {
    const ref = objectOf("kubernetes.network-isolate", target, ["pod", "deployment", "statefulset"]);
    const clients = await reconnect(ref);
    const namespace = ref.namespace ?? "";
    const tag = createHash("sha256").update(`${ctx.runId}\0${target!.id}`).digest("hex").slice(0, 20);
    const policy = `chaoscast-isolate-${tag}`;
    let podSelector: LabelSelector;
    let podLabels: Record<string, string>;
    if (ref.kind === "pod") {
      podSelector = { matchLabels: { [ISOLATE_LABEL]: tag } };
      podLabels = target!.labels ?? {};
    } else {
      const workload = (await readObject(clients, ref, ctx)) as { spec?: { selector?: LabelSelector; template?: { metadata?: { labels?: Record<string, string> } } } } | undefined;
      const selector = workload?.spec?.selector;
      if (!selector || (!selector.matchLabels && !selector.matchExpressions)) throw new AdapterError(`kubernetes.network-isolate: ${ref.kind} ${namespace}/${ref.name} ${workload ? "has no pod selector" : "is gone"}`, { action: "kubernetes.network-isolate", target: target!.id });
      podSelector = selector;
      podLabels = workload.spec?.template?.metadata?.labels ?? {};
    }
    const types = params.direction === "both" ? ["Ingress", "Egress"] : [params.direction === "ingress" ? "Ingress" : "Egress"];
    // NetworkPolicies add up: a deny-all one cuts nothing another policy allows. Isolating pods that
    // another policy opens would "succeed" and change nothing, so it is refused.
    const opener = await openingPolicy(clients, namespace, podLabels, types, ctx);
    if (opener) throw new AdapterError(`kubernetes.network-isolate: NetworkPolicy ${namespace}/${opener} already allows ${types.join(" and ").toLowerCase()} traffic for these pods; policies add up, so a deny-all one would cut nothing it allows (move that policy out of the way, or isolate other pods)`, { action: "kubernetes.network-isolate", target: target!.id });
    const { revert, begin } = recordedRevert(isolateRevert, (record) => ({ ref, policy, podLabel: ref.kind === "pod" ? tag : null, record }), { action: "kubernetes.network-isolate", target: target!, namespace: ref.namespace });
    return {
      revert,
      async apply(applyCtx) {
        await begin(clients, applyCtx);
        const options = { signal: applyCtx.signal, context: clients.conn.context, onRetry: applyCtx.note };
        // No rules of a listed type: everything of that type is denied to the selected pods.
        const body = { metadata: { name: policy, namespace, labels: { [MANAGED_BY]: "chaoscast", [RUN_LABEL]: runLabel(applyCtx.runId) } }, spec: { podSelector, policyTypes: types } };
        await call({ verb: "create", resource: "networkpolicies", group: "networking.k8s.io", namespace }, () => clients.networking.createNamespacedNetworkPolicy({ namespace, body }), options);
        if (ref.kind === "pod") {
          const labelled = await callOrMissing(requestFor("pod", "patch", ref.namespace, ref.name), () => clients.core.patchNamespacedPod({ name: ref.name, namespace, body: { metadata: { labels: { [ISOLATE_LABEL]: tag } } } }, mergePatch(clients)), options);
          if (labelled?.metadata?.labels?.[ISOLATE_LABEL] !== tag) throw new AdapterError(`kubernetes.network-isolate: pod ${namespace}/${ref.name} ${labelled ? "did not take the label" : "is gone"}`, { action: "kubernetes.network-isolate", target: target!.id });
        }
      },
    };
  },
});
