// Undoing container faults from data alone (in the run, or by `chaoscast rollback` after a crash):
// unpause a paused container, start a stopped or killed one; each then inspects it to confirm.

import { z } from "zod";
import { AdapterError } from "../../errors.js";
import { defineRevert } from "../../engine/types.js";
import { sleep } from "../../util/abortable.js";
import { dockerEngine, engineError, statusOf } from "./client.js";
import { execExpectingSuccess } from "./exec.js";

export const ContainerDataSchema = z.object({ id: z.string().min(1), name: z.string() });
type ContainerData = z.output<typeof ContainerDataSchema>;

export interface ContainerState {
  running: boolean;
  paused: boolean;
  restarting: boolean;
  status: string;
  health: string | undefined;
  restartCount: number;
  restartPolicy: string;
}

/** The container's state, or undefined when it no longer exists. */
export async function inspectContainer(data: ContainerData): Promise<ContainerState | undefined> {
  const docker = await dockerEngine();
  try {
    const info = await docker.getContainer(data.id).inspect();
    return {
      running: info.State.Running,
      paused: info.State.Paused,
      restarting: info.State.Restarting,
      status: info.State.Status,
      health: info.State.Health?.Status,
      restartCount: info.RestartCount,
      restartPolicy: info.HostConfig.RestartPolicy?.Name ?? "no",
    };
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw engineError(`inspecting container ${data.name}`, err);
  }
}

/** Poll until `wanted` holds for the container (true) or `ms` pass (false). */
export async function waitForContainer(data: ContainerData, wanted: (s: ContainerState | undefined) => boolean, ms = 10_000): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (wanted(await inspectContainer(data))) return true;
    if (performance.now() > deadline) return false;
    await sleep(50);
  }
}

export const unpauseRevert = defineRevert({
  kind: "docker.unpause",
  data: ContainerDataSchema,
  describe: (data) => `unpause container ${data.name}`,
  async run(data, ctx) {
    const state = await inspectContainer(data);
    if (!state) throw new AdapterError(`container ${data.name} no longer exists; it cannot be unpaused`);
    if (!state.paused) {
      ctx.note(`container ${data.name} was not paused any more; nothing to undo`);
      return;
    }
    try {
      await (await dockerEngine()).getContainer(data.id).unpause();
    } catch (err) {
      if (statusOf(err) !== 304) throw engineError(`unpausing container ${data.name}`, err);
    }
  },
  async verify(data) {
    const state = await inspectContainer(data);
    if (!state) return `container ${data.name} no longer exists`;
    return state.paused ? `container ${data.name} is still paused` : null;
  },
});

// What a command changes inside a container cannot be observed in general: the undo command
// exiting 0 is the check.
export const execRevert = defineRevert({
  kind: "docker.exec",
  data: ContainerDataSchema.extend({ command: z.array(z.string()).min(1), timeout: z.number() }),
  describe: (data) => `run ${data.command.join(" ")} in container ${data.name}`,
  async run(data, ctx) {
    const state = await inspectContainer(data);
    if (!state) throw new AdapterError(`container ${data.name} no longer exists; cannot run ${data.command[0]} in it`);
    await execExpectingSuccess(data, data.command, data.timeout, ctx.signal, "revert");
  },
});

/** Reconnect a container to a network with the aliases it had. */
export const reconnectRevert = defineRevert({
  kind: "docker.network-connect",
  data: ContainerDataSchema.extend({ network: z.string().min(1), aliases: z.array(z.string()) }),
  describe: (data) => `reconnect container ${data.name} to network ${data.network}`,
  async run(data, ctx) {
    const docker = await dockerEngine();
    if (await attachedTo(data, data.network)) {
      ctx.note(`container ${data.name} is already on network ${data.network}`);
      return;
    }
    try {
      await docker.getNetwork(data.network).connect({ Container: data.id, EndpointConfig: { Aliases: data.aliases } });
    } catch (err) {
      throw engineError(`reconnecting container ${data.name} to network ${data.network}`, err);
    }
  },
  async verify(data) {
    return (await attachedTo(data, data.network)) ? null : `container ${data.name} is not on network ${data.network}`;
  },
});

/** Is the container attached to `network` (by name or id)? */
export async function attachedTo(data: ContainerData, network: string): Promise<boolean> {
  const docker = await dockerEngine();
  try {
    const info = await docker.getContainer(data.id).inspect();
    return Object.entries(info.NetworkSettings.Networks ?? {}).some(([name, n]) => name === network || n.NetworkID === network);
  } catch (err) {
    if (statusOf(err) === 404) throw new AdapterError(`container ${data.name} no longer exists`);
    throw engineError(`inspecting container ${data.name}`, err);
  }
}

export const startRevert = defineRevert({
  kind: "docker.start",
  data: ContainerDataSchema,
  describe: (data) => `start container ${data.name}`,
  async run(data, ctx) {
    // A restart policy may be bringing it back already: give it a moment rather than race it.
    await waitForContainer(data, (s) => !s?.restarting, 5_000);
    const state = await inspectContainer(data);
    if (!state) throw new AdapterError(`container ${data.name} no longer exists; it cannot be started again`);
    if (state.running) {
      ctx.note(`container ${data.name} is already running (its restart policy, or someone, started it)`);
      return;
    }
    try {
      await (await dockerEngine()).getContainer(data.id).start();
    } catch (err) {
      if (statusOf(err) !== 304) throw engineError(`starting container ${data.name}`, err);
    }
    await waitForContainer(data, (s) => s?.running === true, 5_000);
  },
  async verify(data) {
    const state = await inspectContainer(data);
    if (!state) return `container ${data.name} no longer exists`;
    return state.running ? null : `container ${data.name} is ${state.status}, not running`;
  },
});
