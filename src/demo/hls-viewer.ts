// A synthetic viewer that plays an HLS stream as hls.js 1.x with its default configuration does,
// without a browser: the same retries and backoff, the same level switching on errors, the same
// bandwidth estimate and ABR (abandon rules included), the same buffer target and live start, and
// a playhead that moves in real time, so a missing or slow segment shows up as a stall once the
// buffer is empty. Cheap enough for hundreds of sessions per core: timers and sockets only.
//
// The parts: hls-viewer-config.ts (the defaults), -loader (HTTP), -playlists (parsing, timeline),
// -bandwidth (the estimate), -abr (level choice), -errors (what a failure leads to),
// -level-loader (media playlists), -stream (fragments), -playback (the playhead), -cmcd, and
// -session (one session, wired together).

import type http from "node:http";
import { runSession } from "./hls-viewer-session.js";

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

export function playSession(options: PlaySessionOptions): Promise<SessionOutcome> {
  return runSession(options);
}
