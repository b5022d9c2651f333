// The cohort verdict's row of a timeline: the experiment and the control cohort's start success
// since the faults began, side by side at each look, with each look's p-value in its tooltip.

import type { RunEvent } from "../contract/events.js";
import { formatP } from "../contract/p-value.js";
import { formatDuration } from "../contract/duration.js";
import { escapeHtml } from "./html-escape.js";

type Look = Extract<RunEvent, { type: "cohort" }>;

export const COHORT_COLOURS = { experiment: "#c2410c", control: "#2563eb" } as const;

/** The chart, `height` tall from `top`, between `left` and `right` on the x axis `x`; empty without looks. */
export function cohortChart(events: readonly RunEvent[], area: { top: number; height: number; left: number; right: number; x: (t: number) => number }): string {
  const looks = events.filter((e): e is Look => e.type === "cohort");
  if (looks.length === 0) return "";
  const { top, height, left, right, x } = area;
  const bottom = top + height;
  const yOf = (ratio: number) => bottom - 6 - ratio * (height - 12);
  const parts: string[] = [];
  parts.push(`<rect class="probe-frame" x="${left}" y="${top}" width="${right - left}" height="${height}" fill="none" stroke="#d1d5db"/>`);
  parts.push(`<text class="row-label" x="${left - 8}" y="${top + 14}" text-anchor="end">cohorts: start success</text>`);
  parts.push(`<text class="muted" x="${left - 8}" y="${top + 28}" text-anchor="end" style="fill:${COHORT_COLOURS.experiment}">experiment (dashed)</text>`);
  parts.push(`<text class="muted" x="${left - 8}" y="${top + 42}" text-anchor="end" style="fill:${COHORT_COLOURS.control}">control</text>`);
  parts.push(`<text class="tick" x="${left + 4}" y="${top + 12}">1</text><text class="tick" x="${left + 4}" y="${bottom - 4}">0</text>`);
  for (const cohort of ["control", "experiment"] as const) {
    const points = looks.filter((l) => l[cohort].starts > 0).map((l) => ({ l, ratio: l[cohort].good / l[cohort].starts }));
    const colour = COHORT_COLOURS[cohort];
    // Experiment dashed over control solid: where the cohorts agree, both stay visible.
    const dash = cohort === "experiment" ? ' stroke-dasharray="5 4"' : "";
    if (points.length > 1) parts.push(`<polyline class="series cohort-${cohort}" points="${points.map((p) => `${x(p.l.t).toFixed(1)},${yOf(p.ratio).toFixed(1)}`).join(" ")}" fill="none" stroke="${colour}" stroke-width="${cohort === "control" ? 3 : 1.5}"${dash}/>`);
    for (const { l, ratio } of points) {
      const p = l.pValue === null ? "collecting starts" : `p ${formatP(l.pValue)} (abort below ${formatP(l.threshold)})`;
      const tip = `${cohort} +${formatDuration(Math.round(l.t))}: ${l[cohort].good}/${l[cohort].starts} good (experiment ${l.experiment.good}/${l.experiment.starts}, control ${l.control.good}/${l.control.starts}; ${p})`;
      const r = l.state === "diverged" ? 4 : 2.5;
      parts.push(`<circle class="obs cohort ${l.state}" cx="${x(l.t).toFixed(1)}" cy="${yOf(ratio).toFixed(1)}" r="${r}" fill="${colour}"><title>${escapeHtml(tip)}</title></circle>`);
    }
  }
  return parts.join("");
}
