// The `proxy` adapter: faults on links of a running fault proxy (chaoscast proxy or Toxiproxy).

import type { Adapter } from "../../contract/adapter.js";
import {
  bandwidth,
  down,
  httpBandwidth,
  httpError,
  httpLatency,
  latency,
  limitData,
  resetPeer,
  segmentDrop,
  slicer,
  stalePlaylist,
  tagCohorts,
  timeout,
  truncateBody,
} from "./actions.js";
import { enableRevert, removeToxicRevert } from "./reverts.js";
import { proxyTargets } from "./targets.js";
import { cmcdProbe } from "./cmcd-probe.js";
import { trafficProbe } from "./traffic-probe.js";

export const proxyAdapter: Adapter = {
  kind: "proxy",
  description: "Links on a fault proxy (chaoscast proxy, or Toxiproxy).",
  targets: proxyTargets,
  actions: [latency, bandwidth, down, timeout, resetPeer, slicer, limitData, httpError, httpLatency, httpBandwidth, segmentDrop, truncateBody, stalePlaylist, tagCohorts],
  probes: [cmcdProbe, trafficProbe],
  reverts: [removeToxicRevert, enableRevert],
};
