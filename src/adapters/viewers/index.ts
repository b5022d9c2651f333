// The `viewers` adapter: a flash crowd of synthetic viewers (viewers.surge) against a stream or
// any HTTP URL, for the autoscaling and the CDN to absorb while the steady-state probes watch.

import type { Adapter } from "../../contract/adapter.js";
import { surge } from "./actions.js";
import { stopSurgeRevert } from "./reverts.js";
import { viewersTargets } from "./targets.js";

export const viewersAdapter: Adapter = {
  kind: "viewers",
  description: "A flash crowd: synthetic HLS viewers (or plain GETs) ramped up against a URL, in a child process, bounded in count, rate and time.",
  targets: viewersTargets,
  actions: [surge],
  probes: [],
  reverts: [stopSurgeRevert],
};
