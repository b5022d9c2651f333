// A template for a new adapter (not registered: copy this folder, see README.md). It is compiled,
// linted and tested like the real adapters, so it cannot drift from the contract.

import type { Adapter } from "../../contract/adapter.js";
import { flipAction } from "./actions.js";
import type { Connect } from "./client.js";
import { switchProbe } from "./probes.js";
import { restoreRevert } from "./reverts.js";
import { templateTargets } from "./targets.js";

export function createTemplateAdapter(connect: Connect): Adapter {
  const restore = restoreRevert(connect);
  return {
    kind: "template",
    description: "A template: named switches on a backend.",
    targets: templateTargets(connect),
    actions: [flipAction(connect, restore)],
    probes: [switchProbe(connect)],
    reverts: [restore],
  };
}
