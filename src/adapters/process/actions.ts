// Signals for local processes: kill, suspend (SIGSTOP, reverted by SIGCONT) and any signal with an
// optional reverting signal. Reverts check the pid still belongs to the same process first.

import { constants } from "node:os";
import { z } from "zod";
import { AdapterError } from "../../errors.js";
import { defineAction, type Revert, type RunContext, type Target } from "../../engine/types.js";
import { sleep } from "../../util/abortable.js";
import { readProcess } from "./proc.js";

const SIGNAL_NAMES = Object.keys(constants.signals) as [string, ...string[]];
const SignalSchema = z.enum(SIGNAL_NAMES, { error: (iss) => `expected a signal name such as SIGTERM, SIGKILL or SIGHUP, found ${JSON.stringify(iss.input)}` });

interface ProcessData {
  pid: number;
  name: string;
  startTime: string | null;
}

function processData(target: Target | null): ProcessData {
  if (!target || target.kind !== "process") throw new AdapterError("a process action was given no process target");
  return target.data as unknown as ProcessData;
}

/** Is the pid still the process we resolved (not exited, not reused by another one)? */
async function sameProcess(data: ProcessData): Promise<boolean> {
  const info = await readProcess(data.pid);
  if (!info || info.state === "Z") return false;
  return data.startTime === null || info.startTime === data.startTime;
}

function send(data: ProcessData, signal: string, action: string): void {
  try {
    process.kill(data.pid, signal as NodeJS.Signals);
  } catch (err) {
    throw new AdapterError(`${action}: could not send ${signal} to ${data.name} (pid ${data.pid})`, { action, target: `pid:${data.pid}` }, { cause: err });
  }
}

async function assertAlive(data: ProcessData, action: string): Promise<void> {
  if (!(await sameProcess(data))) {
    throw new AdapterError(`${action}: ${data.name} (pid ${data.pid}) is no longer running`, { action, target: `pid:${data.pid}` });
  }
}

/** Poll the process state until `wanted` holds (true) or 2 s pass (false). A vanished process counts as done. */
async function waitForState(pid: number, wanted: (state: string) => boolean): Promise<boolean> {
  const deadline = performance.now() + 2_000;
  for (;;) {
    const info = await readProcess(pid);
    if (!info?.state || wanted(info.state)) return true;
    if (performance.now() > deadline) return false;
    await sleep(5);
  }
}

/** Undo by sending a signal, unless the process has gone (then there is nothing left to undo). */
function signalRevert(data: ProcessData, signal: string, verify?: (ctx: RunContext) => Promise<void>): Revert {
  return {
    description: `send ${signal} to ${data.name} (pid ${data.pid})`,
    serialize: () => ({ adapter: "process", revert: "signal", signal, ...data }),
    async run(ctx) {
      if (!(await sameProcess(data))) {
        ctx.note(`${data.name} (pid ${data.pid}) has exited; nothing to undo`);
        return;
      }
      send(data, signal, "revert");
      await verify?.(ctx);
    },
  };
}

export const kill = defineAction({
  name: "process.kill",
  description: "Send a signal (default SIGKILL) to end the process. Cannot be undone: the process's supervisor must restart it.",
  target: "process",
  reversible: "never",
  params: z.object({ signal: SignalSchema.default("SIGKILL").meta({ description: "The signal to send." }) }).strict(),
  example: { signal: "SIGKILL" },
  async prepare(params, target) {
    const data = processData(target);
    await assertAlive(data, "process.kill");
    return { revert: null, apply: async () => send(data, params.signal, "process.kill") };
  },
});

export const suspend = defineAction({
  name: "process.suspend",
  description: "Freeze the process with SIGSTOP (it holds its sockets but answers nothing); reverted with SIGCONT.",
  target: "process",
  reversible: "always",
  params: z.object({}).strict(),
  example: {},
  async prepare(_params, target) {
    const data = processData(target);
    await assertAlive(data, "process.suspend");
    // Resuming on rollback would end a freeze someone else made (another run, a debugger).
    if ((await readProcess(data.pid))?.state === "T") {
      throw new AdapterError(`${data.name} (pid ${data.pid}) is already stopped; chaoscast will not take over a freeze it did not make`, { action: "process.suspend", target: `pid:${data.pid}` });
    }
    const revert = signalRevert(data, "SIGCONT", async () => {
      if (!(await waitForState(data.pid, (state) => state !== "T"))) {
        throw new AdapterError(`${data.name} (pid ${data.pid}) is still stopped after SIGCONT`, { action: "revert", target: `pid:${data.pid}` });
      }
    });
    return {
      revert,
      async apply() {
        send(data, "SIGSTOP", "process.suspend");
        // Signals are delivered asynchronously: only claim the fault once the kernel shows it.
        if (!(await waitForState(data.pid, (state) => state === "T"))) {
          throw new AdapterError(`${data.name} (pid ${data.pid}) did not stop after SIGSTOP`, { action: "process.suspend", target: `pid:${data.pid}` });
        }
      },
    };
  },
});

export const signal = defineAction({
  name: "process.signal",
  description: "Send any signal (e.g. SIGHUP to reload, SIGUSR1); optionally send another to undo it.",
  target: "process",
  reversible: "when-configured",
  revertConfigured: (params) => params.revertSignal !== undefined,
  params: z
    .object({
      signal: SignalSchema.meta({ description: "The signal to send." }),
      revertSignal: SignalSchema.optional().meta({ description: "A signal that undoes it, sent on rollback." }),
    })
    .strict(),
  example: { signal: "SIGUSR1", revertSignal: "SIGUSR2" },
  async prepare(params, target) {
    const data = processData(target);
    await assertAlive(data, "process.signal");
    const revert = params.revertSignal ? signalRevert(data, params.revertSignal) : null;
    return { revert, apply: async () => send(data, params.signal, "process.signal") };
  },
});
