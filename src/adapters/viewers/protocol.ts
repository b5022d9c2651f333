// What chaoscast and its crowd process say to each other over the IPC channel, and how the crowd
// process is recognised on the machine: its program is worker.js, its argv carries a marker and
// the surge's token (the state file records the token before the process exists).

import type { Progress, Reached } from "./schedule.js";

export const SURGE_MARKER = "--chaoscast-viewers-surge";

export interface CrowdConfig {
  url: string;
  from: number;
  to: number;
  rampMs: number;
  maxRequestsPerSecond: number;
  maxDurationMs: number;
  rendition: "random" | "lowest" | "highest";
  timeoutMs: number;
  thinkTimeMs: number;
  headers: Record<string, string>;
}

export type ToCrowd = { type: "start"; config: CrowdConfig } | { type: "stop" };

export type CrowdEnd = "stopped" | "max-duration" | "parent-gone" | "signal";

export type FromCrowd =
  | { type: "ready" }
  | { type: "progress"; progress: Progress }
  | { type: "done"; why: CrowdEnd; reached: Reached }
  | { type: "failed"; message: string };
