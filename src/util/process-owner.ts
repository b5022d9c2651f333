// Who owns a run or a lock: pid, kernel start time and host. The start time tells a live owner from
// a new process that happens to reuse a dead owner's pid. Also the rules for signalling a process
// named by a file on disk: never pid 1, never chaoscast itself or its ancestors, and only the
// process whose identity (pid and start time) was recorded.

import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";

export interface ProcessOwner {
  pid: number;
  /** Kernel start time in clock ticks (Linux), or null where it cannot be read. */
  startTime: string | null;
  host: string;
}

/** Linux with /proc: start times exist, so a pid without one in a record is not to be trusted. */
export const HAS_PROC = process.platform === "linux" && existsSync("/proc/self/stat");

interface StatFields {
  state: string;
  ppid: number;
  startTime: string;
}

async function statOf(pid: number): Promise<StatFields | null | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // The name sits in parentheses and may itself contain spaces or parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0] ?? "", ppid: Number(fields[1]), startTime: fields[19] ?? "" };
  } catch (err) {
    // ESRCH: the process went away between opening its stat file and reading it.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ESRCH") return process.platform === "linux" ? undefined : null;
    return null;
  }
}

/** The start time; undefined when the process is gone (or a zombie), null where it cannot be read. */
export async function startTimeOf(pid: number): Promise<string | null | undefined> {
  const stat = await statOf(pid);
  if (stat === undefined || stat === null) return stat;
  if (stat.state === "Z") return undefined; // a zombie has exited; only its parent has not reaped it
  return stat.startTime || null;
}

export async function currentOwner(): Promise<ProcessOwner> {
  return { pid: process.pid, startTime: (await startTimeOf(process.pid)) ?? null, host: hostname() };
}

export type Liveness = "alive" | "dead" | "other-host";

/** Is this owner still running? Another host's processes cannot be seen from here. */
export async function ownerLiveness(owner: ProcessOwner): Promise<Liveness> {
  if (owner.host !== hostname()) return "other-host";
  if (owner.pid === process.pid) return "alive";
  if (!Number.isSafeInteger(owner.pid) || owner.pid <= 0) return "dead";
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return "dead";
  }
  const startTime = await startTimeOf(owner.pid);
  if (startTime === undefined) return "dead";
  // On Linux every owner is recorded with its start time; a record without one cannot prove that
  // a process now holding the pid is its owner, and must not make a run look alive forever.
  if (HAS_PROC && owner.startTime === null) return "dead";
  if (startTime !== null && owner.startTime !== null && startTime !== owner.startTime) return "dead"; // pid reused
  return "alive";
}

/** This process and its ancestors: chaoscast never signals itself or whoever started it. */
export async function ownLineage(): Promise<Set<number>> {
  const lineage = new Set<number>([process.pid]);
  let ppid: number | undefined = process.ppid;
  for (let i = 0; i < 64 && ppid !== undefined && ppid > 0 && !lineage.has(ppid); i++) {
    lineage.add(ppid);
    const stat = await statOf(ppid);
    ppid = stat ? stat.ppid : undefined;
  }
  return lineage;
}

/**
 * Why chaoscast must not signal `pid` named by a record on disk, or null when it may: pid 1 and
 * below (init, process groups, everyone), chaoscast itself and its ancestors are never signalled.
 */
export async function forbiddenPid(pid: number): Promise<string | null> {
  if (!Number.isSafeInteger(pid) || pid <= 1) return `pid ${pid} is ${pid === 1 ? "init" : "not a single process"}; chaoscast never signals it`;
  if ((await ownLineage()).has(pid)) return `pid ${pid} is this chaoscast process or one of its ancestors; chaoscast never signals those`;
  return null;
}

/**
 * Whether a command line is one that owns runs: Node running chaoscast's launcher (bin/chaoscast.js,
 * an installed `chaoscast` link, or dist/cli/main.js) with `run` or `demo` as its command. A name
 * merely mentioned (`tail -f chaoscast.log`, an editor on a chaoscast file) does not count, nor do
 * chaoscast's other commands (a `chaoscast proxy`, another `chaoscast rollback`).
 */
export function isChaoscastRun(argv: string[]): boolean {
  if (!/^node(js)?[\d.]*$/.test(path.basename(argv[0] ?? ""))) return false;
  // Node's own options come before the script; one that takes a separate value makes the value
  // look like the script, which then fails the test: the safe direction.
  let i = 1;
  while (i < argv.length && argv[i]!.startsWith("-")) i++;
  const script = argv[i] ?? "";
  const name = path.basename(script);
  const launcher = name === "chaoscast" || name === "chaoscast.js" || script.endsWith(path.join("dist", "cli", "main.js"));
  if (!launcher) return false;
  // chaoscast's global options are flags: the first argument that is not one is the command.
  const command = argv.slice(i + 1).find((arg) => !arg.startsWith("-"));
  return command === "run" || command === "demo";
}

/**
 * Whether the process at `owner.pid` is provably the chaoscast process a record names: same host,
 * same pid and start time (a record without a start time proves nothing on Linux), its command
 * line that of chaoscast, and not a process chaoscast must never signal. Null when it is.
 */
export async function unprovenRunProcess(owner: ProcessOwner): Promise<string | null> {
  const forbidden = await forbiddenPid(owner.pid);
  if (forbidden) return forbidden;
  if (owner.host !== hostname()) return `it ran on ${owner.host}, not on this host`;
  const startTime = await startTimeOf(owner.pid);
  if (startTime === undefined) return `pid ${owner.pid} has exited`;
  if (HAS_PROC) {
    if (owner.startTime === null) return `the record gives pid ${owner.pid} without its start time, so it cannot be told from another process with that pid`;
    if (startTime !== owner.startTime) return `pid ${owner.pid} is now another process (started at tick ${startTime}, not ${owner.startTime})`;
    const cmdline = await readFile(`/proc/${owner.pid}/cmdline`, "utf8").catch(() => "");
    if (!isChaoscastRun(cmdline.split("\0").filter((arg, i, all) => arg !== "" || i < all.length - 1))) {
      return `pid ${owner.pid} is not a chaoscast run (its command line is not node running chaoscast's run or demo command)`;
    }
  }
  return null;
}
