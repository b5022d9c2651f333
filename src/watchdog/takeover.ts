// What the watchdog does once its run has died or frozen (and been ended): roll back, from the
// state files, every fault the run had in effect; record that it did so in each state file, the
// run's journal and the watchdog log; and clear the dead run's locks.

import path from "node:path";
import { errorMessage } from "../errors.js";
import type { RunEvent, RunEventBody } from "../contract/events.js";
import { leftoverOf, revertLeftover } from "../engine/leftovers.js";
import { acquireRollbackLock, sweepStaleLocks } from "../engine/lock.js";
import { OUTCOME_EXIT } from "../engine/outcome.js";
import type { RegistryView } from "../contract/registry-view.js";
import { listStates, readState, type StateFault } from "../engine/state.js";
import { buildJournal, writeJournal } from "../report/journal.js";
import { entryKind } from "../util/atomic-file.js";
import { ensurePrivateDir } from "../util/private-dir.js";
import { ownerLiveness, type ProcessOwner } from "../util/process-owner.js";
import { appendWatchdogRecord, type WatchdogRecord } from "./log.js";
import type { ArmMessage, StartMessage } from "./protocol.js";

export interface ArmedRun {
  arm: ArmMessage;
  /** The run's events as it forwarded them (already redacted). */
  events: RunEvent[];
}

export interface TakeoverInput {
  start: StartMessage;
  armed: ReadonlyMap<string, ArmedRun>;
  reason: string;
  registry: RegistryView;
}

export type TakeoverReport = WatchdogRecord;

const sameProcess = (a: ProcessOwner, b: ProcessOwner) => a.pid === b.pid && a.startTime === b.startTime && a.host === b.host;

/** Roll back everything the run left, run by run. Never throws: every problem ends up in a report. */
export async function takeOver(input: TakeoverInput): Promise<TakeoverReport[]> {
  const { start } = input;
  const listings = await listStates(start.dirs.state).catch(() => []);
  // The run's own state files: those it handed over (arm), and any it created without getting that
  // far (killed between writing the file and the hand-over).
  const files = new Map<string, string>();
  for (const listing of listings) {
    if ("state" in listing && listing.state.status === "running" && sameProcess(listing.state.owner, start.run)) files.set(listing.file, listing.state.runId);
  }
  for (const [runId, armed] of input.armed) files.set(armed.arm.stateFile, runId);

  const reports: TakeoverReport[] = [];
  for (const [file, runId] of files) {
    reports.push(await takeOverRun(input, file, runId));
  }
  await sweepStaleLocks(start.dirs.locks).catch(() => []);
  for (const report of reports) await appendWatchdogRecord(start.dirs.chaoscast, report).catch(() => {});
  return reports;
}

async function takeOverRun(input: TakeoverInput, file: string, runId: string): Promise<TakeoverReport> {
  const { start, reason } = input;
  const armed = input.armed.get(runId);
  const watchdogEvents: RunEventBody[] = [{ type: "watchdog", reason, watchdogPid: process.pid }];
  const emit = (event: RunEventBody) => watchdogEvents.push(event);
  const report: TakeoverReport = { at: new Date().toISOString(), runId, experiment: { file: "", title: "" }, runPid: start.run.pid, reason, reverted: [], failed: [], journal: null };
  let outcome: "aborted" | "rollback-failed" = "aborted";
  let summary: string;
  try {
    const lock = await acquireRollbackLock(start.dirs.locks, { runId, experimentFile: file });
    try {
      const fresh = (await entryKind(file)) === "absent" ? "gone" : await readState(file);
      if (fresh === "gone") {
        // The run finished its own rollback (and removed the file) before it died.
        summary = "the run had already rolled back everything it injected";
      } else if ("problem" in fresh) {
        // A state file that can no longer be trusted: say so, and leave it to a human.
        outcome = "rollback-failed";
        report.failed.push(`the state file ${file}: ${fresh.problem}`);
        summary = `its state file cannot be used (${fresh.problem}); run chaoscast rollback --dry-run`;
      } else {
        const state = fresh.state;
        report.experiment = state.experiment;
        const liveOwner = !sameProcess(state.owner, start.run) && (await ownerLiveness(state.owner)) === "alive";
        if (liveOwner) {
          summary = `another process (pid ${state.owner.pid}) has taken the run over; the watchdog left it to that process`;
        } else {
          const run = leftoverOf(file, state, "dead");
          const pending = run.pending;
          const result = await revertLeftover(run, input.registry, emit, undefined, reason);
          report.reverted = result.reverted.map(describeFault);
          report.failed = result.failed.map((f) => `${describeFault(f.fault)}: ${f.error}`);
          if (result.failed.length > 0) outcome = "rollback-failed";
          summary =
            pending.length === 0
              ? "nothing it injected was still in effect"
              : `the watchdog reverted ${result.reverted.length} of ${pending.length} fault(s)${result.failed.length ? `; ${result.failed.length} could not be reverted and are recorded for chaoscast rollback` : ""}`;
        }
      }
    } finally {
      await lock.release();
    }
  } catch (err) {
    outcome = "rollback-failed";
    report.failed.push(`the watchdog could not roll back: ${errorMessage(err)}`);
    summary = `the watchdog could not roll back (${errorMessage(err)}); run chaoscast rollback`;
  }
  if (armed || report.reverted.length > 0 || report.failed.length > 0) {
    report.journal = await writeTakeoverJournal(input, runId, armed, report, watchdogEvents, outcome, `${reason}; ${summary}`).catch(() => null);
  }
  return report;
}

