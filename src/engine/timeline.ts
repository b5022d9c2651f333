// The method's schedule: when each fault is injected and, if it has its own duration, when it is
// reverted early. Pure, so the order and timing can be tested without running anything.

import type { FaultSpec } from "../contract/compiled-experiment.js";

export type TimelineStep = { atMs: number; kind: "inject" | "end"; fault: number };

export function buildTimeline(faults: readonly FaultSpec[], methodMs: number): TimelineStep[] {
  const steps: TimelineStep[] = [];
  faults.forEach((fault, index) => {
    steps.push({ atMs: fault.atMs, kind: "inject", fault: index });
    if (fault.durationMs !== undefined && fault.atMs + fault.durationMs < methodMs) {
      steps.push({ atMs: fault.atMs + fault.durationMs, kind: "end", fault: index });
    }
  });
  // Stable: at the same instant, ends before injections (free the target first), then file order.
  return steps.sort((a, b) => a.atMs - b.atMs || (a.kind === b.kind ? a.fault - b.fault : a.kind === "end" ? -1 : 1));
}
