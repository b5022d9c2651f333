// Runs of the same experiment over time (`chaoscast report` given several journals): outcome, abort
// latency, time to recovery and score per run, and a one-line verdict of where the latest run
// stands against the earlier ones.

import type { Outcome } from "../contract/events.js";
import type { Journal } from "./journal.js";
import { humanMs, runFacts } from "./run-facts.js";
import { scoreRun } from "./score.js";

export interface TrendPoint {
  runId: string;
  startedAt: string;
  outcome: Outcome;
  abortLatencyMs: number | null;
  timeToRecoveryMs: number | null;
  score: number | null;
}

export interface Trend {
  file: string;
  title: string;
  points: TrendPoint[];
  verdict: string;
}

/** One trend per experiment (same file and title), oldest run first; experiments run once are left out. */
export function trendsOf(journals: readonly Journal[]): Trend[] {
  const groups = new Map<string, Journal[]>();
  for (const j of journals) {
    const key = `${j.file}\u0000${j.title}`;
    groups.set(key, [...(groups.get(key) ?? []), j]);
  }
  const trends: Trend[] = [];
  for (const runs of groups.values()) {
    if (runs.length < 2) continue;
    const points = [...runs].sort((a, b) => a.startedAt.localeCompare(b.startedAt)).map(pointOf);
    trends.push({ file: runs[0]!.file, title: runs[0]!.title, points, verdict: verdictOf(points) });
  }
  return trends;
}

function pointOf(j: Journal): TrendPoint {
  const facts = runFacts(j.events);
  return { runId: j.runId, startedAt: j.startedAt, outcome: j.outcome, abortLatencyMs: facts.abortLatencyMs, timeToRecoveryMs: facts.timeToRecoveryMs, score: scoreRun(j).score };
}

function verdictOf(points: TrendPoint[]): string {
  const latest = points.at(-1)!;
  const before = points.slice(0, -1);
  const counts = new Map<Outcome, number>();
  for (const p of points) counts.set(p.outcome, (counts.get(p.outcome) ?? 0) + 1);
  const parts = [`${points.length} runs: ${[...counts].map(([o, n]) => `${n} ${o}`).join(", ")}; latest ${latest.outcome}`];
  // `slack`: a difference this small is noise, not a trend (a few ms of recovery, a point of score).
  const compare = (label: string, pick: (p: TrendPoint) => number | null, show: (v: number) => string, lowerIsBetter: boolean, slack: number) => {
    const now = pick(latest);
    const earlier = before.map(pick).filter((v): v is number => v !== null);
    if (now === null || earlier.length === 0) return;
    const typical = median(earlier);
    const better = lowerIsBetter ? now < typical : now > typical;
    const same = Math.abs(now - typical) <= Math.max(Math.abs(typical) * 0.1, slack);
    parts.push(`${label} ${show(now)} against a median of ${show(typical)} before (${same ? "about the same" : better ? "better" : "worse"})`);
  };
  compare("abort latency", (p) => p.abortLatencyMs, humanMs, true, 100);
  compare("time to recovery", (p) => p.timeToRecoveryMs, humanMs, true, 500);
  compare("score", (p) => p.score, (v) => String(Math.round(v)), false, 2);
  return `${parts.join("; ")}.`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
