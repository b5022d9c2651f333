// Who owns a run or a lock: pid, kernel start time and host. The start time tells a live owner from
// a new process that happens to reuse a dead owner's pid.

import { readFile } from "node:fs/promises";
import { hostname } from "node:os";

export interface ProcessOwner {
  pid: number;
  /** Kernel start time in clock ticks (Linux), or null where it cannot be read. */
  startTime: string | null;
  host: string;
}

async function startTimeOf(pid: number): Promise<string | null | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z") return undefined; // a zombie has exited; only its parent has not reaped it
    return fields[19] ?? null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return process.platform === "linux" ? undefined : null;
    return null;
  }
}

export async function currentOwner(): Promise<ProcessOwner> {
  return { pid: process.pid, startTime: (await startTimeOf(process.pid)) ?? null, host: hostname() };
}

export type Liveness = "alive" | "dead" | "other-host";

/** Is this owner still running? Another host's processes cannot be seen from here. */
export async function ownerLiveness(owner: ProcessOwner): Promise<Liveness> {
  if (owner.host !== hostname()) return "other-host";
  if (owner.pid === process.pid) return "alive";
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return "dead";
  }
  const startTime = await startTimeOf(owner.pid);
  if (startTime === undefined) return "dead";
  if (startTime !== null && owner.startTime !== null && startTime !== owner.startTime) return "dead"; // pid reused
  return "alive";
}
