// Faults recorded in the cluster itself, besides the local state file: one ConfigMap per fault in
// the target's namespace (nodes': in `default`), labelled app.kubernetes.io/managed-by=chaoscast. A
// `chaoscast rollback --context X` from another laptop, another state directory or a CronJob lists
// them and undoes what a dead run left.
//
// Whether the run that wrote a record is dead: on the same host, its pid and start time say so; from
// another host, the record's lease does. The run renews `renewedAt` every LEASE_MS / 3 while the fault
// is in effect; a record not renewed for LEASE_MS belongs to a run that is gone.

import { createHash } from "node:crypto";
import { z } from "zod";
import { RunIdSchema } from "../../contract/common-schemas.js";
import type { FaultRecords, RecordedFault, RunContext } from "../../contract/adapter.js";
import { currentOwner } from "../../util/process-owner.js";
import { call, callOrMissing, listAll, PAGE_SIZE, type Request } from "./api.js";
import { clientsFor, connect, mergePatch, type Clients } from "./connection.js";
import { carriesMarker, markerKey, markerValue } from "./markers.js";
import { NODE_RECORDS_NAMESPACE, RecordLocationSchema, type RecordLocation } from "./record-location.js";
import { readObject } from "./objects.js";
import { ObjectRefSchema } from "./targets.js";

export const MANAGED_BY = "app.kubernetes.io/managed-by";
export const RUN_LABEL = "chaoscast.io/run";
const LEASE_MS = 30_000;
/** A label value is at most 63 characters: a longer run id is shortened with its hash. */
export function runLabel(runId: string): string {
  return runId.length <= 63 ? runId : `${runId.slice(0, 46)}-${createHash("sha256").update(runId).digest("hex").slice(0, 16)}`;
}

/** The reverts a record may name: the adapter's own, never another adapter's (a process signal, a command). */
const RECORDED_KINDS = ["kubernetes.restore-replicas", "kubernetes.remove-network-policy", "kubernetes.uncordon"] as const;

const RecordSchema = z.object({
  version: z.literal(1),
  runId: RunIdSchema,
  fault: z.string().max(200),
  action: z.string().max(100),
  target: z.object({ id: z.string().max(600), label: z.string().max(600) }).nullable(),
  revert: z.object({ kind: z.enum(RECORDED_KINDS), data: z.record(z.string(), z.unknown()), description: z.string().max(2000) }),
  owner: z.object({ pid: z.int(), startTime: z.string().max(40).nullable(), host: z.string().max(255) }),
  leaseMs: z.int().min(1_000).max(3_600_000),
});
type RecordBody = z.output<typeof RecordSchema>;

const configMapRequest = (verb: Request["verb"], namespace?: string, name?: string): Request => ({ verb, resource: "configmaps", group: "", ...(namespace ? { namespace } : {}), ...(name ? { name } : {}) });

export interface NewRecord {
  runId: string;
  fault: string;
  action: string;
  target: { id: string; label: string } | null;
  revert: { kind: string; data: Record<string, unknown>; description: string };
}

/** Write the record (before the fault is made); start renewing its lease. Returns the lease's stop. */
export async function writeRecord(clients: Clients, at: RecordLocation, record: NewRecord, ctx: RunContext): Promise<() => Promise<void>> {
  // Written by the run itself, so it holds; checked anyway, as every reader will check it.
  const body: RecordBody = RecordSchema.parse({ version: 1, ...record, owner: await currentOwner(), leaseMs: LEASE_MS });
  const configMap = {
    metadata: { name: at.name, namespace: at.namespace, labels: { [MANAGED_BY]: "chaoscast", [RUN_LABEL]: runLabel(record.runId) } },
    data: { "record.json": JSON.stringify(body), renewedAt: new Date().toISOString() },
  };
  const options = { signal: ctx.signal, context: clients.conn.context, onRetry: ctx.note };
  try {
    await call(configMapRequest("create", at.namespace), () => clients.core.createNamespacedConfigMap({ namespace: at.namespace, body: configMap }), options);
  } catch (err) {
    // The same fault prepared again in one run (a retry): the record is rewritten, not duplicated.
    if ((err as { status?: number }).status !== 409) throw err;
    await call(configMapRequest("update", at.namespace, at.name), () => clients.core.replaceNamespacedConfigMap({ name: at.name, namespace: at.namespace, body: configMap }), options);
  }
  return keepLease(clients, at);
}

function keepLease(clients: Clients, at: RecordLocation): () => Promise<void> {
  let inFlight: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    inFlight = call(configMapRequest("patch", at.namespace, at.name), () =>
      clients.core.patchNamespacedConfigMap({ name: at.name, namespace: at.namespace, body: { data: { renewedAt: new Date().toISOString() } } }, mergePatch(clients)),
    ).catch(() => {
      // A missed renewal only shortens the lease; the next one (or the revert) follows.
    });
  }, LEASE_MS / 3);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await inFlight;
  };
}

