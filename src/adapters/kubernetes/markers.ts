// A fault's mark on the object it changed: the annotation chaoscast.io/fault-<id> = "<run id>"
// (for a scale, "<run id> replicas=<count before>"), set before the object is changed and removed by
// the revert. A revert whose object carries no mark changed nothing there, and leaves it alone. `rollback --context` only honours a record
// in the cluster whose object carries its mark: a ConfigMap anyone may write cannot, on its own, make
// chaoscast scale or uncordon something it never touched.

import type { RunContext } from "../../contract/adapter.js";
import { callOrMissing } from "./api.js";
import type { Clients } from "./connection.js";
import { mergePatch } from "./connection.js";
import type { RecordLocation } from "./record-location.js";
import { requestFor, type ObjectRef } from "./targets.js";

export function markerKey(record: RecordLocation): string {
  return `chaoscast.io/fault-${record.name.slice("chaoscast-fault-".length)}`;
}

type Marked = Pick<ObjectRef, "kind" | "namespace" | "name">;

/** Set (a value) or remove (null) the mark; returns the object's annotations after, or undefined when it is gone. */
export async function setMarker(clients: Clients, ref: Marked, record: RecordLocation, value: string | null, ctx: Pick<RunContext, "signal">): Promise<Record<string, string> | undefined> {
  const body = { metadata: { annotations: { [markerKey(record)]: value } } };
  const namespace = ref.namespace ?? "";
  const options = { signal: ctx.signal, context: clients.conn.context };
  const req = requestFor(ref.kind, "patch", ref.namespace, ref.name);
  let patched: { metadata?: { annotations?: Record<string, string> } } | undefined;
  if (ref.kind === "deployment") patched = await callOrMissing(req, () => clients.apps.patchNamespacedDeployment({ name: ref.name, namespace, body }, mergePatch(clients)), options);
  else if (ref.kind === "statefulset") patched = await callOrMissing(req, () => clients.apps.patchNamespacedStatefulSet({ name: ref.name, namespace, body }, mergePatch(clients)), options);
  else if (ref.kind === "node") patched = await callOrMissing(req, () => clients.core.patchNode({ name: ref.name, body }, mergePatch(clients)), options);
  else throw new Error(`a ${ref.kind} carries no fault mark`);
  return patched && (patched.metadata?.annotations ?? {});
}

/** The mark's value: the run, and what a record must agree with (the count a scale restores). */
export function markerValue(runId: string, detail?: string): string {
  return detail ? `${runId} ${detail}` : runId;
}

/** Whether the object carries this record's mark with exactly this value. */
export function carriesMarker(annotations: Record<string, string> | undefined, record: RecordLocation, value: string): boolean {
  return annotations?.[markerKey(record)] === value;
}

/** Whether the object carries this record's mark at all. */
export function isMarked(annotations: Record<string, string> | undefined, record: RecordLocation): boolean {
  return annotations?.[markerKey(record)] !== undefined;
}
