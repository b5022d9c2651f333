// What every docker action checks first: that its target is a container, and that it runs.

import { AdapterError } from "../../errors.js";
import type { Target } from "../../engine/types.js";
import { engineAddress, engineId } from "./client.js";
import { inspectContainer, type ContainerState } from "./reverts.js";
import type { ContainerData } from "./targets.js";

/** The container a target names, with the engine it lives on (recorded with every revert). */
export async function containerOf(target: Target | null, action: string): Promise<ContainerData> {
  if (!target || target.kind !== "docker") throw new AdapterError(`${action} was given no docker target`);
  const { id, name } = target.data as unknown as ContainerData;
  return { id, name, engine: await engineId(), engineAt: engineAddress() };
}

export async function runningState(data: ContainerData, action: string): Promise<ContainerState> {
  const state = await inspectContainer(data);
  if (!state) throw new AdapterError(`${action}: container ${data.name} no longer exists`, { action, target: data.name });
  if (!state.running) throw new AdapterError(`${action}: container ${data.name} is ${state.status}, not running`, { action, target: data.name });
  return state;
}

/** The preflight most docker actions make: the container exists and runs (before any fault of the run). */
export function mustRun(action: string) {
  return async (_params: unknown, target: Target | null): Promise<void> => {
    await runningState(await containerOf(target, action), action);
  };
}
