// What every Kubernetes action shares: checking it was given the kind of object it acts on, and
// making a fault crash-safe beyond this machine (its record written to the cluster, with a lease,
// before the cluster is changed).

import { revertWith, type Revert, type RevertDef, type RunContext, type Target } from "../../contract/adapter.js";
import { AdapterError } from "../../errors.js";
import type { Clients } from "./connection.js";
import { readObject, reconnect } from "./objects.js";
import { carriesMarker, markerValue, setMarker } from "./markers.js";
import { recordLocation, type RecordLocation } from "./record-location.js";
import { writeRecord } from "./records.js";
import { refOf, type ObjectKind, type ObjectRef } from "./targets.js";

/** The object an action was given, refused when it is of a kind the action does not act on. */
export function objectOf(action: string, target: Target | null, kinds: readonly ObjectKind[]): ObjectRef {
  if (target?.kind !== "kubernetes") throw new AdapterError(`${action} was given no kubernetes target`);
  const ref = refOf(target);
  if (!kinds.includes(ref.kind)) throw new AdapterError(`${action} acts on ${kinds.join(" or ")} targets, and "${target.label}" is a ${ref.kind} (set kind: ${kinds[0]} in the target)`, { action, target: target.id });
  return ref;
}

/**
 * A revert whose fault is also recorded in the cluster. `record` is where (fixed now, so the local
 * state file names it too); `begin` writes the record, starts its lease and marks the object the
 * fault changes (`marked`), to be called in apply before the cluster is changed. The revert's
 * release stops the lease.
 */
export function recordedRevert(def: RevertDef, data: (record: RecordLocation) => Record<string, unknown>, where: { action: string; target: Target; namespace: string | null; marked?: ObjectRef; markDetail?: string }) {
  const record = recordLocation(where.namespace);
  let stopLease: (() => Promise<void>) | undefined;
  const revert: Revert = revertWith(def, data(record), () => stopLease?.());
  return {
    revert,
    record,
    async begin(clients: Clients, ctx: RunContext): Promise<void> {
      stopLease = await writeRecord(clients, record, { runId: ctx.runId, fault: `${where.action} on ${where.target.label}`.slice(0, 200), action: where.action, target: { id: where.target.id, label: where.target.label }, revert: { kind: revert.kind, data: revert.data, description: revert.description } }, ctx);
      // The object's own mark, which ties the record to it (see markers.ts).
      const value = markerValue(ctx.runId, where.markDetail);
      if (where.marked && !carriesMarker(await setMarker(clients, where.marked, record, value, ctx), record, value)) {
        throw new AdapterError(`${where.action}: ${where.target.label} is gone, or did not take chaoscast's mark`, { action: where.action, target: where.target.id });
      }
    },
  };
}

/** The pod an action was given, read now: refused when it is gone or another pod took its name. */
export async function livePod<P>(action: string, target: Target | null, ctx: RunContext): Promise<{ ref: ObjectRef; clients: Clients; pod: P }> {
  const ref = objectOf(action, target, ["pod"]);
  const clients = await reconnect(ref);
  const pod = (await readObject(clients, ref, ctx)) as (P & { metadata?: { uid?: string } }) | undefined;
  if (!pod || pod.metadata?.uid !== ref.uid) throw new AdapterError(`${action}: pod ${ref.namespace}/${ref.name} is gone (or was replaced) since it was chosen`, { action, target: target!.id });
  return { ref, clients, pod };
}
