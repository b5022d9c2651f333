// A synthetic viewer that plays an HLS stream as hls.js 1.x with its default configuration does,
// without a browser: the same retries and backoff, the same level switching on errors, the same
// bandwidth estimate and ABR (abandon rules included), the same buffer target and live start, and
// a playhead that moves in real time, so a missing or slow segment shows up as a stall once the
// buffer is empty. Cheap enough for hundreds of sessions per core: timers and sockets only.
//
// The parts: hls-viewer-config.ts (the defaults), -loader (HTTP), -playlists (parsing, timeline),
// -bandwidth (the estimate), -abr (level choice), -errors (what a failure leads to),
// -level-loader (media playlists), -stream (fragments), -playback (the playhead), -cmcd, and
// -session (one session, wired together), -types (the options and outcome).

import type { PlaySessionOptions, SessionOutcome } from "./hls-viewer-types.js";
import { runSession } from "./hls-viewer-session.js";

export type { PlaySessionOptions, SessionOutcome } from "./hls-viewer-types.js";

export function playSession(options: PlaySessionOptions): Promise<SessionOutcome> {
  return runSession(options);
}
