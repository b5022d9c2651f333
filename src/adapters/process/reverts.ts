// Undoing process faults from data alone (in the run, or by `chaoscast rollback` after a crash):
// resume a suspended process, or send the configured reverting signal. Both first check that the
// pid still belongs to the process that was hit, so a reused pid is never signalled.

import { constants } from "node:os";
import { z } from "zod";
import { AdapterError } from "../../errors.js";
import { defineRevert } from "../../contract/adapter.js";
import { sleep } from "../../util/abortable.js";
import { forbiddenPid, HAS_PROC } from "../../util/process-owner.js";
import { readProcess } from "./proc.js";

export const ProcessDataSchema = z.object({
  // pid 1 is init: no run ever targets it, so a record that names it is not one a run wrote.
  pid: z.int().min(2),
  name: z.string(),
  startTime: z.string().nullable(),
});
export type ProcessData = z.output<typeof ProcessDataSchema>;

const SIGNAL_NAMES = Object.keys(constants.signals) as [string, ...string[]];

/**
 * Is the pid still the process we resolved (not exited, not reused by another one)? On Linux a
 * record without the start time is refused: it could name any process that holds the pid now.
 */
export async function sameProcess(data: ProcessData): Promise<boolean> {
  if (data.startTime === null && HAS_PROC) {
    throw new AdapterError(`the record names ${data.name} (pid ${data.pid}) without its start time, so chaoscast cannot tell it is still the process the run hit; it signals nothing on such a record`, { target: `pid:${data.pid}` });
  }
  const info = await readProcess(data.pid);
  if (!info || info.state === "Z") return false;
  return data.startTime === null || info.startTime === data.startTime;
}

/**
 * Send a signal, under the rules every run follows, also for a pid read back from a state file:
 * never pid 1 (or 0 and negatives, which mean groups), never chaoscast itself or its ancestors.
 */
export async function send(data: ProcessData, signal: string, action: string): Promise<void> {
  const forbidden = await forbiddenPid(data.pid);
  if (forbidden) throw new AdapterError(`${action}: refused to send ${signal} to ${data.name}: ${forbidden}`, { action, target: `pid:${data.pid}` });
  try {
    process.kill(data.pid, signal as NodeJS.Signals);
  } catch (err) {
    throw new AdapterError(`${action}: could not send ${signal} to ${data.name} (pid ${data.pid})`, { action, target: `pid:${data.pid}` }, { cause: err });
  }
}

/** Poll the process state until `wanted` holds (true) or 2 s pass (false). A vanished process counts as done. */
export async function waitForState(pid: number, wanted: (state: string) => boolean): Promise<boolean> {
  const deadline = performance.now() + 2_000;
  for (;;) {
    const info = await readProcess(pid);
    if (!info?.state || wanted(info.state)) return true;
    if (performance.now() > deadline) return false;
    await sleep(5);
  }
}

export const resumeRevert = defineRevert({
  kind: "process.resume",
  data: ProcessDataSchema,
  describe: (data) => `send SIGCONT to ${data.name} (pid ${data.pid})`,
  async run(data, ctx) {
    if (!(await sameProcess(data))) {
      ctx.note(`${data.name} (pid ${data.pid}) has exited; nothing to undo`);
      return;
    }
    await send(data, "SIGCONT", "revert");
    // SIGCONT is delivered asynchronously: wait until the kernel shows the process running again.
    await waitForState(data.pid, (state) => state !== "T");
  },
  async verify(data) {
    if (!(await sameProcess(data))) return null;
    const state = (await readProcess(data.pid))?.state;
    return state === "T" ? `${data.name} (pid ${data.pid}) is still stopped` : null;
  },
});

export const signalRevert = defineRevert({
  kind: "process.signal",
  data: ProcessDataSchema.extend({ signal: z.enum(SIGNAL_NAMES) }),
  describe: (data) => `send ${data.signal} to ${data.name} (pid ${data.pid})`,
  async run(data, ctx) {
    if (!(await sameProcess(data))) {
      ctx.note(`${data.name} (pid ${data.pid}) has exited; nothing to undo`);
      return;
    }
    await send(data, data.signal, "revert");
  },
  // What an arbitrary reverting signal restores is known only to the process: nothing to observe.
});
