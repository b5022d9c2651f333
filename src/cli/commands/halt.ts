// `chaoscast halt`: the big red switch. Writes the halt file (no run starts while it exists, and a
// running one sees it within 200 ms and aborts as on a breach), and sends SIGTERM to every run of
// this state directory that is alive on this host, so each rolls back at once; then waits until
// they have. `chaoscast halt --clear` lifts the halt.

import { unlink } from "node:fs/promises";
import { hostname, userInfo } from "node:os";
import { findLeftovers, type LeftoverRun } from "../../engine/leftovers.js";
import { liveLockHolders } from "../../engine/lock.js";
import { errorMessage, EXIT, UsageError } from "../../errors.js";
import { sleep } from "../../util/abortable.js";
import { writeFileAtomic } from "../../util/atomic-file.js";
import { displayPath } from "../../util/display-path.js";
import { ownerLiveness, unprovenRunProcess, type ProcessOwner } from "../../util/process-owner.js";
import { forTerminal as t, terminalSafeJson } from "../../util/terminal-text.js";
import { makeStyle } from "../render/style.js";
import { haltFile, locksDir, preparePrivateDirs, stateDir, type CommonOptions } from "../shared.js";

/** A run this halt stops: from its state file, or (still in preflight) from its lock. */
interface Live {
  runId: string;
  title: string;
  owner: ProcessOwner;
}

export interface HaltOptions extends CommonOptions {
  reason?: string;
  clear?: boolean;
  /** Also revert every fault recorded in this Kubernetes context, live runs' included. */
  context?: string;
  /** Also revert every fault recorded in the tags of this AWS region's EC2 instances, live runs' included. */
  region?: string;
}

/** How long halt waits for the runs it signalled to finish rolling back. */
const WAIT_MS = 60_000;

export async function haltCommand(options: HaltOptions): Promise<number> {
  const style = makeStyle(process.stdout, options.color);
  const json = options.output === "json";
  const out = (line: string) => {
    if (!json) process.stdout.write(`${line}\n`);
  };
  const file = haltFile();
  if (options.clear) {
    const lifted = await unlink(file).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return false;
        throw new UsageError(`cannot lift the halt: ${t(displayPath(file))} cannot be removed (${err.code}); it is not a file chaoscast wrote: remove it by hand`);
      },
    );
    out(lifted ? `Halt lifted: runs may start again (${t(displayPath(file))} removed).` : "No halt was in force.");
    if (json) process.stdout.write(`${terminalSafeJson({ halted: false, lifted }, 2)}\n`);
    return EXIT.passed;
  }

  if (options.region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(options.region)) throw new UsageError(`--region ${t(options.region)}: expected an AWS region such as us-east-1`);
  const started = performance.now();
  // One line of plain text: a reason is shown by every run the halt stops, and may be cat-ed.
  const reason = (options.reason ?? "").replace(/[\u0000-\u001f\u007f-\u009f]/g, " ").replace(/\s+/g, " ").trim().slice(0, 150) || "chaoscast halt";
  // An emergency stop goes on whatever happens to the file: the signals below still stop the runs.
  let fileProblem: string | undefined;
  try {
    await preparePrivateDirs();
    await writeFileAtomic(file, `halted ${new Date().toISOString()} by ${userInfo().username}@${hostname()} (pid ${process.pid}): ${reason}\n`, 0o600);
    out(style.bold(`Halt in force: no run starts until \`chaoscast halt --clear\` (${t(displayPath(file))}).`));
  } catch (err) {
    fileProblem = errorMessage(err);
    out(style.red(`✖ could not write the halt file ${t(displayPath(file))} (${t(fileProblem)}): the runs in progress are stopped, but new ones are not held back`));
  }

  const { runs } = await findLeftovers(stateDir()).catch(() => ({ runs: [] as LeftoverRun[] }));
  // Runs still in preflight or checking the steady state have no state file yet, but hold a lock.
  const locked = await liveLockHolders(locksDir());
  const live: Live[] = [
    ...runs.filter((r) => r.liveness === "alive").map((r) => ({ runId: r.state.runId, title: r.state.experiment.title, owner: r.state.owner })),
    ...locked.filter((h) => !runs.some((r) => r.state.runId === h.runId)).map((h) => ({ runId: h.runId, title: h.experiment, owner: h.owner })),
  ];
  const signalled: { run: Live; at: number }[] = [];
  for (const run of live) {
    const owner = run.owner;
    const unproven = await unprovenRunProcess(owner);
    if (unproven) {
      out(style.yellow(`  ${t(run.runId)}: not signalled (${t(unproven)}); it aborts by itself when it sees the halt file`));
      continue;
    }
    try {
      process.kill(owner.pid, "SIGTERM");
      signalled.push({ run, at: performance.now() });
      out(`  ${t(run.runId)} (${t(run.title)}): SIGTERM sent to pid ${owner.pid}, rolling back…`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ESRCH") out(style.yellow(`  ${t(run.runId)}: could not signal pid ${owner.pid} (${(err as NodeJS.ErrnoException).code}); it aborts by itself when it sees the halt file`));
    }
  }
  if (live.length === 0) out("No run in progress in this state directory.");

  // Every run, signalled or not, is waited for: the halt file stops the ones a signal could not reach.
  const report: { runId: string; title: string; ended: boolean; ms: number }[] = [];
  const deadline = performance.now() + WAIT_MS;
  for (const run of live) {
    // One reading decides: asking again after the loop could catch the process mid-exit and read it
    // as alive once more.
    let liveness = await ownerLiveness(run.owner);
    while (liveness === "alive" && performance.now() < deadline) {
      await sleep(25);
      liveness = await ownerLiveness(run.owner);
    }
    const ended = liveness !== "alive";
    const from = signalled.find((s) => s.run === run)?.at ?? started;
    const ms = Math.round(performance.now() - from);
    report.push({ runId: run.runId, title: run.title, ended, ms });
    if (ended) out(style.green(`  ✔ ${t(run.runId)}: rolled back and ended ${ms} ms after the halt (its journal says what was reverted)`));
    else out(style.red(`  ✖ ${t(run.runId)}: still running after ${Math.round(WAIT_MS / 1000)}s; see \`chaoscast rollback --dry-run\`, or \`chaoscast rollback --all\` to end it`));
  }
  // Faults recorded in a cluster or an account: every one is reverted, a live run's too (on another
  // machine it goes on with its method unaware, unless a shared guard in its policy stops it).
  let recorded: { exit: number; report: unknown[] } | undefined;
  if (options.context !== undefined || options.region !== undefined) {
    const { rollbackRecorded } = await import("./rollback.js");
    out(style.bold(`Reverting every fault recorded in ${t([options.context && `context ${options.context}`, options.region && `region ${options.region}`].filter(Boolean).join(" and "))}, live runs' included:`));
    recorded = await rollbackRecorded({ ...options, ...(options.context !== undefined ? { context: options.context } : {}), ...(options.region !== undefined ? { region: options.region } : {}) }, style, out, { evenLive: true });
  }
  if (json) process.stdout.write(`${terminalSafeJson({ halted: fileProblem === undefined, file, runs: report, ...(recorded ? { recorded: recorded.report } : {}), ...(fileProblem ? { problem: fileProblem } : {}) }, 2)}\n`);
  return report.every((r) => r.ended) && fileProblem === undefined && (recorded?.exit ?? EXIT.passed) === EXIT.passed ? EXIT.passed : EXIT.rollbackFailed;
}
