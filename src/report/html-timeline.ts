// One run's timeline as an inline SVG: the phases, each fault's window, each steady-state probe's
// values against its threshold (breaches in red), and markers for the abort, the end of the
// rollback and the return of the steady state. Every text is escaped; nothing is loaded from anywhere.

import type { HypothesisLine, RunEvent } from "../contract/events.js";
import type { Journal } from "./journal.js";
import { escapeHtml } from "./html-escape.js";
import { formatDuration } from "../contract/duration.js";
import { runFacts } from "./run-facts.js";
import { cohortChart } from "./html-cohorts.js";

type Observation = Extract<RunEvent, { type: "observation" }>;

const WIDTH = 960;
const LEFT = 180;
const RIGHT = 24;
const PHASE_ROW = 24;
const FAULT_ROW = 20;
const PROBE_ROW = 96;
const GAP = 10;
const AXIS = 28;

const PHASE_COLOR: Record<string, string> = {
  preflight: "#e5e7eb",
  "steady-state-before": "#dbeafe",
  method: "#fef3c7",
  rollback: "#fde2e2",
  recovery: "#dcfce7",
};

export function timelineSvg(journal: Journal): string {
  const events = journal.events;
  const facts = runFacts(events);
  // A loop, not Math.max(...list): a long soak's journal has more events than a call has arguments.
  const end = events.reduce((max, e) => Math.max(max, e.t), Math.max(1, journal.durationMs));
  const x = (t: number) => LEFT + (Math.max(0, Math.min(end, t)) / end) * (WIDTH - LEFT - RIGHT);
  const parts: string[] = [];
  let y = 4;

  // Phases.
  const phases = phaseSpans(events, end);
  for (const p of phases) {
    const w = Math.max(1, x(p.to) - x(p.from));
    parts.push(`<rect class="phase" x="${x(p.from).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${PHASE_ROW - 4}" fill="${PHASE_COLOR[p.phase] ?? "#eee"}"><title>${escapeHtml(`${p.phase}: +${fmt(p.from)} → +${fmt(p.to)}${p.ok === false ? " (failed)" : ""}`)}</title></rect>`);
    if (w > 60) parts.push(`<text class="phase-label" x="${(x(p.from) + 4).toFixed(1)}" y="${y + 14}">${escapeHtml(p.phase)}</text>`);
  }
  parts.push(`<text class="row-label" x="${LEFT - 8}" y="${y + 14}" text-anchor="end">phases</text>`);
  y += PHASE_ROW + GAP;

  // Fault windows.
  const windows = faultWindows(events, end);
  const bandsTop = y;
  for (const f of windows) {
    const w = Math.max(2, x(f.to) - x(f.from));
    const colour = f.stillInjected ? "#dc2626" : "#f59e0b";
    parts.push(`<rect class="fault" x="${x(f.from).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${FAULT_ROW - 4}" rx="3" fill="${colour}"><title>${escapeHtml(`${f.label}: injected +${fmt(f.from)}, ${f.stillInjected ? "STILL INJECTED" : `reverted +${fmt(f.to)}`}`)}</title></rect>`);
    parts.push(`<text class="row-label" x="${LEFT - 8}" y="${y + 12}" text-anchor="end">${escapeHtml(clip(f.label, 24))}</text>`);
    y += FAULT_ROW;
  }
  if (windows.length === 0) {
    parts.push(`<text class="row-label" x="${LEFT - 8}" y="${y + 12}" text-anchor="end">faults</text><text class="muted" x="${LEFT + 4}" y="${y + 12}">none injected</text>`);
    y += FAULT_ROW;
  }
  y += GAP;

  // Probes: values against the threshold, over the fault windows as bands.
  const probeTop = y;
  const names = probeNames(facts.hypothesis, events);
  for (const name of names) {
    const line = facts.hypothesis.find((h) => h.name === name);
    const seen = events.filter((e): e is Observation => e.type === "observation" && e.probe === name);
    parts.push(probeChart(name, line, seen, y, x));
    y += PROBE_ROW + GAP;
  }
  const cohorts = cohortChart(events, { top: y, height: PROBE_ROW, left: LEFT, right: WIDTH - RIGHT, x });
  if (cohorts) {
    parts.push(cohorts);
    y += PROBE_ROW + GAP;
  }
  const probeBottom = y - GAP;
  if (names.length > 0 || cohorts) {
    for (const f of windows) {
      parts.unshift(`<rect class="fault-band" x="${x(f.from).toFixed(1)}" y="${probeTop}" width="${Math.max(2, x(f.to) - x(f.from)).toFixed(1)}" height="${probeBottom - probeTop}" fill="#f59e0b" fill-opacity="0.12"/>`);
    }
  }

  // Markers across every row.
  const markers: { t: number | null; label: string; colour: string; dash: string }[] = [
    { t: facts.abortT, label: "abort", colour: "#dc2626", dash: "" },
    { t: facts.abortT !== null || journal.outcome === "rollback-failed" ? facts.rolledBackT : null, label: journal.stillInjected.length ? "rollback failed" : "rolled back", colour: journal.stillInjected.length ? "#dc2626" : "#16a34a", dash: "6 3" },
    { t: facts.timeToRecoveryMs !== null && facts.rolledBackT !== null ? facts.rolledBackT + facts.timeToRecoveryMs : null, label: "steady again", colour: "#2563eb", dash: "2 3" },
  ];
  let labelRow = 0;
  for (const m of markers) {
    if (m.t === null) continue;
    const mx = x(m.t).toFixed(1);
    parts.push(`<line class="marker" x1="${mx}" x2="${mx}" y1="${bandsTop - GAP}" y2="${y}" stroke="${m.colour}" stroke-width="2"${m.dash ? ` stroke-dasharray="${m.dash}"` : ""}><title>${escapeHtml(`${m.label} at +${fmt(m.t)}`)}</title></line>`);
    // Near the right edge the label reads leftwards, so it is never cut off.
    const leftwards = Number(mx) > WIDTH - RIGHT - 140;
    parts.push(`<text class="marker-label" x="${(Number(mx) + (leftwards ? -4 : 4)).toFixed(1)}" y="${y + 12 + labelRow * 12}" fill="${m.colour}"${leftwards ? ' text-anchor="end"' : ""}>${escapeHtml(`${m.label} +${fmt(m.t)}`)}</text>`);
    labelRow += 1;
  }
  y += Math.max(labelRow * 12, 0) + 6;

  // Time axis.
  const step = tickStep(end);
  parts.push(`<line class="axis" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y}" y2="${y}" stroke="#6b7280"/>`);
  for (let t = 0; t <= end; t += step) {
    parts.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${y}" y2="${y + 4}" stroke="#6b7280"/><text class="tick" x="${x(t).toFixed(1)}" y="${y + 16}" text-anchor="middle">${escapeHtml(tickLabel(t, step))}</text>`);
  }
  y += AXIS;
  const label = `Timeline of ${journal.title}: ${journal.outcome}`;
  return `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${y}" width="${WIDTH}" height="${y}" role="img" aria-label="${escapeHtml(label)}"><title>${escapeHtml(label)}</title>${parts.join("")}</svg>`;
}

