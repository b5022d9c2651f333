// From what each player's page reported to the probe's fields: pure, so the arithmetic is tested
// without a browser.

import type { PageSnapshot } from "./harness.js";

/** One player at the end of an observation: its page's last report, or why it has none. */
export type PlayerOutcome = { snapshot: PageSnapshot } | { lost: string };

/** How many messages the `errors` field keeps. */
export const MAX_ERROR_MESSAGES = 5;

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A player counts as started when it was playing within the deadline. */
export function startedInTime(snapshot: PageSnapshot, deadlineMs: number): boolean {
  return snapshot.startupMs !== null && snapshot.startupMs <= deadlineMs;
}

/** Whether the probe is done with this player: it failed, finished, missed its deadline or was watched long enough. */
export function playerDone(snapshot: PageSnapshot, deadlineMs: number, watchMs: number): boolean {
  if (snapshot.fatal !== null || snapshot.ended) return true;
  if (snapshot.startupMs === null) return snapshot.elapsedMs > deadlineMs;
  if (snapshot.startupMs > deadlineMs) return true;
  return snapshot.elapsedMs - snapshot.startupMs >= watchMs;
}

export interface PlayerFields {
  startSuccess: number;
  started: number;
  players: number;
  startupMs?: number;
  startupMsMax?: number;
  rebuffers: number;
  rebufferMs: number;
  bitrateSwitches: number;
  meanBitrateKbps?: number;
  playedSeconds: number;
  watchedMs?: number;
  fatalErrors: number;
  nonFatalErrors: number;
  errors: string[];
}

export function summarize(outcomes: readonly PlayerOutcome[], deadlineMs: number): PlayerFields {
  const fatal: string[] = [];
  const other: string[] = [];
  const startups: number[] = [];
  const watched: number[] = [];
  let rebuffers = 0;
  let rebufferMs = 0;
  let switches = 0;
  let played = 0;
  let kbitSeconds = 0;
  let ratedSeconds = 0;
  let fatalErrors = 0;
  let nonFatalErrors = 0;
  outcomes.forEach((outcome, i) => {
    const who = `player ${i + 1}`;
    if ("lost" in outcome) {
      fatalErrors++;
      fatal.push(`${who}: ${outcome.lost}`);
      return;
    }
    const s = outcome.snapshot;
    if (s.fatal !== null) {
      fatalErrors++;
      fatal.push(`${who}: ${s.fatal}`);
    } else if (!startedInTime(s, deadlineMs)) {
      other.push(`${who}: ${s.startupMs === null ? "not playing" : `started only after ${Math.round(s.startupMs)}ms`}, deadline ${deadlineMs}ms`);
    }
    nonFatalErrors += s.errorCount;
    for (const message of s.errors) other.push(`${who}: ${message}`);
    if (startedInTime(s, deadlineMs)) {
      startups.push(s.startupMs!);
      watched.push(s.elapsedMs - s.startupMs!);
    }
    rebuffers += s.stalls;
    rebufferMs += s.stallMs;
    switches += s.switches;
    played += s.playedSeconds;
    kbitSeconds += s.kbitSeconds;
    ratedSeconds += s.ratedSeconds;
  });
  const started = startups.length;
  const players = outcomes.length;
  const startup = median(startups);
  const fields: PlayerFields = {
    startSuccess: players === 0 ? 0 : started / players,
    started,
    players,
    rebuffers,
    rebufferMs: Math.round(rebufferMs),
    bitrateSwitches: switches,
    playedSeconds: Math.round(played * 10) / 10,
    fatalErrors,
    nonFatalErrors,
    errors: [...fatal, ...other].slice(0, MAX_ERROR_MESSAGES),
  };
  if (startup !== undefined) {
    fields.startupMs = Math.round(startup);
    fields.startupMsMax = Math.round(Math.max(...startups));
    fields.watchedMs = Math.round(Math.min(...watched));
  }
  if (ratedSeconds > 0) fields.meanBitrateKbps = Math.round(kbitSeconds / ratedSeconds);
  return fields;
}

/** One line for status output, e.g. "3/3 playing, startup 812ms (median), 0 rebuffers, 1 switch, 412 kbit/s". */
export function summaryLine(f: PlayerFields): string {
  const parts = [`${f.started}/${f.players} playing`];
  if (f.startupMs !== undefined) parts.push(`startup ${f.startupMs}ms (median)`);
  parts.push(`${f.rebuffers} rebuffer${f.rebuffers === 1 ? "" : "s"}${f.rebuffers ? ` (${f.rebufferMs}ms)` : ""}`);
  parts.push(`${f.bitrateSwitches} switch${f.bitrateSwitches === 1 ? "" : "es"}`);
  if (f.meanBitrateKbps !== undefined) parts.push(`${f.meanBitrateKbps} kbit/s`);
  if (f.fatalErrors) parts.push(`${f.fatalErrors} fatal: ${f.errors[0] ?? "?"}`);
  return parts.join(", ");
}
