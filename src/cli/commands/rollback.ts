// `chaoscast rollback`: undo what runs left behind: a run killed (kill -9, OOM, a lost machine)
// before it reverted its faults, or one whose reverts failed. Reads the state directory
// (CHAOSCAST_DIR, or ~/.local/state/chaoscast), whose files are untrusted input: every text from
// them is escaped before it is printed, and every process they name is checked before a signal.

import { existsSync } from "node:fs";
import { unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { displayPath } from "../../util/display-path.js";
import { sleep } from "../../util/abortable.js";
import { ownerLiveness, unprovenRunProcess, type ProcessOwner } from "../../util/process-owner.js";
import { checkPrivateDir } from "../../util/private-dir.js";
import { forTerminal as t, terminalSafeJson } from "../../util/terminal-text.js";
import { errorMessage, PreflightError, UsageError, EXIT } from "../../errors.js";
import { checkLeftover, findLeftovers, leftoverOf, revertLeftover, type LeftoverRun } from "../../engine/leftovers.js";
import type { RunEventBody } from "../../contract/events.js";
import { didYouMean } from "../../util/did-you-mean.js";
import { makeStyle } from "../render/style.js";
import { revertEventLine } from "../render/text.js";
import { chaoscastDir, locksDir, registry, stateDir, type CommonOptions } from "../shared.js";
import { acquireRollbackLock, type RunLock, sweepStaleLocks } from "../../engine/lock.js";
import { recentWatchdogRecords } from "../../watchdog/log.js";
import { readState } from "../../engine/state.js";
import { recordState, revertRecorded } from "../../engine/recorded.js";
import { parseRevertData } from "../../engine/rollback.js";
import type { RunContext } from "../../contract/adapter.js";

export interface RollbackOptions extends CommonOptions {
  run?: string;
  all?: boolean;
  dryRun?: boolean;
  /** Drop the record of `run` without reverting (what it left was undone by hand, or cannot be). */
  forget?: boolean;
  /** Also search this context (adapters that record faults in their backend) for what dead runs left. */
  context?: string;
  /** Also search this AWS region's EC2 instances (their tags) for what dead runs left. */
  region?: string;
}

function describeRun(run: LeftoverRun): string {
  const { state } = run;
  const owner = state.runOwner ?? state.owner;
  return t(`${state.runId} (${state.experiment.title}, ${displayPath(state.experiment.file)}; started ${state.startedAt} by pid ${owner.pid} on ${owner.host})`);
}

/**
 * SIGKILL a live run's process and wait (up to 5 s) until it has gone, but only when it is provably
 * the chaoscast process the record names: a state file could otherwise name init, this rollback's
 * own shell, or any process. Returns why it was not ended, or null once it has.
 */
async function endRunProcess(owner: ProcessOwner): Promise<string | null> {
  const unproven = await unprovenRunProcess(owner);
  if (unproven) return `not ended: ${unproven}`;
  try {
    process.kill(owner.pid, "SIGKILL");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") return `could not send SIGKILL: ${(err as NodeJS.ErrnoException).code}`;
  }
  const deadline = performance.now() + 5_000;
  while (performance.now() < deadline) {
    if ((await ownerLiveness({ ...owner, host: hostname() })) === "dead") return null;
    await sleep(20);
  }
  return "it did not exit within 5 s of SIGKILL";
}

function takeRollbackLock(run: LeftoverRun): Promise<RunLock> {
  return acquireRollbackLock(locksDir(), { runId: run.state.runId, experimentFile: run.state.experiment.file });
}

/** Watchdog takeovers are reported for a day after, the latest few. */
const WATCHDOG_REPORT_MS = 24 * 3600_000;
const WATCHDOG_REPORT_COUNT = 5;

/**
 * Drop a dead run's record without reverting anything: for faults undone by hand, or that can no
 * longer be undone (a killed container that was removed). Says what it forgets, so the user owns it.
 */
async function forgetRun(run: LeftoverRun, dryRun: boolean, out: (line: string) => void, style: ReturnType<typeof makeStyle>): Promise<number> {
  if (run.liveness === "alive") throw new PreflightError(`run ${t(run.state.runId)} is still in progress (pid ${run.state.owner.pid}); it cannot be forgotten while it runs`);
  const lock = dryRun ? undefined : await takeRollbackLock(run);
  try {
    const fresh = await readState(run.file);
    const faults = "state" in fresh ? leftoverOf(run.file, fresh.state, run.liveness).pending : [];
    out(style.bold(`${dryRun ? "Would forget" : "Forgetting"} ${describeRun(run)}, reverting nothing`));
    for (const f of faults) out(style.yellow(`  ! ${t(f.fault)}${f.target ? ` on ${t(f.target.label)}` : ""}: not reverted by chaoscast; make sure it is undone (${t(f.revert!.description)})`));
    if (!dryRun) await unlink(run.file).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
    out(dryRun ? style.dim("Nothing was changed (--dry-run).") : `Forgot run ${t(run.state.runId)}: its record is gone from ${stateDir()}, and rollback and later runs no longer report it.`);
    return EXIT.passed;
  } finally {
    await lock?.release();
  }
}

export async function rollbackCommand(options: RollbackOptions): Promise<number> {
  if (options.region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(options.region)) throw new UsageError(`--region ${t(options.region)}: expected an AWS region such as us-east-1`);
  const style = makeStyle(process.stdout, options.color);
  const json = options.output === "json";
  const out = (line: string) => {
    if (!json) process.stdout.write(`${line}\n`);
  };
  let report: Record<string, unknown> = {};
  const local = await rollbackStateDir(options, style, out, (r) => {
    report = r;
  });
  let exit = local;
  if (options.context !== undefined || options.region !== undefined) {
    const cluster = await rollbackRecorded(options, style, out);
    report = { ...report, recorded: cluster.report };
    if (exit === EXIT.passed) exit = cluster.exit;
  }
  if (json) process.stdout.write(`${terminalSafeJson(report, 2)}\n`);
  return exit;
}

type Out = (line: string) => void;
type Style = ReturnType<typeof makeStyle>;

/** The runs in the state directory: what dead runs left, reverted (or checked, with --dry-run). */
async function rollbackStateDir(options: RollbackOptions, style: Style, out: Out, setReport: (report: Record<string, unknown>) => void): Promise<number> {
  const dir = stateDir();
  // Nothing was ever run from this directory: nothing to roll back, and nothing to create.
  if (existsSync(chaoscastDir())) {
    await checkPrivateDir(chaoscastDir());
    if (existsSync(dir)) await checkPrivateDir(dir);
  }
  if (!options.dryRun) {
    for (const lock of await sweepStaleLocks(locksDir())) out(style.dim(`removed the stale lock of run ${t(lock.runId)} (pid ${lock.owner.pid} is no longer running)`));
  }
  const { runs, unreadable } = await findLeftovers(dir);
  // What the watchdogs did lately, with no one at the keyboard: the first thing to know after a crash.
  const watchdog = await recentWatchdogRecords(chaoscastDir(), WATCHDOG_REPORT_MS);
  for (const record of watchdog.slice(-WATCHDOG_REPORT_COUNT)) {
    const failed = record.failed.length ? style.red(`, ${record.failed.length} could not be: ${t(record.failed.join("; "))}`) : "";
    out(style.dim(`the watchdog of run ${t(record.runId)} (${t(record.experiment.title)}) took over at ${t(record.at)}: ${t(record.reason)}; ${record.reverted.length} fault(s) reverted`) + failed + style.dim(record.journal ? `; journal: ${t(record.journal)}` : ""));
  }

  // A dead run killed before its first injection, or after its last revert but before it could
  // remove its record, left nothing: clear the record so it does not linger.
  const empty = runs.filter((r) => r.liveness === "dead" && r.pending.length === 0 && r.irreversible.length === 0);
  for (const run of options.run ? empty.filter((r) => r.state.runId === options.run) : empty) {
    if (!options.dryRun) await unlink(run.file).catch(() => {});
    out(style.dim(`${options.dryRun ? "would clear" : "cleared"} the record of ${describeRun(run)}: it left nothing injected`));
  }
  let chosen = runs.filter((r) => r.pending.length > 0 || r.irreversible.length > 0);
  if (options.run) {
    const run = runs.find((r) => r.state.runId === options.run);
    // A run known only to a backend (made from another machine or state directory) is --context's or --region's.
    if (!run && (options.context !== undefined || options.region !== undefined)) return EXIT.passed;
    if (!run) {
      const ids = runs.map((r) => r.state.runId);
      throw new UsageError(t(`--run ${options.run}: no state for that run in ${dir}${didYouMean(options.run, ids)}${ids.length ? `; runs with state: ${ids.join(", ")}` : "; there is none"}`));
    }
    if (run.liveness === "other-host") {
      throw new PreflightError(t(`run ${run.state.runId} ran on ${run.state.owner.host}, not on this host: its processes and loopback addresses are that host's. Run chaoscast rollback there.`));
    }
    if (run.liveness === "alive" && !options.all) {
      throw new PreflightError(t(`run ${run.state.runId} is still in progress (pid ${run.state.owner.pid}); it rolls back by itself when it ends or on Ctrl-C/SIGTERM. Add --all to end it (SIGKILL) and revert what it left.`));
    }
    chosen = [run];
    if (options.forget) return forgetRun(run, options.dryRun === true, out, style);
  }
  if (options.forget) throw new UsageError("--forget needs --run <id>: it drops one run's record, never all of them");
  const busy = chosen.filter((r) => r.liveness === "alive" && !options.all);
  const elsewhere = chosen.filter((r) => r.liveness === "other-host");
  chosen = chosen.filter((r) => !busy.includes(r) && !elsewhere.includes(r));

  for (const run of busy) out(style.dim(`skipped ${describeRun(run)}: still running (it rolls back by itself; --all ends it and reverts what it left)`));
  for (const run of elsewhere) out(style.yellow(`skipped ${describeRun(run)}: it ran on another host; its faults can only be reverted there (run chaoscast rollback on ${t(run.state.owner.host)})`));
  for (const u of unreadable) out(style.red(`✖ ${t(u.file)}: ${t(u.problem)}. What that run left cannot be known; check it by hand.`));

  if (chosen.length === 0) {
    const skipped = busy.length + elsewhere.length;
    out(unreadable.length || skipped ? "Nothing else to roll back." : `Nothing to roll back: no run left faults behind in ${t(dir)}.`);
    setReport({ stateDir: dir, watchdog, runs: [], skipped: [...busy, ...elsewhere].map((r) => r.state.runId), unreadable });
    // A run still in progress, or one of another host, may have faults in effect: a CI gate on --dry-run must not pass it.
    if (options.dryRun && busy.length + elsewhere.length > 0) return EXIT.rollbackFailed;
    return unreadable.length ? EXIT.rollbackFailed : EXIT.passed;
  }

  const report: unknown[] = [];
  let failures = unreadable.length;
  let inEffect = 0;
  for (const listed of chosen) {
    let run = listed;
    let lock: RunLock | undefined;
    if (!options.dryRun) {
      // Two rollbacks of one run at once would run every revert twice: one waits for the other.
      lock = await takeRollbackLock(run);
      const fresh = await readState(run.file);
      if (!("state" in fresh)) {
        await lock.release();
        out(style.dim(`${describeRun(run)}: already rolled back by another chaoscast rollback (or its watchdog)`));
        continue;
      }
      run = leftoverOf(run.file, fresh.state, run.liveness);
    }
    try {
      out(style.bold(`${options.dryRun ? "Would roll back" : "Rolling back"} ${describeRun(run)}`));
      if (run.liveness === "alive") {
        // A live run would redo what we undo (its lease keepers refresh, its timeline goes on), and
        // a hung one cannot be trusted to stop by itself: end it first.
        if (options.dryRun) out(style.yellow(`  would end its process (pid ${run.state.owner.pid}) with SIGKILL first`));
        else {
          const notEnded = await endRunProcess(run.state.owner);
          if (notEnded) {
            out(style.red(`  ✖ its process (pid ${run.state.owner.pid}) was ${t(notEnded)}; left alone`));
            failures += 1;
            continue;
          }
          out(style.yellow(`  ended its process (pid ${run.state.owner.pid}) with SIGKILL, so it cannot redo its faults`));
        }
      }
      for (const f of run.irreversible) out(style.yellow(`  ! ${t(f.fault)} (${t(f.action)})${f.target ? ` on ${t(f.target.label)}` : ""}: cannot be undone by design`));
      if (options.dryRun) {
        const checks = await checkLeftover(run, registry);
        for (const c of checks) {
          const mark = c.status === "in-effect" ? style.red("in effect") : c.status === "undone" ? style.green("undone") : style.yellow("unknown");
          if (c.status !== "undone") inEffect += 1;
          out(`  ${mark}  ${t(c.fault.fault)}${c.fault.target ? ` on ${t(c.fault.target.label)}` : ""}: ${t(c.detail)}; revert: ${t(c.fault.revert!.description)}`);
        }
        report.push({ runId: run.state.runId, file: run.file, checks: checks.map((c) => ({ fault: c.fault.fault, target: c.fault.target, status: c.status, detail: c.detail, revert: c.fault.revert!.description })) });
        continue;
      }
      const events: RunEventBody[] = [];
      const result = await revertLeftover(run, registry, (event) => {
        events.push(event);
        const line = revertEventLine(event, style);
        if (line !== undefined) out(line);
      });
      for (const f of result.failed.filter((x) => !events.some((e) => e.type === "revert-failed" && e.fault === x.fault.fault))) {
        out(revertEventLine({ type: "revert-failed", fault: f.fault.fault, target: f.fault.target, revert: f.fault.revert?.description ?? "no revert", error: f.error }, style)!);
      }
      failures += result.failed.length;
      report.push({
        runId: run.state.runId,
        file: run.file,
        reverted: result.reverted.map((f) => ({ fault: f.fault, target: f.target })),
        failed: result.failed.map((f) => ({ fault: f.fault.fault, target: f.fault.target, error: f.error, revert: f.fault.revert?.description })),
      });
    } finally {
      await lock?.release();
    }
  }
  setReport({ stateDir: dir, watchdog, runs: report, skipped: [...busy, ...elsewhere].map((r) => r.state.runId), unreadable });
  if (options.dryRun) {
    out(style.dim("Nothing was changed (--dry-run)."));
    // A gate for CI and cron: non-zero while anything may still be injected (in effect, or not
    // observable and so not known to be undone), or a state file cannot be read.
    if (inEffect > 0 || busy.length > 0 || elsewhere.length > 0) {
      if (inEffect > 0) out(style.yellow(`${inEffect} fault(s) may still be in effect (${t(dir)}); \`chaoscast rollback\` undoes them.`));
      return EXIT.rollbackFailed;
    }
    return unreadable.length ? EXIT.rollbackFailed : EXIT.passed;
  }
  if (failures > 0) {
    out(style.red(`${failures} fault(s) could not be reverted; they are still recorded in ${t(dir)}, so \`chaoscast rollback\` can try again.`));
    return EXIT.rollbackFailed;
  }
  out(style.green("Everything those runs left has been reverted."));
  return EXIT.passed;
}

/**
 * Faults adapters recorded in their backends (Kubernetes: ConfigMaps), found in --context from any
 * machine or state directory. A record whose run is still alive here, or whose lease is fresh, is
 * left alone; the rest are reverted, and each revert removes its record.
 */
export async function rollbackRecorded(options: RollbackOptions, style: Style, out: Out, how: { evenLive?: boolean } = {}): Promise<{ exit: number; report: unknown[] }> {
  const ctx: RunContext = { signal: new AbortController().signal, runId: "rollback", note: (m) => out(style.dim(`  ${t(m)}`)), defer: (cleanup) => void cleanup().catch(() => {}) };
  const report: unknown[] = [];
  let problems = 0;
  for (const adapter of registry.adapters.filter((a) => a.records)) {
    // Each backend is searched only when its scope was named: --context (clusters), --region (EC2).
    const where = adapter.records!.scope === "region" ? options.region : options.context;
    if (where === undefined) continue;
    let found: Awaited<ReturnType<NonNullable<typeof adapter.records>["find"]>>;
    try {
      found = await adapter.records!.find(where, ctx);
    } catch (err) {
      // The backend could not be searched: what it holds is unknown, which is not "nothing left".
      out(style.red(`✖ could not search ${t(`${adapter.kind} ${adapter.records!.scope} ${where}`)}: ${t(errorMessage(err))}`));
      report.push({ where: `${adapter.kind} ${adapter.records!.scope} ${where}`, status: "unsearched", detail: errorMessage(err) });
      problems += 1;
      continue;
    }
    const scope = `${adapter.kind} ${adapter.records!.scope} ${where}`;
    for (const u of found.unreadable) {
      out(style.red(`✖ ${t(u.where)}: ${t(u.problem)}; left alone, check it by hand`));
      problems += 1;
    }
    const records = options.run ? found.records.filter((r) => r.runId === options.run) : found.records;
    if (records.length === 0) out(style.dim(`No${found.unreadable.length ? " other" : ""} fault recorded in ${t(scope)}${options.run ? ` by run ${t(options.run)}` : ""}.`));
    if (options.forget) {
      // --forget needs --run (checked before): that run's records go, nothing is reverted.
      for (const record of records) {
        if (!options.dryRun) await record.forget();
        out(style.yellow(`${options.dryRun ? "would forget" : "forgot"} ${t(record.where)} of run ${t(record.runId)}, reverting nothing: make sure it is undone (${t(record.revert.kind)})`));
        report.push({ runId: record.runId, where: record.where, status: "forgotten" });
      }
      continue;
    }
    for (const found of records) {
      // A record is data from the backend: it may only name a revert of the adapter that keeps it,
      // and what it says of itself is not shown; what its data would do is.
      const def = adapter.reverts?.find((r) => r.kind === found.revert.kind);
      let description: string;
      try {
        if (!def) throw new Error(`it names a revert "${found.revert.kind}" that is not ${adapter.kind}'s`);
        description = def.describe(parseRevertData(def, found.revert.kind, found.revert.data));
      } catch (err) {
        out(style.red(`✖ ${t(found.where)}: ${t(errorMessage(err))}; left alone`));
        problems += 1;
        continue;
      }
      const record = { ...found, fault: description, revert: { ...found.revert, description } };
      const state = await recordState(record);
      const what = `${t(description)} (run ${t(record.runId)}; ${t(record.where)})`;
      // `halt --context/--region` reverts what live runs hold too: that is what the switch is for.
      if (state.state === "held" && how.evenLive) {
        out(style.bold(`Halting ${what}: ${t(state.why)}; reverting it all the same`));
        const ok = await revertRecorded(record, registry, (event) => {
          const line = revertEventLine(event, style);
          if (line !== undefined) out(line);
        });
        report.push({ runId: record.runId, where: record.where, fault: record.fault, status: ok ? "reverted" : "revert-failed" });
        if (!ok) problems += 1;
        continue;
      }
      if (state.state === "held") {
        out(style.dim(`skipped ${what}: ${t(state.why)}`));
        report.push({ runId: record.runId, where: record.where, fault: record.fault, status: "held", detail: state.why });
        if (options.dryRun) problems += 1;
        continue;
      }
      if (options.dryRun) {
        out(`${style.red("recorded")}  ${what}: ${t(state.why)}; revert: ${t(record.revert.description)}`);
        report.push({ runId: record.runId, where: record.where, fault: record.fault, status: "abandoned", detail: state.why, revert: record.revert.description });
        problems += 1;
        continue;
      }
      out(style.bold(`Rolling back ${what}: ${t(state.why)}`));
      const ok = await revertRecorded(record, registry, (event) => {
        const line = revertEventLine(event, style);
        if (line !== undefined) out(line);
      });
      report.push({ runId: record.runId, where: record.where, fault: record.fault, status: ok ? "reverted" : "revert-failed" });
      if (!ok) problems += 1;
    }
  }
  return { exit: problems > 0 ? EXIT.rollbackFailed : EXIT.passed, report };
}
