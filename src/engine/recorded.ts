// Faults adapters recorded in their backends (a ConfigMap in a cluster), found by `chaoscast
// rollback --context …` from any machine or state directory: whose run is gone, and undoing them
// with the same reverts, retries and checks as a run's own rollback.

import { hostname } from "node:os";
import type { RecordedFault } from "../contract/adapter.js";
import type { RunEventBody } from "../contract/events.js";
import { protectSecrets } from "../contract/redact.js";
import type { RegistryView } from "../contract/registry-view.js";
import { ownerLiveness } from "../util/process-owner.js";
import { FaultLedger, type InjectedFault } from "./injected.js";
import { DEFAULT_ROLLBACK_POLICY, revertOne, revertPerformer, type RollbackPolicy } from "./rollback.js";

/**
 * Whether a record's run is still there: on this host its process says so; from another host only
 * the record's lease can, and a lease not renewed for its length belongs to a run that is gone.
 */
export type RecordState = { state: "abandoned"; why: string } | { state: "held"; why: string };

export async function recordState(record: RecordedFault, now = Date.now()): Promise<RecordState> {
  if (record.owner.host === hostname()) {
    const liveness = await ownerLiveness(record.owner);
    if (liveness === "alive") return { state: "held", why: `its run (pid ${record.owner.pid}) is still running on this host` };
    return { state: "abandoned", why: `its run (pid ${record.owner.pid} on this host) has ended` };
  }
  const age = now - Date.parse(record.renewedAt);
  // A renewal dated more than a lease ahead is no lease at all (a forged record, a clock far off):
  // honouring it would keep the fault from ever being undone.
  if (Number.isFinite(age) && age < -record.leaseMs) return { state: "abandoned", why: `its lease is dated ${Math.round(-age / 1000)}s in the future, which no run renews; treated as expired` };
  if (Number.isFinite(age) && age < record.leaseMs) return { state: "held", why: `its run on ${record.owner.host} renewed it ${Math.max(0, Math.round(age / 1000))}s ago (a lease lasts ${Math.round(record.leaseMs / 1000)}s)` };
  return { state: "abandoned", why: `its run on ${record.owner.host} last renewed it ${Number.isFinite(age) ? `${Math.round(age / 1000)}s` : "an unknown time"} ago, longer than its ${Math.round(record.leaseMs / 1000)}s lease` };
}

/** Undo one recorded fault (its revert removes the record). Returns whether it is undone. */
export async function revertRecorded(record: RecordedFault, registry: RegistryView, emit: (event: RunEventBody) => void, policy: RollbackPolicy = DEFAULT_ROLLBACK_POLICY): Promise<boolean> {
  const entry: InjectedFault = { seq: 1, fault: record.fault, action: record.action, target: record.target, revert: { ...record.revert }, state: "injected" };
  const ledger = new FaultLedger({ protect: protectSecrets({}), warn: (message) => emit({ type: "note", message }) });
  ledger.adopt([entry]);
  return revertOne(entry, { runId: record.runId, emit, perform: revertPerformer(registry.reverts), ledger }, policy);
}
