// The `docker` adapter: containers on a Docker engine (dockerode), found by name, labels, image or
// Compose service.

import type { Adapter } from "../../engine/types.js";
import { exec, kill, limit, networkDisconnect, pause, restart, stop, stress } from "./actions.js";
import { netem, removeShapingRevert } from "./netem.js";
import { dockerProbe } from "./probes.js";
import { execRevert, reconnectRevert, restoreResourcesRevert, startRevert, stopBurnersRevert, unpauseRevert } from "./reverts.js";
import { removeStressHelpersRevert } from "./stress-helpers.js";
import { dockerTargets } from "./targets.js";

export const dockerAdapter: Adapter = {
  kind: "docker",
  description: "Containers on a Docker engine (DOCKER_HOST or the local socket), by name, labels, image or Compose service.",
  targets: dockerTargets,
  actions: [kill, stop, restart, pause, exec, networkDisconnect, netem, limit, stress],
  probes: [dockerProbe],
  reverts: [unpauseRevert, startRevert, execRevert, reconnectRevert, restoreResourcesRevert, stopBurnersRevert, removeStressHelpersRevert, removeShapingRevert],
};
