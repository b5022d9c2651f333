// The `docker` adapter: containers on a Docker engine (dockerode), found by name, labels, image or
// Compose service.

import type { Adapter, RevertDef } from "../../engine/types.js";
import { AdapterError } from "../../errors.js";
import { engineAddress } from "./client.js";
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
  const mismatch = (data: unknown): string | null => {
    const recorded = (data as { engine?: string }).engine;
    return recorded && recorded !== engineAddress()
      ? `the fault was made on the Docker engine at ${recorded}, but chaoscast now talks to ${engineAddress()}; set DOCKER_HOST=${recorded} and roll back again`
      : null;
  };
  return {
    ...def,
    async run(data, ctx) {
      const wrong = mismatch(data);
      if (wrong) throw new AdapterError(wrong);
      await def.run(data, ctx);
    },
    ...(def.verify ? { verify: async (data, ctx) => mismatch(data) ?? def.verify!(data, ctx) } : {}),
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
