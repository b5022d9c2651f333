// The `docker` adapter: containers on a Docker engine (dockerode), found by name, labels, image or
// Compose service.

import type { Adapter, RevertDef } from "../../contract/adapter.js";
import { AdapterError } from "../../errors.js";
import { engineAddress, engineId } from "./client.js";
import { exec, kill, limit, networkDisconnect, pause, restart, stop, stress } from "./actions.js";
import { netem, removeShapingRevert } from "./netem.js";
import { dockerProbe } from "./probes.js";
import { execRevert, reconnectRevert, restoreResourcesRevert, startRevert, stopBurnersRevert, unpauseRevert } from "./reverts.js";
import { removeStressHelpersRevert } from "./stress-helpers.js";
import { dockerTargets } from "./targets.js";

/**
 * A revert runs only against the engine its fault was made on: a container id means nothing to
 * another engine, and "not found there" must not pass for "undone".
 */
function onRecordedEngine(def: RevertDef): RevertDef {
  const mismatch = async (data: unknown): Promise<string | null> => {
    const { engine, engineAt } = data as { engine?: string; engineAt?: string };
    if (!engine) return null;
    const current = await engineId();
    return current === engine
      ? null
      : `the fault was made on another Docker engine (id ${engine}${engineAt ? `, at ${engineAt}` : ""}) than the one answering at ${engineAddress()} (id ${current}); point DOCKER_HOST at the run's engine and roll back again`;
  };
  return {
    ...def,
    async run(data, ctx) {
      const wrong = await mismatch(data);
      if (wrong) throw new AdapterError(wrong);
      await def.run(data, ctx);
    },
    ...(def.verify ? { verify: async (data, ctx) => (await mismatch(data)) ?? def.verify!(data, ctx) } : {}),
  };
}

export const dockerAdapter: Adapter = {
  kind: "docker",
  description: "Containers on a Docker engine (DOCKER_HOST or the local socket), by name, labels, image or Compose service.",
  targets: dockerTargets,
  actions: [kill, stop, restart, pause, exec, networkDisconnect, netem, limit, stress],
  probes: [dockerProbe],
  reverts: [unpauseRevert, startRevert, execRevert, reconnectRevert, restoreResourcesRevert, stopBurnersRevert, removeStressHelpersRevert, removeShapingRevert].map(onRecordedEngine),
};
