// The `kubernetes` probe: how ready a workload or a set of pods is, and whether they crash. A
// deployment or statefulset reports its desired and ready replicas; pods chosen by a label
// selector report how many are ready. Both count container restarts and CrashLoopBackOff.

import { z } from "zod";
import { defineProbe } from "../../contract/adapter.js";
import { DurationSchema } from "../../contract/common-schemas.js";
import { combinedSignal, abortMessage } from "../../util/abortable.js";
import { errorMessage } from "../../errors.js";
import { listAll, PAGE_SIZE } from "./api.js";
import { clientsFor, connect, type Clients } from "./connection.js";
import { readObject } from "./objects.js";

interface PodReadiness {
  status?: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { restartCount?: number; state?: { waiting?: { reason?: string } } }[];
  };
  metadata?: { deletionTimestamp?: unknown };
}

interface Workload {
  spec?: { replicas?: number; selector?: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } };
  status?: { readyReplicas?: number };
}

const WORKLOAD = /^(deployment|statefulset)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/;

/** A label selector in kubectl's words, from a workload's selector. */
function selectorText(selector: NonNullable<Workload["spec"]>["selector"]): string {
  const parts = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    if (e.operator === "In") parts.push(`${e.key} in (${(e.values ?? []).join(",")})`);
    else if (e.operator === "NotIn") parts.push(`${e.key} notin (${(e.values ?? []).join(",")})`);
    else if (e.operator === "Exists") parts.push(e.key);
    else if (e.operator === "DoesNotExist") parts.push(`!${e.key}`);
  }
  return parts.join(",");
}

function isReady(pod: PodReadiness): boolean {
  return !pod.metadata?.deletionTimestamp && pod.status?.phase === "Running" && (pod.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false);
}

async function listPods(clients: Clients, namespace: string, labelSelector: string, signal: AbortSignal): Promise<PodReadiness[]> {
  return listAll<PodReadiness>({ verb: "list", resource: "pods", group: "", namespace }, (cont) => clients.core.listNamespacedPod({ namespace, labelSelector, limit: PAGE_SIZE, _continue: cont }), { signal, context: clients.conn.context });
}

/** The work, or a rejection as soon as the signal fires (the client cannot cancel a request itself). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const stop = () => reject(new Error(abortMessage(signal, timeoutMs)));
    if (signal.aborted) return stop();
    signal.addEventListener("abort", stop, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", stop));
  });
}

export const kubernetesProbe = defineProbe({
  name: "kubernetes",
  description: "Ready replicas of a deployment or statefulset, or ready pods by label, with restarts and CrashLoopBackOff.",
  params: z
    .object({
      context: z.string().min(1).optional().meta({ description: "The kubeconfig context; the current one when not given." }),
      namespace: z.string().min(1).optional().meta({ description: "The namespace; the context's own when not given." }),
      workload: z.string().regex(WORKLOAD, { error: 'expected "deployment/NAME" or "statefulset/NAME"' }).optional().meta({ description: 'A workload: "deployment/playback-api" or "statefulset/origin".' }),
      labelSelector: z.string().min(1).optional().meta({ description: "Pods by label selector, instead of a workload." }),
      timeout: DurationSchema.prefault("5s").meta({ description: "Give up after this long." }),
    })
    .strict()
    .refine((p) => (p.workload === undefined) !== (p.labelSelector === undefined), { message: "give exactly one of workload and labelSelector" }),
  example: { namespace: "playback", workload: "deployment/playback-api" },
  primaryField: "readyRatio",
  fields: {
    readyRatio: "ready / desired (0 when nothing is desired: no capacity)",
    desired: "replicas the workload asks for, or pods matching the selector",
    ready: "replicas (or pods) ready",
    pods: "pods found",
    restarts: "container restarts summed over those pods",
    crashLoopBackOff: "containers waiting in CrashLoopBackOff",
  },
  defaultExpect: { readyRatio: ">= 1" },
  timeoutOf: (params) => params.timeout,
  async run(params, ctx) {
    const signal = combinedSignal([ctx.signal], ctx.timeoutMs);
    try {
      return await untilAborted(
        (async () => {
          const conn = await connect(params.context);
          const clients = clientsFor(conn);
          const namespace = params.namespace ?? conn.defaultNamespace;
          let desired: number | undefined;
          let readyReplicas: number | undefined;
          let selector = params.labelSelector ?? "";
          if (params.workload) {
            const [, kind, name] = WORKLOAD.exec(params.workload)!;
            const workload = (await readObject(clients, { kind: kind as "deployment" | "statefulset", namespace, name: name! }, { signal })) as Workload | undefined;
            if (!workload) return { fields: {}, error: `${params.workload} not found in namespace ${namespace} (context ${conn.context})`, summary: "not found" };
            desired = workload.spec?.replicas ?? 1;
            readyReplicas = workload.status?.readyReplicas ?? 0;
            selector = selectorText(workload.spec?.selector);
          }
          const pods = selector ? await listPods(clients, namespace, selector, signal) : [];
          const ready = readyReplicas ?? pods.filter(isReady).length;
          const want = desired ?? pods.length;
          const containers = pods.flatMap((p) => p.status?.containerStatuses ?? []);
          const fields = {
            readyRatio: want > 0 ? Math.round((ready / want) * 10_000) / 10_000 : 0,
            desired: want,
            ready,
            pods: pods.length,
            restarts: containers.reduce((n, c) => n + (c.restartCount ?? 0), 0),
            crashLoopBackOff: containers.filter((c) => c.state?.waiting?.reason === "CrashLoopBackOff").length,
          };
          return { fields, summary: `${ready}/${want} ready${fields.crashLoopBackOff ? `, ${fields.crashLoopBackOff} in CrashLoopBackOff` : ""}` };
        })(),
        signal,
        ctx.timeoutMs,
      );
    } catch (err) {
      return { fields: {}, error: errorMessage(err), summary: "unreachable" };
    }
  },
});
