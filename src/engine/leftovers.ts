// Finishing the rollback of runs that could not: a run killed before it reverted everything (its
// process is gone) or one that ended with reverts that failed. Their state files say what is left
// and how to undo it; the adapters' own RevertDefs do the undoing, exactly as in a run.

import { errorMessage } from "../errors.js";
import { currentOwner, ownerLiveness, type Liveness } from "../util/process-owner.js";
import type { RunEventBody } from "../contract/events.js";
import { FaultLedger, type InjectedFault } from "./injected.js";
import { makeRedactor, protectSecrets, restoreSecrets } from "../contract/redact.js";
import type { RegistryView } from "../contract/registry-view.js";
import { DEFAULT_ROLLBACK_POLICY, parseRevertData, revertOne, revertPerformer, type RollbackPolicy } from "./rollback.js";
import { listStates, StateFile, type RunState, type StateFault } from "./state.js";

export interface LeftoverRun {
  file: string;
  state: RunState;
  /** Whether the process that owns the run is still running (then it is not ours to touch). */
  liveness: Liveness;
  /** Faults that may still be in effect and have a revert. */
  pending: StateFault[];
  /** Faults that were applied and cannot be undone by design (e.g. a killed process). */
  irreversible: StateFault[];
}

export interface Leftovers {
  runs: LeftoverRun[];
  unreadable: { file: string; problem: string }[];
}

function isPending(f: StateFault): boolean {
  return f.state !== "reverted" && f.revert !== null;
}

/** A run's state seen as what it left: the faults still to revert, and those that cannot be. */
export function leftoverOf(file: string, state: RunState, liveness: Liveness): LeftoverRun {
  return {
    file,
    state,
    liveness,
    pending: state.faults.filter(isPending),
    irreversible: state.faults.filter((f) => f.revert === null && f.state !== "reverted"),
  };
}

export async function findLeftovers(stateDir: string): Promise<Leftovers> {
  const runs: LeftoverRun[] = [];
  const unreadable: Leftovers["unreadable"] = [];
  for (const listing of await listStates(stateDir)) {
    if ("problem" in listing) {
      unreadable.push(listing);
      continue;
    }
    runs.push(leftoverOf(listing.file, listing.state, await ownerLiveness(listing.state.owner)));
  }
  return { runs, unreadable };
}

export type FaultCheck = { fault: StateFault; status: "in-effect" | "undone" | "unknown"; detail: string };

/** For --dry-run: what each pending fault looks like now, by the adapter's own check. Changes nothing. */
export async function checkLeftover(run: LeftoverRun, registry: RegistryView): Promise<FaultCheck[]> {
  const checks: FaultCheck[] = [];
  for (const fault of run.pending) {
    const revert = fault.revert!;
    if (revert.diesWithRun && run.liveness === "dead") {
      checks.push({ fault, status: "undone", detail: "it lived inside the run's own process, which has exited" });
      continue;
    }
    const def = registry.reverts.get(revert.kind);
    if (!def?.verify) {
      checks.push({ fault, status: "unknown", detail: def ? "the adapter cannot observe it; rollback runs the undo again" : `unknown revert kind ${revert.kind}` });
      continue;
    }
    const ctx = { signal: AbortSignal.timeout(10_000), runId: run.state.runId, note: () => {}, defer: () => {} };
    try {
      const data = parseRevertData(def, revert.kind, restoreSecrets(revert.data, revert.secrets ?? []));
      const problem = await def.verify(data, ctx);
      checks.push({ fault, status: problem ? "in-effect" : "undone", detail: problem ?? "already undone" });
    } catch (err) {
      checks.push({ fault, status: "unknown", detail: errorMessage(err) });
    }
  }
  return checks;
}

export interface LeftoverResult {
  reverted: StateFault[];
  failed: { fault: StateFault; error: string }[];
}

/** Revert what a run left, newest first, and record progress in its state file. */
export async function revertLeftover(
  run: LeftoverRun,
  registry: RegistryView,
  emit: (event: RunEventBody) => void,
  policy: RollbackPolicy = DEFAULT_ROLLBACK_POLICY,
  /** Set by the run's watchdog: why it took the run over, recorded in the state file first. */
  watchdogReason?: string,
): Promise<LeftoverResult> {
  const stateFile = StateFile.adopt(run.file, run.state);
  // Take the run over, so a second `chaoscast rollback` started meanwhile sees a live owner.
  await stateFile.setOwner(await currentOwner());
  if (watchdogReason !== undefined) await stateFile.recordWatchdog(watchdogReason);
  // Faults that cannot be undone (a kill) were reported; there is nothing to keep them on record for.
  for (const record of run.irreversible) await stateFile.put({ ...record, state: "reverted" });
  const restored = new Map<number, string>();
  const secretSources: Record<string, string> = {};
  const prepared: { record: StateFault; entry: InjectedFault }[] = [];
  const failed: LeftoverResult["failed"] = [];
  for (const record of run.state.faults) {
    if (!isPending(record)) continue;
    const revert = record.revert!;
    let data = revert.data;
    try {
      data = restoreSecrets(revert.data, revert.secrets ?? []);
      for (const ref of revert.secrets ?? []) secretSources[process.env[ref.name]!] = ref.name;
    } catch (err) {
      restored.set(record.seq, errorMessage(err));
    }
    prepared.push({
      record,
      entry: { seq: record.seq, fault: record.fault, action: record.action, target: record.target, revert: { kind: revert.kind, data, description: revert.description, ...(revert.diesWithRun ? { diesWithRun: true } : {}) }, state: record.state },
    });
  }
  // Messages (a failed revert names its URL) must not show the secrets just restored.
  const redact = makeRedactor(Object.keys(secretSources));
  const report = (event: RunEventBody) => emit(redact(event));
  const ledger = new FaultLedger({ state: stateFile, protect: protectSecrets(secretSources), warn: (message) => report({ type: "note", message }) });
  // Adopt every recorded fault, reverted ones included, so the file is rewritten whole and correct.
  ledger.adopt(prepared.map((p) => p.entry));
  const deps = { runId: run.state.runId, emit: report, perform: revertPerformer(registry.reverts), ledger };
  const reverted: StateFault[] = [];
  for (const { record, entry } of [...prepared].reverse()) {
    const missing = restored.get(record.seq);
    if (missing) {
      failed.push({ fault: record, error: missing });
      continue;
    }
    if (entry.revert?.diesWithRun && run.liveness === "dead") {
      await ledger.update(entry, "reverted");
      report({ type: "fault-reverted", fault: entry.fault, target: entry.target, attempts: 0, early: false, notes: ["it lived inside the run's own process, which has exited"] });
      reverted.push(record);
      continue;
    }
    if (await revertOne(entry, deps, policy)) reverted.push(record);
    else failed.push({ fault: record, error: "could not be reverted (see above)" });
  }
  await stateFile.close();
  return { reverted, failed };
}