/** Remove a record once its fault is undone; a record already gone is fine. */
export async function deleteRecord(clients: Clients, at: RecordLocation, ctx: { signal?: AbortSignal }): Promise<void> {
  await callOrMissing(configMapRequest("delete", at.namespace, at.name), () => clients.core.deleteNamespacedConfigMap({ name: at.name, namespace: at.namespace }), {
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    context: clients.conn.context,
  });
}

interface ConfigMapLike {
  metadata?: { name?: string; namespace?: string };
  data?: Record<string, string>;
}

/**
 * Why a record cannot be trusted to act on, or null when it can: it must be where its own data says
 * it is, in its target's namespace (nodes': NODE_RECORDS_NAMESPACE), and an object it would scale or
 * uncordon must carry its mark, which only the run that changed the object set.
 */
async function tiedToCluster(clients: Clients, record: RecordBody, at: RecordLocation, ctx: RunContext): Promise<string | null> {
  const data = record.revert.data as { record?: { namespace?: unknown; name?: unknown }; ref?: { kind?: unknown; namespace?: unknown; name?: unknown } };
  if (data.record?.namespace !== at.namespace || data.record.name !== at.name) return "its data names another record than itself";
  const ref = ObjectRefSchema.safeParse(data.ref);
  if (!ref.success) return "its data names no object chaoscast could have changed";
  const home = ref.data.namespace ?? NODE_RECORDS_NAMESPACE;
  if (home !== at.namespace) return `it is kept in namespace ${at.namespace}, not in ${home} where its object is`;
  if (record.revert.kind === "kubernetes.remove-network-policy") return null;
  const object = (await readObject(clients, ref.data, ctx)) as { metadata?: { annotations?: Record<string, string> } } | undefined;
  if (!object) return `its ${ref.data.kind} ${ref.data.namespace ? `${ref.data.namespace}/` : ""}${ref.data.name} is gone: nothing to undo (delete the ConfigMap once you have checked it)`;
  const data2 = record.revert.data as { replicas?: unknown };
  const expected = markerValue(record.runId, record.revert.kind === "kubernetes.restore-replicas" ? `replicas=${String(data2.replicas)}` : undefined);
  if (!carriesMarker(object.metadata?.annotations, at, expected)) return `its ${ref.data.kind} ${ref.data.namespace ? `${ref.data.namespace}/` : ""}${ref.data.name} does not carry the fault's mark ${markerKey(at)} as the record has it (already undone, or a record chaoscast did not write)`;
  return null;
}

/** The records in one context: every ConfigMap chaoscast manages, read as untrusted input. */
export const kubernetesRecords: FaultRecords = {
  scope: "context",
  async find(context, ctx) {
    const conn = await connect(context);
    const clients = clientsFor(conn);
    const items = await listAll<ConfigMapLike>(
      configMapRequest("list"),
      (cont) => clients.core.listConfigMapForAllNamespaces({ labelSelector: `${MANAGED_BY}=chaoscast`, limit: PAGE_SIZE, _continue: cont }),
      { signal: ctx.signal, context: conn.context, onRetry: ctx.note },
    );
    const records: RecordedFault[] = [];
    const unreadable: { where: string; problem: string }[] = [];
    for (const item of items) {
      const where = `ConfigMap ${item.metadata?.namespace ?? "?"}/${item.metadata?.name ?? "?"} (context ${conn.context})`;
      if (!item.metadata?.name || !RecordLocationSchema.shape.name.safeParse(item.metadata.name).success) continue;
      let parsed: RecordBody;
      try {
        const text = item.data?.["record.json"] ?? "";
        if (text.length > 256 * 1024) throw new Error("larger than 256 KiB");
        parsed = RecordSchema.parse(JSON.parse(text));
      } catch (err) {
        unreadable.push({ where, problem: `not a chaoscast fault record: ${err instanceof z.ZodError ? (err.issues[0]?.message ?? "malformed") : (err as Error).message}` });
        continue;
      }
      // Anyone who may write ConfigMaps could plant a record: it may only undo a fault in this very
      // cluster, through this context, never reach another one.
      const ref = parsed.revert.data.ref as { context?: unknown; server?: unknown } | undefined;
      if (ref?.context !== conn.context || ref.server !== conn.server) {
        unreadable.push({ where, problem: `it names another cluster (context ${String(ref?.context)}, server ${String(ref?.server)}), not ${conn.context} at ${conn.server}` });
        continue;
      }
      const tie = await tiedToCluster(clients, parsed, { namespace: item.metadata.namespace ?? "", name: item.metadata.name }, ctx);
      if (tie) {
        unreadable.push({ where, problem: `left alone: ${tie}` });
        continue;
      }
      const renewedAt = item.data?.renewedAt ?? "";
      const at = { namespace: item.metadata.namespace ?? "", name: item.metadata.name };
      records.push({ ...parsed, where, renewedAt: Number.isFinite(Date.parse(renewedAt)) ? renewedAt : new Date(0).toISOString(), forget: () => deleteRecord(clients, at, ctx) });
    }
    return { records, unreadable };
  },
};