function probeChart(name: string, line: HypothesisLine | undefined, seen: Observation[], top: number, x: (t: number) => number): string {
  const parts: string[] = [];
  const bottom = top + PROBE_ROW;
  parts.push(`<rect class="probe-frame" x="${LEFT}" y="${top}" width="${WIDTH - LEFT - RIGHT}" height="${PROBE_ROW}" fill="none" stroke="#d1d5db"/>`);
  parts.push(`<text class="row-label" x="${LEFT - 8}" y="${top + 14}" text-anchor="end">${escapeHtml(clip(name, 24))}</text>`);
  if (line) parts.push(`<text class="muted" x="${LEFT - 8}" y="${top + 28}" text-anchor="end">${escapeHtml(clip(`${line.metric} ${boundText(line.bound)}`.trim(), 28))}</text>`);
  const values = seen.map((o) => o.metric).filter((v): v is number => v !== undefined);
  const bounds = line?.bound ? ("value" in line.bound ? [line.bound.value] : [line.bound.min, line.bound.max]) : [];
  let yOf: (v: number) => number;
  if (values.length > 0) {
    let lo = [...values, ...bounds].reduce((a, b) => Math.min(a, b), Infinity);
    let hi = [...values, ...bounds].reduce((a, b) => Math.max(a, b), -Infinity);
    if (lo === hi) {
      lo -= 1;
      hi += 1;
    }
    const pad = (hi - lo) * 0.1;
    // Counts, ratios and latencies are never negative: an axis below zero only wastes the row.
    lo = lo >= 0 ? Math.max(0, lo - pad) : lo - pad;
    hi += pad;
    yOf = (v: number) => bottom - 6 - ((v - lo) / (hi - lo)) * (PROBE_ROW - 12);
    parts.push(`<text class="tick" x="${LEFT + 4}" y="${top + 12}">${escapeHtml(short(hi))}</text><text class="tick" x="${LEFT + 4}" y="${bottom - 4}">${escapeHtml(short(lo))}</text>`);
    for (const b of bounds) {
      parts.push(`<line class="threshold" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${yOf(b).toFixed(1)}" y2="${yOf(b).toFixed(1)}" stroke="#dc2626" stroke-dasharray="5 4"><title>${escapeHtml(`threshold ${line ? boundText(line.bound) : ""}`)}</title></line>`);
    }
    // The line breaks where a probe gave no value (no answer): joining across the gap would draw
    // a value nobody measured.
    const segments: string[][] = [[]];
    for (const o of seen) {
      if (o.metric === undefined) segments.push([]);
      else segments.at(-1)!.push(`${x(o.t).toFixed(1)},${yOf(o.metric).toFixed(1)}`);
    }
    for (const points of segments) {
      if (points.length > 1) parts.push(`<polyline class="series" points="${points.join(" ")}" fill="none" stroke="#2563eb" stroke-width="1.5"/>`);
    }
    if (seen.some((o) => o.metric === undefined)) parts.push(`<text class="muted" x="${WIDTH - RIGHT - 4}" y="${top + 12}" text-anchor="end">top edge: no value</text>`);
  } else {
    // Nothing numeric to plot: each answer is a dot on the mid line, coloured by its verdict.
    yOf = () => top + PROBE_ROW / 2;
  }
  for (const o of seen) {
    const v = o.metric;
    // On a numeric axis an answer without a value (a timeout, a refused connection) sits on the
    // top edge, apart from every measured value, never where a low value would be.
    const cy = v === undefined ? (values.length > 0 ? top + 4 : top + PROBE_ROW / 2) : yOf(v);
    // Only a counted failure during the method is a breach; before the faults or while recovering
    // a failing answer is "down", drawn hollow.
    const state = o.inconclusive !== undefined ? "nodata" : o.ok ? "ok" : o.phase !== "method" ? "down" : o.counted ? "breach" : "grace";
    const fill = { ok: "#2563eb", breach: "#dc2626", grace: "#f59e0b", nodata: "#9ca3af", down: "#ffffff" }[state];
    const r = state === "breach" ? 4 : state === "down" ? 3.5 : 2.5;
    const stroke = state === "down" ? ' stroke="#dc2626" stroke-width="1.5"' : "";
    const tip = `${o.probe} +${fmt(o.t)} (${o.phase}): ${o.summary}${o.ok ? "" : ` — ${o.failures.join("; ")}`}${state === "grace" ? " (in grace, not counted)" : ""}${o.inconclusive ? ` — no data: ${o.inconclusive}` : ""}`;
    parts.push(`<circle class="obs ${state}" cx="${x(o.t).toFixed(1)}" cy="${cy.toFixed(1)}" r="${r}" fill="${fill}"${stroke}><title>${escapeHtml(tip)}</title></circle>`);
  }
  return parts.join("");
}

