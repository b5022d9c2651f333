// What every docker action checks first: that its target is a container, and that it runs.

import { AdapterError } from "../../errors.js";
import type { Target } from "../../contract/adapter.js";
import { engineAddress, engineId } from "./client.js";
import { inspectContainer, type ContainerState } from "./reverts.js";
import type { ContainerData } from "./targets.js";

/** The container a target names, with the engine it lives on (recorded with every revert). */
export async function containerOf(target: Target | null, action: string): Promise<ContainerData> {
  if (target?.kind !== "docker") throw new AdapterError(`${action} was given no docker target`);
  const { id, name } = target.data as unknown as ContainerData;
  return { id, name, engine: await engineId(), engineAt: engineAddress() };
}

export async function runningState(data: ContainerData, action: string): Promise<ContainerState> {
  const state = await inspectContainer(data);
  if (!state) throw new AdapterError(`${action}: container ${data.name} no longer exists`, { action, target: data.name });
  if (!state.running) throw new AdapterError(`${action}: container ${data.name} is ${state.status}, not running`, { action, target: data.name });
  return state;
}

/**
 * A running container that will still exist once it stops. Docker removes a `--rm` container as
 * soon as it stops, so a stop or kill of one could never be reverted: it is refused up front.
 */
export async function stoppableState(data: ContainerData, action: string): Promise<ContainerState> {
  const state = await runningState(data, action);
  if (state.autoRemove) {
    throw new AdapterError(`${action}: container ${data.name} was started with --rm, so Docker removes it the moment it stops and nothing could start it again; chaoscast refuses a fault it cannot revert (use docker.pause or docker.restart on it instead)`, { action, target: data.name });
  }
  return state;
}

/** The preflight most docker actions make: the container exists and runs (before any fault of the run). */
export function mustRun(action: string, check: (data: ContainerData, action: string) => Promise<ContainerState> = runningState) {
  return async (_params: unknown, target: Target | null): Promise<void> => {
    await check(await containerOf(target, action), action);
  };
}