function describeFault(f: StateFault): string {
  return `${f.fault}${f.target ? ` on ${f.target.label}` : ""}`;
}

/**
 * The run's journal, finished by the watchdog: the events the run forwarded, then the watchdog's.
 * Written where the run would have written it, unless that was a stream (a FIFO, a terminal) that
 * no one may be reading any more: then in the runs directory.
 */
async function writeTakeoverJournal(
  input: TakeoverInput,
  runId: string,
  armed: ArmedRun | undefined,
  report: TakeoverReport,
  watchdogEvents: RunEventBody[],
  outcome: "aborted" | "rollback-failed",
  reason: string,
): Promise<string> {
  const forwarded = armed?.events ?? [];
  const started = forwarded.find((e) => e.type === "run-started");
  const startedAt = started ? Date.parse(started.at) : Date.now();
  const stamp = (body: RunEventBody): RunEvent => ({ ...body, at: new Date().toISOString(), t: Date.now() - startedAt });
  const finished = forwarded.find((e) => e.type === "run-finished");
  if (finished && report.reverted.length === 0 && report.failed.length === 0) {
    // The run got to its end (and rolled back) but died before writing its journal: its own verdict stands.
    const note = stamp({ type: "note", message: `the run's process died after the run ended, before it wrote this journal; its watchdog wrote it (${input.reason})` });
    return writeJournalFor(input, runId, armed, report, [...forwarded, note]);
  }
  const events: RunEvent[] = [...forwarded.filter((e) => e.type !== "run-finished")];
  if (!started) events.unshift(stamp({ type: "run-started", runId, title: report.experiment.title, file: report.experiment.file, seed: "", methodMs: 0, faults: 0, probes: 0 }));
  events.push(...watchdogEvents.map(stamp));
  events.push(stamp({ type: "run-finished", outcome, exitCode: OUTCOME_EXIT[outcome], reason, stillInjected: report.failed, recovered: null }));
  return writeJournalFor(input, runId, armed, report, events);
}

async function writeJournalFor(input: TakeoverInput, runId: string, armed: ArmedRun | undefined, report: TakeoverReport, events: RunEvent[]): Promise<string> {
  const display = armed?.arm.experiment.display ?? report.experiment;
  const journal = buildJournal({ display, secrets: [] }, events);
  const target = armed?.arm.journal;
  let file = path.join(input.start.dirs.runs, `${runId}.json`);
  if (target?.kind === "dir") file = path.join(target.path, `${runId}.json`);
  else if (target?.kind === "file") {
    const kind = await entryKind(target.path).catch(() => "unknown" as const);
    if (kind === "file" || kind === "absent") file = target.path;
  }
  if (file.startsWith(input.start.dirs.runs)) await ensurePrivateDir(input.start.dirs.runs);
  await writeJournal(file, journal);
  return file;
}