function boundText(bound: HypothesisLine["bound"]): string {
  if (!bound) return "";
  return "value" in bound ? `${bound.op} ${bound.value}` : `${bound.min}..${bound.max}`;
}

function probeNames(hypothesis: HypothesisLine[], events: readonly RunEvent[]): string[] {
  const names = hypothesis.map((h) => h.name);
  for (const e of events) if (e.type === "observation" && !names.includes(e.probe)) names.push(e.probe);
  return names;
}

interface PhaseSpan {
  phase: string;
  from: number;
  to: number;
  ok: boolean | undefined;
}

function phaseSpans(events: readonly RunEvent[], end: number): PhaseSpan[] {
  const spans: PhaseSpan[] = [];
  for (const e of events) {
    if (e.type === "phase-started") spans.push({ phase: e.phase, from: e.t, to: end, ok: undefined });
    else if (e.type === "phase-finished") {
      const open = spans.findLast((s) => s.phase === e.phase);
      if (open) {
        open.to = e.t;
        open.ok = e.ok;
      }
    }
  }
  return spans;
}

interface FaultWindow {
  label: string;
  from: number;
  to: number;
  stillInjected: boolean;
}

function faultWindows(events: readonly RunEvent[], end: number): FaultWindow[] {
  const windows: (FaultWindow & { key: string })[] = [];
  for (const e of events) {
    if (e.type === "fault-injected") {
      windows.push({ key: `${e.fault}\u0000${e.target?.id ?? ""}`, label: e.target ? `${e.fault} → ${e.target.label}` : e.fault, from: e.t, to: end, stillInjected: false });
    } else if (e.type === "fault-reverted" || e.type === "revert-failed") {
      const open = windows.find((w) => w.key === `${e.fault}\u0000${e.target?.id ?? ""}` && w.to === end);
      if (open) {
        if (e.type === "fault-reverted") open.to = e.t;
        else open.stillInjected = true;
      }
    }
  }
  return windows;
}

/** A round step (1, 2 or 5 × a power of ten ms) that puts at most 12 ticks on the axis, however long the run. */
function tickStep(end: number): number {
  const rough = Math.max(1, end / 12);
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= rough)!;
}

/** A tick's label, precise enough that neighbouring ticks never read alike (1.25s, not 1.3s). */
function tickLabel(ms: number, step: number): string {
  if (step < 1000 && ms < 1000) return `${ms}ms`;
  if (ms < 120_000) return `${Number((ms / 1000).toFixed(step % 1000 === 0 ? 0 : step % 100 === 0 ? 1 : 2))}s`;
  return fmt(ms);
}

const fmt = (ms: number) => formatDuration(Math.round(ms));

function short(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(3)).toString();
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
