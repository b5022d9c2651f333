// The run's side of the watchdog: start it (a detached process, so a SIGKILL of the run does not
// take it along), heart-beat to it, hand it each state file before anything is injected, forward
// the run's events for the journal it may have to write, and end it when the run ends normally.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ChaoscastError, EXIT } from "../errors.js";
import type { RunEvent } from "../contract/events.js";
import type { ProcessOwner } from "../util/process-owner.js";
import { HEARTBEAT_MS, WATCHDOG_ARGUMENT, type JournalTarget, type RunMessage, type StartMessage, type WatchdogMessage } from "./protocol.js";

/** The watchdog could not be started or armed: the run does not start, nothing is injected. */
export class WatchdogError extends ChaoscastError {
  readonly exitCode = EXIT.skipped;
  constructor(message: string) {
    super(`${message}; nothing was injected. The watchdog rolls back a run that dies or freezes; --watchdog off runs without it.`);
    this.name = "WatchdogError";
  }
}

export interface WatchdogOptions {
  run: ProcessOwner;
  hangMs: number;
  dirs: StartMessage["dirs"];
  /** Told once if the watchdog goes away while the run goes on (the run is then unguarded). */
  onLost: (why: string) => void;
}

const READY_TIMEOUT_MS = 15_000;
const ARM_TIMEOUT_MS = 10_000;

/** dist/watchdog/main.js, next to this module once built. */
function watchdogEntry(): string {
  const entry = fileURLToPath(new URL("./main.js", import.meta.url));
  if (!existsSync(entry)) throw new WatchdogError(`the watchdog's program ${entry} is missing (run from a build of chaoscast)`);
  return entry;
}

export class WatchdogGuard {
  private lost = false;
  private ended = false;
  private readonly beat: NodeJS.Timeout;
  private readonly waiters = new Set<(message: WatchdogMessage | { type: "gone"; why: string }) => void>();

  /** Set once the watchdog is up: a watchdog that fails to start is reported by start() instead. */
  private onLost: (why: string) => void = () => {};

  private constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
  ) {
    child.on("message", (message) => {
      for (const waiter of [...this.waiters]) waiter(message as WatchdogMessage);
    });
    const gone = (why: string) => {
      if (this.ended || this.lost) return;
      this.lost = true;
      clearInterval(this.beat);
      for (const waiter of [...this.waiters]) waiter({ type: "gone", why });
      this.onLost(why);
    };
    child.on("exit", (code, signal) => gone(`the watchdog (pid ${pid}) exited (${signal ?? `code ${code}`})`));
    child.on("disconnect", () => gone(`the channel to the watchdog (pid ${pid}) closed`));
    // Heart-beats come from this event loop: if it freezes, they stop, and the watchdog acts.
    this.beat = setInterval(() => this.send({ type: "beat" }), HEARTBEAT_MS);
    this.beat.unref();
  }

  /** Start the watchdog and wait until it has loaded what a rollback needs and checked who we are. */
  static async start(options: WatchdogOptions): Promise<WatchdogGuard> {
    const entry = watchdogEntry();
    let child: ChildProcess;
    try {
      // detached: its own session, so Ctrl-C in the terminal and a kill of the run's process group
      // reach the run (which rolls back by itself), not the watchdog.
      child = spawn(process.execPath, [entry, WATCHDOG_ARGUMENT, String(options.run.pid)], { detached: true, stdio: ["ignore", "ignore", "ignore", "ipc"], serialization: "json" });
    } catch (err) {
      throw new WatchdogError(`the watchdog could not be started: ${(err as Error).message}`);
    }
    child.unref();
    (child.channel as { unref?: () => void } | undefined)?.unref?.();
    const pid = child.pid;
    if (pid === undefined) {
      const why = await new Promise<string>((resolve) => child.once("error", (err) => resolve(err.message)));
      throw new WatchdogError(`the watchdog could not be started: ${why}`);
    }
    const guard = new WatchdogGuard(child, pid);
    const start: StartMessage = { type: "start", run: options.run, hangMs: options.hangMs, dirs: options.dirs };
    guard.send(start);
    const answer = await guard.next((m) => m.type === "ready" || m.type === "refused", READY_TIMEOUT_MS);
    if (answer.type !== "ready") {
      guard.kill();
      throw new WatchdogError(`the watchdog did not start: ${answer.type === "refused" ? answer.problem : answer.type === "gone" ? answer.why : `no answer within ${READY_TIMEOUT_MS / 1000} s`}`);
    }
    guard.onLost = options.onLost;
    return guard;
  }

  /** Hand the watchdog a run's state file; resolves once it has taken it on. */
  async arm(runId: string, stateFile: string, journal: JournalTarget, display: unknown): Promise<void> {
    if (this.lost) throw new Error("the watchdog is gone");
    this.send({ type: "arm", runId, stateFile, journal, experiment: { display } });
    const answer = await this.next((m) => (m.type === "armed" && m.runId === runId) || m.type === "refused", ARM_TIMEOUT_MS);
    if (answer.type === "armed") return;
    throw new Error(answer.type === "refused" ? answer.problem : answer.type === "gone" ? answer.why : `it did not answer within ${ARM_TIMEOUT_MS / 1000} s`);
  }

  event(runId: string, event: RunEvent): void {
    this.send({ type: "event", runId, event: event as unknown as Record<string, unknown> });
  }

  /** The run wrote its journal: what is left of it is no longer the watchdog's to roll back. */
  disarm(runId: string): void {
    this.send({ type: "disarm", runId });
  }

  /** The run ends normally: tell the watchdog, and give it a moment to exit. Idempotent. */
  async finish(): Promise<void> {
    if (this.ended) return;
    clearInterval(this.beat);
    if (this.lost) {
      this.ended = true;
      return;
    }
    // A referenced timer: the child and its channel are unref'd, and something must keep this
    // process alive while it waits.
    const exited = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2_000);
      this.child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.send({ type: "done" });
    this.ended = true;
    try {
      this.child.disconnect();
    } catch {
      // Already gone.
    }
    await exited;
  }

  private send(message: RunMessage | StartMessage): void {
    if (this.lost || this.ended || !this.child.connected) return;
    try {
      // The callback swallows EPIPE-like failures: a lost watchdog is reported through onLost.
      this.child.send(message, () => {});
    } catch {
      // Reported through the exit/disconnect handlers.
    }
  }

  private next<T extends WatchdogMessage>(accept: (m: WatchdogMessage) => boolean, timeoutMs: number): Promise<T | { type: "gone"; why: string } | { type: "timeout" }> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done({ type: "timeout" }), timeoutMs);
      const waiter = (message: WatchdogMessage | { type: "gone"; why: string }) => {
        if (message.type === "gone" || accept(message)) done(message as T);
      };
      const done = (value: T | { type: "gone"; why: string } | { type: "timeout" }) => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(value);
      };
      this.waiters.add(waiter);
    });
  }

  private kill(): void {
    this.ended = true;
    clearInterval(this.beat);
    this.child.kill("SIGKILL");
  }
}
