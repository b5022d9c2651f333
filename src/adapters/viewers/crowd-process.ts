// chaoscast's side of the crowd process: find its program, start it (node with an argument array
// and an IPC channel), follow its progress, stop it by message; and, from a state file alone, find
// it by the token in its argv (checked with its start time) and end it with signals.

import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ResultPromise } from "execa";
import { sleep } from "../../util/abortable.js";
import { forbiddenPid, HAS_PROC, startTimeOf } from "../../util/process-owner.js";
import { SURGE_MARKER, type CrowdConfig, type CrowdEnd, type FromCrowd, type ToCrowd } from "./protocol.js";
import { fold, NOTHING_REACHED, type Progress, type Reached } from "./schedule.js";

const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 3_000;

/** worker.js next to this module once built; from src (under vitest), the build's copy. */
export function crowdProgram(): string | undefined {
  const here = fileURLToPath(new URL("./worker.js", import.meta.url));
  if (existsSync(here)) return here;
  const built = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../dist/adapters/viewers/worker.js");
  return existsSync(built) ? built : undefined;
}

/** A crowd this process started: its progress so far, and how to stop it. */
export class CrowdHandle {
  reached: Reached = NOTHING_REACHED;
  latest: Progress | undefined;
  ended: { why: CrowdEnd; reached: Reached } | undefined;
  private readonly exited: Promise<unknown>;

  constructor(
    private readonly child: ResultPromise,
    readonly pid: number,
    to: number,
    onProgress: (progress: Progress, handle: CrowdHandle) => void,
  ) {
    child.on("message", (message: FromCrowd) => {
      if (message.type === "progress") {
        this.latest = message.progress;
        this.reached = fold(this.reached, message.progress, to);
        onProgress(message.progress, this);
      } else if (message.type === "done") {
        this.ended = { why: message.why, reached: message.reached };
        this.reached = message.reached;
      }
    });
    this.exited = child.then(
      () => {},
      () => {},
    );
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Ask the crowd to stop and wait for it to exit; it is killed if it does not within 3 s. */
  async stop(): Promise<void> {
    if (this.running && this.child.connected) this.child.send({ type: "stop" } satisfies ToCrowd);
    const exited = await Promise.race([this.exited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
    if (!exited) {
      this.child.kill("SIGKILL");
      await this.exited;
    }
  }
}

/** Crowds started by this process, by token: a revert in the same run stops its crowd by message. */
export const runningCrowds = new Map<string, CrowdHandle>();

export async function startCrowd(token: string, config: CrowdConfig, onProgress: (progress: Progress, handle: CrowdHandle) => void): Promise<CrowdHandle> {
  const program = crowdProgram();
  if (!program) throw new Error("its program (dist/adapters/viewers/worker.js) is missing: run from a build of chaoscast (npm run build)");
  const { execa } = await import("execa");
  const child = execa(process.execPath, [program, SURGE_MARKER, token], {
    ipc: true,
    serialization: "json",
    // Its own process group: a Ctrl-C in the terminal reaches chaoscast, which stops the crowd in
    // its rollback; if chaoscast dies instead, the closed channel ends the crowd.
    detached: true,
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
    buffer: { ipc: false },
    maxBuffer: { stderr: 64 * 1024 },
    reject: false,
  });
  if (child.pid === undefined) {
    const result = await child;
    throw new Error(`it could not be started: ${result.shortMessage}`);
  }
  const handle = new CrowdHandle(child, child.pid, config.to, onProgress);
  const ready = await new Promise<string | null>((resolve) => {
    const timer = setTimeout(() => resolve(`it did not answer within ${READY_TIMEOUT_MS / 1000} s`), READY_TIMEOUT_MS);
    child.on("message", (message: FromCrowd) => {
      if (message.type === "ready") {
        clearTimeout(timer);
        resolve(null);
      }
    });
    void child.then((result) => {
      clearTimeout(timer);
      resolve(`it exited before it was ready (${result.signal ?? `code ${result.exitCode}`})${result.stderr ? `: ${String(result.stderr).trim().split("\n").at(-1)}` : ""}`);
    });
  });
  if (ready !== null) {
    await handle.stop();
    throw new Error(ready);
  }
  child.send({ type: "start", config } satisfies ToCrowd);
  // Nothing here keeps chaoscast alive: the run's own work does, and its revert stops the crowd.
  child.unref();
  (child.channel as { unref?: () => void } | undefined)?.unref?.();
  return handle;
}

export interface FoundCrowd {
  pid: number;
  startTime: string | null;
}

/** Is this argv that of the crowd with `token`? */
export function isCrowdArgv(argv: readonly string[], token: string): boolean {
  const at = argv.indexOf(SURGE_MARKER);
  return at > 0 && argv[at + 1] === token;
}

/** Processes on this machine that are the crowd with `token` (normally one, or none). */
export async function findCrowds(token: string): Promise<FoundCrowd[]> {
  if (!HAS_PROC) {
    const { execa } = await import("execa");
    const { stdout } = await execa("ps", ["-axww", "-o", "pid=,args="], { reject: false });
    return String(stdout)
      .split("\n")
      .map((line) => /^\s*(\d+)\s+(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null && isCrowdArgv(m[2]!.split(/\s+/), token))
      .map((m) => ({ pid: Number(m[1]), startTime: null }));
  }
  const found: FoundCrowd[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (!cmdline.includes(token) || !isCrowdArgv(cmdline.split("\0"), token)) continue;
    const startTime = await startTimeOf(Number(entry));
    if (startTime !== undefined) found.push({ pid: Number(entry), startTime });
  }
  return found;
}

/** Is the process still the crowd that was found (same pid, same start time)? */
async function stillThere(crowd: FoundCrowd): Promise<boolean> {
  const now = await startTimeOf(crowd.pid);
  return now !== undefined && (crowd.startTime === null || now === crowd.startTime);
}

/** End a crowd found by its token: SIGTERM, then SIGKILL after 2 s. Returns what was ended. */
export async function killCrowd(crowd: FoundCrowd): Promise<boolean> {
  const forbidden = await forbiddenPid(crowd.pid);
  if (forbidden) throw new Error(forbidden);
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    if (!(await stillThere(crowd))) return signal !== "SIGTERM";
    try {
      process.kill(crowd.pid, signal);
    } catch {
      return signal !== "SIGTERM";
    }
    const deadline = performance.now() + 2_000;
    while (performance.now() < deadline) {
      if (!(await stillThere(crowd))) return true;
      await sleep(20);
    }
  }
  return !(await stillThere(crowd));
}
