// The ledger of faults a run applies: each recorded with its revert before it is applied
// (write-ahead), kept in memory for the rollback and, when the run has a state file, on disk for
// `chaoscast rollback` should the run die.

import { errorMessage } from "../errors.js";
import type { TargetRef } from "../contract/events.js";
import { secretRefs, type SecretProtector } from "../contract/redact.js";
import type { StateFile } from "./state.js";
import type { Revert } from "../contract/adapter.js";

export interface InjectedFault {
  seq: number;
  fault: string;
  action: string;
  target: TargetRef | null;
  revert: Revert | null;
  state: "injecting" | "injected" | "reverted" | "revert-failed";
}

export interface LedgerOptions {
  state?: StateFile | undefined;
  /** Turns revert data and text into what may be written to disk (secrets replaced by their placeholders). */
  protect: SecretProtector;
  /** Told when recording progress (not intent) fails: the run goes on, `rollback` may redo a revert. */
  warn: (message: string) => void;
}

export class FaultLedger {
  readonly entries: InjectedFault[] = [];
  private seq = 0;

  constructor(private readonly options: LedgerOptions) {}

  /**
   * Record a fault about to be applied. Throws when it cannot be made durable: a fault whose undo
   * is not on record must not be applied.
   */
  async intend(fault: Omit<InjectedFault, "seq" | "state">): Promise<InjectedFault> {
    const entry: InjectedFault = { ...fault, seq: ++this.seq, state: "injecting" };
    await this.persist(entry);
    this.entries.push(entry);
    return entry;
  }

  /** Take over entries recorded by another process (`chaoscast rollback`); nothing is written yet. */
  adopt(entries: InjectedFault[]): void {
    this.entries.push(...entries);
    this.seq = Math.max(this.seq, ...entries.map((e) => e.seq));
  }

  /** Record a change of state (applied, reverted, failed); a write failure only warns. */
  async update(entry: InjectedFault, state: InjectedFault["state"]): Promise<void> {
    entry.state = state;
    try {
      await this.persist(entry);
    } catch (err) {
      this.options.warn(`could not record "${entry.fault}" as ${state} in ${this.options.state?.file}: ${errorMessage(err)}`);
    }
  }

  private async persist(entry: InjectedFault): Promise<void> {
    if (!this.options.state) return;
    const { protect } = this.options;
    const secrets = new Map<string, string>();
    await this.options.state.put({
      seq: entry.seq,
      fault: entry.fault,
      action: entry.action,
      target: entry.target ? protect(entry.target) : null,
      revert: entry.revert
        ? {
            kind: entry.revert.kind,
            data: protect(entry.revert.data, secrets),
            description: protect(entry.revert.description),
            ...(secrets.size > 0 ? { secrets: secretRefs(secrets) } : {}),
            ...(entry.revert.diesWithRun ? { diesWithRun: true } : {}),
          }
        : null,
      state: entry.state,
    });
  }
}
