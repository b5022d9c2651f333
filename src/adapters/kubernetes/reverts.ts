// Undoing Kubernetes faults from recorded data alone (in the run, in `chaoscast rollback` from the
// local state file, or from the record kept in the cluster). Each revert is idempotent, checks the
// cluster is back, then removes the fault's record from the cluster.

import { z } from "zod";
import { defineRevert, type RunContext } from "../../contract/adapter.js";
import { AdapterError } from "../../errors.js";
import { sleep } from "../../util/abortable.js";
import { callOrMissing, type Request } from "./api.js";
import { isMarked, setMarker } from "./markers.js";
import { readObject, reconnect } from "./objects.js";
import { mergePatch } from "./connection.js";
import { RecordLocationSchema } from "./record-location.js";
import { deleteRecord } from "./records.js";
import { describeObject, ObjectRefSchema, type ObjectKind } from "./targets.js";
import { readScale, writeScale } from "./workloads.js";
import { ownerReadiness, type Readiness } from "./readiness.js";

const WorkloadRef = ObjectRefSchema.refine((r) => r.kind === "deployment" || r.kind === "statefulset", { message: "expected a deployment or statefulset" });
const NodeRef = ObjectRefSchema.refine((r) => r.kind === "node", { message: "expected a node" });
const PodRef = ObjectRefSchema.refine((r) => r.kind === "pod", { message: "expected a pod" });

const RecoverDataSchema = z
  .object({
    ref: PodRef,
    owner: z.object({ kind: z.enum(["ReplicaSet", "StatefulSet", "DaemonSet", "ReplicationController"]), name: z.string().min(1).max(253) }).strict(),
    timeoutMs: z.int().min(1_000).max(3_600_000),
    /** When the pod was deleted (ms since the epoch, set as the fault is prepared). */
    deletedAt: z.int().min(0),
  })
  .strict();

const ScaleDataSchema = z
  .object({
    ref: WorkloadRef,
    /** The count before the fault, which the revert restores. */
    replicas: z.int().min(0).max(1_000_000),
    /** The count the fault set, to tell when someone else scaled it meanwhile. */
    during: z.int().min(0).max(1_000_000),
    record: RecordLocationSchema,
  })
  .strict();

const IsolateDataSchema = z
  .object({
    ref: ObjectRefSchema,
    policy: z.string().regex(/^chaoscast-isolate-[0-9a-f]{20}$/),
    /** For a pod target: the pod labelled so the policy selects it alone. */
    podLabel: z.string().regex(/^[0-9a-f]{20}$/).nullable(),
    record: RecordLocationSchema,
  })
  .strict();

const UncordonDataSchema = z.object({ ref: NodeRef, record: RecordLocationSchema }).strict();

/** The label that ties an isolated pod to its NetworkPolicy. */
export const ISOLATE_LABEL = "chaoscast.io/isolate";

function readinessText(r: Readiness): string {
  return `${r.ready} of ${r.desired} ready`;
}

export const recoverRevert = defineRevert({
  kind: "kubernetes.await-recovery",
  data: RecoverDataSchema,
  describe: (d) => `wait until ${d.owner.kind} ${d.ref.namespace}/${d.owner.name} has every replica ready again`,
  async run(d, ctx) {
    const clients = await reconnect(d.ref);
    // Judged from the deletion (the wall clock: this may run in another process, after a crash),
    // so retried attempts share one deadline and the time to recovery is the pod's, not an attempt's.
    const deadline = d.deletedAt + d.timeoutMs;
    for (;;) {
      // While the deleted pod is still there (terminating), the owner's ready count may still include it.
      const deleted = (await readObject(clients, d.ref, ctx)) as { metadata?: { uid?: string } } | undefined;
      const gone = deleted?.metadata?.uid !== d.ref.uid;
      const now = await ownerReadiness(clients, d.ref.namespace ?? "", d.owner, ctx.signal);
      if (!now) {
        ctx.note(`${d.owner.kind} ${d.owner.name} is gone: nothing to wait for`);
        return;
      }
      if (gone && now.ready >= now.desired) {
        ctx.note(`${d.owner.kind} ${d.ref.namespace}/${d.owner.name} recovered: ${readinessText(now)}, ${Math.max(0, Date.now() - d.deletedAt)}ms after the pod's deletion`);
        return;
      }
      if (Date.now() > deadline) throw new AdapterError(`${d.owner.kind} ${d.ref.namespace}/${d.owner.name} did not recover within ${Math.round(d.timeoutMs / 1000)}s of the pod's deletion (${readinessText(now)})`);
      await sleep(Math.min(250, Math.max(1, deadline - Date.now())), ctx.signal);
      if (ctx.signal.aborted) throw new AdapterError(`${d.owner.kind} ${d.ref.namespace}/${d.owner.name} was still recovering (${readinessText(now)}) when this attempt's time ran out`);
    }
  },
  async verify(d, ctx) {
    const clients = await reconnect(d.ref);
    const now = await ownerReadiness(clients, d.ref.namespace ?? "", d.owner, ctx.signal);
    return now && now.ready < now.desired ? `${d.owner.kind} ${d.owner.name} has ${readinessText(now)}` : null;
  },
});

/** The object's annotations now, or undefined when it is gone. */
async function annotationsOf(clients: Awaited<ReturnType<typeof reconnect>>, ref: { kind: ObjectKind; namespace: string | null; name: string }, ctx: { signal?: AbortSignal }) {
  const object = (await readObject(clients, ref, ctx)) as { metadata?: { annotations?: Record<string, string> } } | undefined;
  return object && (object.metadata?.annotations ?? {});
}

