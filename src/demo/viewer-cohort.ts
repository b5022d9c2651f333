// Which cohort a demo viewer's starts count in, from the header the CDN tags its answers with
// (the fault proxy's cohort tags): what a player's analytics would report the session under.

import type http from "node:http";

/** The cohort header the CDN answers with; anything but the two cohorts' names counts as none. */
const COHORT_HEADER = "x-chaoscast-cohort";
export type CohortLabel = "experiment" | "control" | "none";

/**
 * The viewer's cohort as the CDN names it. A start is counted in the first cohort named while it
 * was under way, as a player's analytics tag a session: a start that met the experiment cohort's
 * fault and failed after the tags were removed is still the experiment's failure.
 */
export class ViewerCohort {
  /** What the last response said. */
  private latest: CohortLabel = "none";
  private ofStart: CohortLabel | undefined;
  read(headers: http.IncomingHttpHeaders): void {
    const named = headers[COHORT_HEADER];
    this.latest = named === "experiment" || named === "control" ? named : "none";
    if (this.latest !== "none") this.ofStart ??= this.latest;
  }
  /** A new start begins: it carries the cohort named last until a response names one. */
  beginStart(): void {
    this.ofStart = undefined;
  }
  /** The cohort the start under way (or just ended) counts in. */
  get start(): CohortLabel {
    return this.ofStart ?? this.latest;
  }
}
