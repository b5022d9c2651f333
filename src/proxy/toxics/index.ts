// Every toxic type the proxy knows. Adding one = one definition and one line here.

import { cohortTag, hlsStalePlaylist, httpBandwidth, httpError, httpLatency, segmentDrop, truncateBody } from "./http.js";
import { bandwidth, latency, limitData, resetPeer, slicer, slowClose, timeout } from "./tcp.js";
import type { ToxicType } from "./types.js";

export const toxicTypes: readonly ToxicType[] = [
  latency,
  bandwidth,
  slowClose,
  timeout,
  resetPeer,
  slicer,
  limitData,
  httpError,
  httpLatency,
  httpBandwidth,
  segmentDrop,
  truncateBody,
  hlsStalePlaylist,
  cohortTag,
];

export function findToxicType(type: string): ToxicType | undefined {
  return toxicTypes.find((t) => t.type === type);
}
