// What one synthetic viewer's session is asked to do, and what it reports: the public shape of
// hls-viewer.ts, kept apart so the session that implements it need not import its own front door.

import type http from "node:http";

export interface PlaySessionOptions {
  /** Master or media playlist URL (HLS). */
  url: string;
  /** A start counts as a success if playing within this; a viewer not playing by then gives up (the session ends). */
  deadlineMs: number;
  /** Watch this long once playing, stalls included (a VOD that ends sooner ends the watch). */
  watchMs: number;
  /** Stop at once (resolve with what was seen). */
  signal?: AbortSignal;
  agent?: http.Agent;
  headers?: Record<string, string>;
  /** Send CMCD version 1 in the query of every request. */
  cmcd?: { sid: string; cid: string };
  /** When playing begins. */
  onStart?: (outcome: { startupMs: number; ttfbMs: number }) => void;
}

export interface SessionOutcome {
  /** Playing within deadlineMs. */
  started: boolean;
  /** Time from session start to playing (the first frame: the first fragment buffered), null if never. */
  startupMs: number | null;
  /** Time to first byte (response headers) of the request for the first media segment played. */
  ttfbMs: number | null;
  /** Stalls after the start. */
  rebuffers: number;
  rebufferMs: number;
  /** Level changes at the playhead after the first. */
  switches: number;
  /** Declared BANDWIDTH of the first level played, kbit/s. */
  startKbps: number | null;
  /** Of the last level played. */
  endKbps: number | null;
  /** Time-weighted over media played. */
  meanKbps: number | null;
  /** Media time played. */
  playedMs: number;
  /** Failed segment requests (retries included). */
  segmentErrors: number;
  /** Fatal error, like hls.js's fatal ERROR event ("networkError: fragLoadError (HTTP 404) <url>"). */
  fatal: string | null;
}
