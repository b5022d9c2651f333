// Reading the process table: by pid, by name and by listening TCP port. Linux reads /proc directly
// (no dependencies, no parsing of tool output); elsewhere `ps` and `lsof` are used.

import { readFile, readdir, readlink } from "node:fs/promises";
import { HAS_PROC } from "../../util/process-owner.js";

export interface ProcessInfo {
  pid: number;
  /** Short name as the kernel knows it (comm), e.g. "node". */
  name: string;
  /** Full command line, when readable. */
  cmdline: string[];
  /** Kernel start time in clock ticks (Linux): with the pid it identifies the process, so a reused pid is noticed. */
  startTime: string | undefined;
  /** One-letter state (Linux): R running, S sleeping, T stopped, Z zombie … */
  state: string | undefined;
  ppid: number | undefined;
}

export { ownLineage } from "../../util/process-owner.js";

export async function readProcess(pid: number): Promise<ProcessInfo | undefined> {
  if (!HAS_PROC) return (await listProcessesPs()).find((p) => p.pid === pid);
  try {
    const [stat, cmdline] = await Promise.all([
      readFile(`/proc/${pid}/stat`, "utf8"),
      readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => ""),
    ]);
    // The name sits in parentheses and may itself contain spaces or parentheses.
    const open = stat.indexOf("(");
    const close = stat.lastIndexOf(")");
    const rest = stat.slice(close + 2).split(" ");
    return {
      pid,
      name: stat.slice(open + 1, close),
      cmdline: cmdline.split("\0").filter((s) => s.length > 0),
      state: rest[0],
      ppid: Number(rest[1]),
      startTime: rest[19],
    };
  } catch {
    return undefined;
  }
}

export async function listProcesses(): Promise<ProcessInfo[]> {
  if (!HAS_PROC) return listProcessesPs();
  const entries = await readdir("/proc");
  const infos = await Promise.all(entries.filter((e) => /^\d+$/.test(e)).map((e) => readProcess(Number(e))));
  return infos.filter((p): p is ProcessInfo => p !== undefined);
}

/** Does this process (by name) match? The kernel name, or the basename of argv[0]. */
export function matchesName(info: ProcessInfo, name: string): boolean {
  if (info.name === name) return true;
  const argv0 = info.cmdline[0];
  return argv0 !== undefined && argv0.split("/").pop() === name;
}

/** Pids of processes with a TCP socket listening on `port` (any local address, IPv4 or IPv6). */
export async function pidsListeningOn(port: number): Promise<number[]> {
  if (!HAS_PROC) return pidsListeningOnLsof(port);
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(table, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (!local || cols[3] !== "0A") continue; // 0A = LISTEN
      if (Number.parseInt(local.split(":")[1]!, 16) === port) inodes.add(cols[9]!);
    }
  }
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const fds = await readdir(`/proc/${entry}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await readlink(`/proc/${entry}/fd/${fd}`).catch(() => "");
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode && inodes.has(inode)) {
        pids.push(Number(entry));
        break;
      }
    }
  }
  return pids;
}

async function listProcessesPs(): Promise<ProcessInfo[]> {
  const { execa } = await import("execa");
  const { stdout } = await execa("ps", ["-axo", "pid=,ppid=,state=,comm="], { reject: false });
  return stdout
    .split("\n")
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({
      pid: Number(m[1]),
      ppid: Number(m[2]),
      state: m[3]!.charAt(0),
      name: m[4]!.split("/").pop()!,
      cmdline: [m[4]!],
      startTime: undefined,
    }));
}

async function pidsListeningOnLsof(port: number): Promise<number[]> {
  const { execa } = await import("execa");
  const { stdout } = await execa("lsof", ["-nP", `-iTCP:${port}`, "-sTCP:LISTEN", "-t"], { reject: false });
  return [...new Set(stdout.split("\n").filter((l) => /^\d+$/.test(l.trim())).map(Number))];
}

/**
 * Labels of a process, from its environment: processes have no labels, so `chaoscast.io/exclude=true`
 * (settable with `env`) or `CHAOSCAST_EXCLUDE=true` in the environment it was started with stands in.
 */
export async function processLabels(pid: number): Promise<{ labels: Record<string, string>; unreadable: boolean }> {
  if (!HAS_PROC) return { labels: {}, unreadable: false };
  let environ: string;
  try {
    environ = await readFile(`/proc/${pid}/environ`, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { labels: {}, unreadable: false }; // it has exited
    // A process may forbid reading its environment (not dumpable) and still be signalled by us:
    // when the label cannot be checked, it is treated as set.
    return { labels: { "chaoscast.io/exclude": "true" }, unreadable: true };
  }
  const entries = environ.split("\0");
  const excluded = entries.some((e) => /^(chaoscast\.io\/exclude|CHAOSCAST_EXCLUDE)=\s*true\s*$/i.test(e));
  return { labels: excluded ? { "chaoscast.io/exclude": "true" } : {}, unreadable: false };
}
