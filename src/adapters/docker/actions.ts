// Faults on containers: pause (reverted by unpause), stop and kill (reverted by start), restart.
// Each checks the container first, and confirms through the engine that the fault took effect.

import { constants } from "node:os";
import { z } from "zod";
import { AdapterError } from "../../errors.js";
import { defineAction, revertWith, type Target } from "../../engine/types.js";
import { DurationSchema } from "../../experiment/common-schemas.js";
import { dockerEngine, engineError, statusOf } from "./client.js";
import { inspectContainer, startRevert, unpauseRevert, waitForContainer, type ContainerState } from "./reverts.js";
import type { ContainerData } from "./targets.js";

const SIGNAL_NAMES = Object.keys(constants.signals) as [string, ...string[]];

function container(target: Target | null): ContainerData {
  if (!target || target.kind !== "docker") throw new AdapterError("a docker action was given no docker target");
  const { id, name } = target.data as unknown as ContainerData;
  return { id, name };
}

async function runningState(data: ContainerData, action: string): Promise<ContainerState> {
  const state = await inspectContainer(data);
  if (!state) throw new AdapterError(`${action}: container ${data.name} no longer exists`, { action, target: data.name });
  if (!state.running) throw new AdapterError(`${action}: container ${data.name} is ${state.status}, not running`, { action, target: data.name });
  return state;
}

async function confirm(data: ContainerData, action: string, what: string, wanted: (s: ContainerState | undefined) => boolean): Promise<void> {
  if (!(await waitForContainer(data, wanted, 10_000))) throw new AdapterError(`${action}: container ${data.name} did not become ${what}`, { action, target: data.name });
}

export const pause = defineAction({
  name: "docker.pause",
  description: "Freeze every process of the container (cgroup freezer): it holds its sockets but answers nothing. Reverted by unpause.",
  target: "docker",
  reversible: "always",
  params: z.object({}).strict(),
  example: {},
  async prepare(_params, target) {
    const data = container(target);
    const state = await runningState(data, "docker.pause");
    if (state.paused) throw new AdapterError(`container ${data.name} is already paused; chaoscast will not take over a pause it did not make`, { action: "docker.pause", target: data.name });
    return {
      revert: revertWith(unpauseRevert, { ...data }),
      async apply() {
        try {
          await (await dockerEngine()).getContainer(data.id).pause();
        } catch (err) {
          throw engineError(`docker.pause of ${data.name}`, err);
        }
        await confirm(data, "docker.pause", "paused", (s) => s?.paused === true);
      },
    };
  },
});

export const stop = defineAction({
  name: "docker.stop",
  description: "Stop the container (SIGTERM, then SIGKILL after `timeout`). Reverted by starting it again.",
  target: "docker",
  reversible: "always",
  params: z.object({ timeout: DurationSchema.prefault("10s").meta({ description: "Grace period before Docker kills it." }) }).strict(),
  example: { timeout: "5s" },
  async prepare(params, target) {
    const data = container(target);
    await runningState(data, "docker.stop");
    return {
      revert: revertWith(startRevert, { ...data }),
      async apply() {
        try {
          await (await dockerEngine()).getContainer(data.id).stop({ t: Math.ceil(params.timeout / 1000) });
        } catch (err) {
          if (statusOf(err) !== 304) throw engineError(`docker.stop of ${data.name}`, err);
        }
        await confirm(data, "docker.stop", "stopped", (s) => s !== undefined && !s.running);
      },
    };
  },
});

export const kill = defineAction({
  name: "docker.kill",
  description: "Send a signal (default SIGKILL) to the container's main process. Reverted by starting it again, unless its restart policy already did.",
  target: "docker",
  reversible: "always",
  params: z.object({ signal: z.enum(SIGNAL_NAMES).default("SIGKILL").meta({ description: "The signal to send." }) }).strict(),
  example: { signal: "SIGKILL" },
  async prepare(params, target) {
    const data = container(target);
    await runningState(data, "docker.kill");
    return {
      revert: revertWith(startRevert, { ...data }),
      async apply() {
        try {
          await (await dockerEngine()).getContainer(data.id).kill({ signal: params.signal });
        } catch (err) {
          throw engineError(`docker.kill of ${data.name}`, err);
        }
      },
    };
  },
});

export const restart = defineAction({
  name: "docker.restart",
  description: "Restart the container (stop, then start). The revert only makes sure it is running.",
  target: "docker",
  reversible: "always",
  params: z.object({ timeout: DurationSchema.prefault("10s").meta({ description: "Grace period before Docker kills it." }) }).strict(),
  example: { timeout: "5s" },
  async prepare(params, target) {
    const data = container(target);
    await runningState(data, "docker.restart");
    return {
      revert: revertWith(startRevert, { ...data }),
      async apply() {
        try {
          await (await dockerEngine()).getContainer(data.id).restart({ t: Math.ceil(params.timeout / 1000) });
        } catch (err) {
          throw engineError(`docker.restart of ${data.name}`, err);
        }
        await confirm(data, "docker.restart", "running again", (s) => s?.running === true);
      },
    };
  },
});
