// The watchdog process: started by `chaoscast run` (never by hand), it outlives a SIGKILL of the
// run. When the run dies, or stops heart-beating for longer than the hang bound (a frozen event
// loop, a stopped process), it ends the run and rolls back from the state files by itself.

import { hostname } from "node:os";
import path from "node:path";
import { sleep } from "../util/abortable.js";
import { HAS_PROC, startTimeOf } from "../util/process-owner.js";
import type { RunEvent } from "../contract/events.js";
import { RunMessageSchema, StartMessageSchema, WATCHDOG_ARGUMENT, type StartMessage, type WatchdogMessage } from "./protocol.js";
import type { ArmedRun, TakeoverInput } from "./takeover.js";

/** Bounds what a chatty run can make the watchdog hold: past it, observations are no longer kept. */
const MAX_KEPT_EVENTS = 20_000;
const TICK_MS = 100;

function send(message: WatchdogMessage): void {
  try {
    process.send?.(message, () => {});
  } catch {
    // The run is gone: the disconnect handler acts on that.
  }
}

function firstMessage(timeoutMs: number): Promise<unknown> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    process.once("message", (message) => {
      clearTimeout(timer);
      resolve(message);
    });
  });
}

/** Is the run (our parent, by pid and start time) still there? */
async function runIsAlive(run: StartMessage["run"]): Promise<boolean> {
  const startTime = await startTimeOf(run.pid);
  if (startTime === undefined) return false;
  return !(HAS_PROC && startTime !== run.startTime);
}

async function main(): Promise<number> {
  if (process.argv[2] !== WATCHDOG_ARGUMENT || !process.send) {
    process.stderr.write("this is chaoscast's watchdog: `chaoscast run` starts it for each run; it is not run by hand\n");
    return 4;
  }
  // Terminal signals are the run's to handle (it rolls back by itself); the watchdog is in its own
  // session, but a signal sent to it by pid must not cut a takeover short either.
  for (const signal of ["SIGINT", "SIGHUP", "SIGQUIT"] as const) process.on(signal, () => {});

  const parsed = StartMessageSchema.safeParse(await firstMessage(10_000));
  if (!parsed.success) {
    send({ type: "refused", problem: "the first message was not a valid start message" });
    return 4;
  }
  const start = parsed.data;
  // The run is the process that started us, and no other: the watchdog may SIGKILL it.
  if (process.ppid !== start.run.pid || start.run.host !== hostname() || !(await runIsAlive(start.run))) {
    send({ type: "refused", problem: `the run (pid ${start.run.pid}) is not the watchdog's parent process` });
    return 4;
  }
  // Load now what a rollback needs: when the run dies there must be nothing left to wait for.
  const [{ takeOver }, { registry }] = await Promise.all([import("./takeover.js"), import("../registry.js")]);

  const armed = new Map<string, ArmedRun>();
  // Events arrive from a run's first (run-started), before it is armed: keep the latest run's.
  const events = new Map<string, RunEvent[]>();
  let lastBeat = performance.now();
  let lastTick = performance.now();
  let done = false;
  let trigger: ((reason: string, endRun: boolean) => void) | undefined;
  const triggered = new Promise<{ reason: string; endRun: boolean }>((resolve) => {
    trigger = (reason, endRun) => resolve({ reason, endRun });
  });

  process.on("message", (raw) => {
    const message = RunMessageSchema.safeParse(raw);
    if (!message.success) return;
    const m = message.data;
    switch (m.type) {
      case "beat":
        lastBeat = performance.now();
        return;
      case "arm": {
        // Only a state file where the run keeps them, named for its run: nothing else is touched.
        if (path.dirname(m.stateFile) !== start.dirs.state || path.basename(m.stateFile) !== `${m.runId}.json`) {
          send({ type: "refused", problem: `the state file ${m.stateFile} is not in ${start.dirs.state}` });
          return;
        }
        armed.set(m.runId, { arm: m, events: events.get(m.runId) ?? [] });
        send({ type: "armed", runId: m.runId });
        return;
      }
      case "event": {
        let list = events.get(m.runId);
        if (!list) {
          // A new run in the batch: the previous one's events are its journal's, written or disarmed.
          for (const id of events.keys()) if (!armed.has(id)) events.delete(id);
          list = [];
          events.set(m.runId, list);
          const run = armed.get(m.runId);
          if (run) run.events = list;
        }
        if (list.length >= MAX_KEPT_EVENTS && m.event.type === "observation") return;
        list.push(m.event as unknown as RunEvent);
        return;
      }
      case "disarm":
        armed.delete(m.runId);
        events.delete(m.runId);
        return;
      case "done":
        done = true;
        process.exit(0);
    }
  });
  process.on("disconnect", () => {
    if (done) process.exit(0);
    void (async () => {
      // The channel closes when the run's process exits, however it exits (SIGKILL included).
      // Should it ever close with the run still there, watch the process instead.
      while (await runIsAlive(start.run)) await sleep(TICK_MS);
      trigger?.(`the run's process (pid ${start.run.pid}) died before it finished rolling back`, false);
    })();
  });
  const hangCheck = setInterval(() => {
    const now = performance.now();
    // If the watchdog itself was not scheduled for a while (a suspended machine, a starved CPU),
    // silence from the run proves nothing: start counting again.
    if (now - lastTick > start.hangMs / 2) lastBeat = now;
    lastTick = now;
    if (process.connected && now - lastBeat > start.hangMs) {
      trigger?.(`the run stopped responding: no heartbeat for ${((now - lastBeat) / 1000).toFixed(1)} s (a frozen event loop or a stopped process; the bound is ${start.hangMs / 1000} s)`, true);
    }
  }, TICK_MS);
  send({ type: "ready", pid: process.pid });

  const { reason, endRun } = await triggered;
  clearInterval(hangCheck);
  process.removeAllListeners("message");
  let why = reason;
  if (endRun) why = `${reason}; the watchdog ended it with SIGKILL (${await endFrozenRun(start.run)})`;
  const input: TakeoverInput = { start, armed, reason: why, registry };
  const reports = await takeOver(input);
  try {
    process.disconnect?.();
  } catch {
    // Already disconnected.
  }
  return reports.some((r) => r.failed.length > 0) ? 3 : 0;
}

/** SIGKILL the frozen run, which is our parent with the start time it gave; wait until it is gone. */
async function endFrozenRun(run: StartMessage["run"]): Promise<string> {
  if (!(await runIsAlive(run))) return "it had already exited";
  try {
    process.kill(run.pid, "SIGKILL");
  } catch (err) {
    return `the signal failed: ${(err as NodeJS.ErrnoException).code}`;
  }
  const deadline = performance.now() + 5_000;
  while (performance.now() < deadline) {
    if (!(await runIsAlive(run))) return "it has exited";
    await sleep(10);
  }
  // A process in uninterruptible sleep dies when it leaves it, without running again: rolling back
  // now cannot race with it.
  return "it has not exited yet, but cannot run again";
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaoscast watchdog: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(70);
  },
);
