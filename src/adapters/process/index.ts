// The `process` adapter: local processes by pid, name or listening port.

import type { Adapter } from "../../contract/adapter.js";
import { kill, signal, suspend } from "./actions.js";
import { resumeRevert, signalRevert } from "./reverts.js";
import { processTargets } from "./targets.js";

export const processAdapter: Adapter = {
  kind: "process",
  description: "Local processes, found by pid, name or listening TCP port.",
  targets: processTargets,
  actions: [kill, suspend, signal],
  probes: [],
  reverts: [resumeRevert, signalRevert],
};
