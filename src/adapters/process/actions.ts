// Signals for local processes: kill, suspend (SIGSTOP, reverted by SIGCONT) and any signal with an
// optional reverting signal. Reverts check the pid still belongs to the same process first.

import { constants } from "node:os";
import { z } from "zod";
import { AdapterError } from "../../errors.js";
import { defineAction, revertWith, type Target } from "../../contract/adapter.js";
import { readProcess } from "./proc.js";
import { resumeRevert, sameProcess, send, signalRevert, waitForState, type ProcessData } from "./reverts.js";

const SIGNAL_NAMES = Object.keys(constants.signals) as [string, ...string[]];
const SignalSchema = z.enum(SIGNAL_NAMES, { error: (iss) => `expected a signal name such as SIGTERM, SIGKILL or SIGHUP, found ${JSON.stringify(iss.input)}` });

function processData(target: Target | null): ProcessData {
  if (target?.kind !== "process") throw new AdapterError("a process action was given no process target");
  return target.data as unknown as ProcessData;
}

/** Only what identifies the process goes into a revert (and so into the state file). */
function identity(data: ProcessData): ProcessData {
  return { pid: data.pid, name: data.name, startTime: data.startTime };
}

async function assertAlive(data: ProcessData, action: string): Promise<void> {
  if (!(await sameProcess(data))) {
    throw new AdapterError(`${action}: ${data.name} (pid ${data.pid}) is no longer running`, { action, target: `pid:${data.pid}` });
  }
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
    return { revert: null, apply: () => send(data, params.signal, "process.kill") };
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
    return {
      revert: revertWith(resumeRevert, identity(data)),
      async apply() {
        await send(data, "SIGSTOP", "process.suspend");
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
    const revert = params.revertSignal ? revertWith(signalRevert, { ...identity(data), signal: params.revertSignal }) : null;
    return { revert, apply: () => send(data, params.signal, "process.signal") };
  },
});