export const scaleRevert = defineRevert({
  kind: "kubernetes.restore-replicas",
  data: ScaleDataSchema,
  describe: (d) => `scale ${describeObject(d.ref)} back to ${d.replicas} replica(s)`,
  async run(d, ctx) {
    const clients = await reconnect(d.ref);
    const annotations = await annotationsOf(clients, d.ref, ctx);
    if (!annotations) ctx.note(`${describeObject(d.ref)} is gone: nothing to scale back`);
    else if (!isMarked(annotations, d.record)) {
      // The run died before it marked (and so before it scaled) the workload, or this was undone.
      ctx.note(`${describeObject(d.ref)} carries no mark of this fault: it was never scaled by it, or is already back`);
    } else {
      const scale = await readScale(clients, d.ref, ctx);
      if (scale && scale.replicas !== d.replicas && scale.replicas !== d.during) ctx.note(`${describeObject(d.ref)} had ${scale.replicas} replica(s), not the fault's ${d.during}: someone scaled it meanwhile; set back to ${d.replicas} as recorded`);
      if (scale && scale.replicas !== d.replicas) await writeScale(clients, d.ref, d.replicas, ctx);
      await setMarker(clients, d.ref, d.record, null, ctx);
    }
    await deleteRecord(clients, d.record, ctx);
  },
  async verify(d, ctx) {
    const clients = await reconnect(d.ref);
    const annotations = await annotationsOf(clients, d.ref, ctx);
    if (annotations && isMarked(annotations, d.record)) {
      const scale = await readScale(clients, d.ref, ctx);
      return `${describeObject(d.ref)} still carries this fault's mark${scale ? ` (${scale.replicas} replica(s))` : ""}`;
    }
    return null;
  },
});

const networkPolicyRequest = (verb: Request["verb"], namespace: string, name: string): Request => ({ verb, resource: "networkpolicies", group: "networking.k8s.io", namespace, name });

export const isolateRevert = defineRevert({
  kind: "kubernetes.remove-network-policy",
  data: IsolateDataSchema,
  describe: (d) => `delete NetworkPolicy ${d.ref.namespace}/${d.policy}${d.podLabel ? ` and its label on pod ${d.ref.name}` : ""} (context ${d.ref.context})`,
  async run(d, ctx) {
    const clients = await reconnect(d.ref);
    const namespace = d.ref.namespace ?? "";
    const options = { signal: ctx.signal, context: clients.conn.context, onRetry: ctx.note };
    const gone = await callOrMissing(networkPolicyRequest("delete", namespace, d.policy), () => clients.networking.deleteNamespacedNetworkPolicy({ name: d.policy, namespace }), options);
    if (gone === undefined) ctx.note(`NetworkPolicy ${namespace}/${d.policy} was already gone`);
    if (d.podLabel) {
      // Only our own label comes off: a merge patch with null removes exactly that key.
      await callOrMissing({ verb: "patch", resource: "pods", group: "", namespace, name: d.ref.name }, () => clients.core.patchNamespacedPod({ name: d.ref.name, namespace, body: { metadata: { labels: { [ISOLATE_LABEL]: null } } } }, mergePatch(clients)), options);
    }
    await deleteRecord(clients, d.record, ctx);
  },
  async verify(d, ctx) {
    const clients = await reconnect(d.ref);
    const namespace = d.ref.namespace ?? "";
    const still = await callOrMissing(networkPolicyRequest("get", namespace, d.policy), () => clients.networking.readNamespacedNetworkPolicy({ name: d.policy, namespace }), { signal: ctx.signal, context: clients.conn.context });
    return still ? `NetworkPolicy ${namespace}/${d.policy} still exists` : null;
  },
});

export async function setUnschedulable(ref: z.output<typeof NodeRef>, value: boolean, ctx: RunContext): Promise<boolean | undefined> {
  const clients = await reconnect(ref);
  const node = await callOrMissing({ verb: "patch", resource: "nodes", group: "", name: ref.name }, () => clients.core.patchNode({ name: ref.name, body: { spec: { unschedulable: value ? true : null } } }, mergePatch(clients)), {
    signal: ctx.signal,
    context: clients.conn.context,
    onRetry: ctx.note,
  });
  return node === undefined ? undefined : node.spec?.unschedulable === true;
}

export const uncordonRevert = defineRevert({
  kind: "kubernetes.uncordon",
  data: UncordonDataSchema,
  describe: (d) => `uncordon node ${d.ref.name} (context ${d.ref.context})`,
  async run(d, ctx) {
    const clients = await reconnect(d.ref);
    const annotations = await annotationsOf(clients, d.ref, ctx);
    if (!annotations) ctx.note(`node ${d.ref.name} is gone: nothing to uncordon`);
    // Unmarked: the run died before it cordoned the node, and a cordon found now is someone else's.
    else if (!isMarked(annotations, d.record)) ctx.note(`node ${d.ref.name} carries no mark of this fault: it was never cordoned by it, or is already back`);
    else {
      await setUnschedulable(d.ref, false, ctx);
      await setMarker(clients, d.ref, d.record, null, ctx);
    }
    await deleteRecord(clients, d.record, ctx);
  },
  async verify(d, ctx) {
    const clients = await reconnect(d.ref);
    const annotations = await annotationsOf(clients, d.ref, ctx);
    if (!annotations || !isMarked(annotations, d.record)) return null;
    const node = await callOrMissing({ verb: "get", resource: "nodes", group: "", name: d.ref.name }, () => clients.core.readNode({ name: d.ref.name }), { signal: ctx.signal, context: clients.conn.context });
    return `node ${d.ref.name} still carries this fault's mark${node?.spec?.unschedulable ? " and is cordoned" : ""}`;
  },
});
