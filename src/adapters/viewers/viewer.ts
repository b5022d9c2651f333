// One synthetic viewer, a lightweight HLS client: master playlist, one rendition, its media
// playlist, then segments in real time by their EXTINF durations (a forward buffer as a player
// keeps one). Live playlists are reloaded every segment duration; a VOD that ends is watched
// again from a new session. Redirects are followed. Any failure: a short random back-off, then a new session. A URL that
// is not a playlist is fetched again and again with a think time.

import { sleep } from "../../util/abortable.js";
import { readHls, readMediaPlaylist, type Rendition, type Segment } from "../hls/manifest.js";
import type { GetResult } from "./http-get.js";

/** The forward buffer a player fills before it fetches in real time (hls.js's default maxBufferLength). */
export const BUFFER_AHEAD_S = 30;
/** A live player starts this many segments behind the live edge (hls.js's liveSyncDurationCount). */
const LIVE_EDGE_SEGMENTS = 3;
/** A live playlist is never reloaded sooner than this, whatever its durations say. */
const MIN_RELOAD_S = 1;

export interface ViewerEnv {
  /** GET through the crowd's token bucket and counters; throws on a network error or timeout. */
  get(url: string, keepText: boolean, signal: AbortSignal): Promise<GetResult>;
  rendition: "random" | "lowest" | "highest";
  thinkTimeMs: number;
  random: () => number;
  now: () => number;
  /** The viewer's state changed: playing (true) or starting or backing off (false). */
  setPlaying(playing: boolean): void;
  /** A request failed (an HTTP error status or a network error); counted once. */
  failed(): void;
}

class RequestFailed extends Error {}

/** Redirects followed per request, as a player's HTTP stack does (a CDN may send a viewer to a regional edge). */
const MAX_REDIRECTS = 5;

/** GET, following redirects; `url` in the answer is where the body came from (relative URIs resolve against it). */
async function fetchOk(env: ViewerEnv, url: string, keepText: boolean, signal: AbortSignal): Promise<GetResult & { url: string }> {
  for (let hops = 0; ; hops++) {
    const result = await env.get(url, keepText, signal);
    if (result.status >= 300 && result.status < 400 && result.location && hops < MAX_REDIRECTS) {
      url = new URL(result.location, url).href;
      continue;
    }
    if (result.status >= 300) throw new RequestFailed(`${url} answered ${result.status}`);
    return { ...result, url };
  }
}

export function chooseRendition(renditions: readonly Rendition[], how: ViewerEnv["rendition"], random: () => number): Rendition {
  // readHls sorts renditions by bandwidth, lowest first.
  if (how === "lowest") return renditions[0]!;
  if (how === "highest") return renditions[renditions.length - 1]!;
  return renditions[Math.floor(random() * renditions.length)]!;
}

/** Run sessions until `signal` aborts. */
export async function watch(url: string, env: ViewerEnv, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      await session(url, env, signal);
    } catch {
      if (signal.aborted) return;
      env.failed();
    }
    env.setPlaying(false);
    // Back off briefly, jittered, so a failing origin is not hit by every viewer in step.
    await sleep(1_000 + env.random() * 1_000, signal);
  }
}

async function session(url: string, env: ViewerEnv, signal: AbortSignal): Promise<void> {
  const first = await fetchOk(env, url, true, signal);
  if (!first.text.trimStart().startsWith("#EXTM3U")) return plainGets(url, env, signal);
  const presentation = await readHls(first.text, first.url);
  const rendition = chooseRendition(presentation.renditions, env.rendition, env.random);
  let media = rendition.segments ? { segments: rendition.segments, initUri: rendition.initUri, live: presentation.live, targetDurationS: undefined } : await loadMedia(env, rendition.playlistUri!, signal);
  const playlistUrl = rendition.playlistUri ?? first.url;
  if (media.initUri) await fetchOk(env, media.initUri, false, signal);

  const player = new Playhead(env.now);
  if (!media.live) {
    for (const segment of media.segments) await fetchSegment(env, player, segment, signal);
    // The end of a VOD: watch what is buffered, then leave; the loop starts a new session.
    await sleep(player.bufferedAheadS() * 1000, signal);
    return;
  }
  let last: string | undefined;
  let next: Segment[] = media.segments.slice(-LIVE_EDGE_SEGMENTS);
  for (;;) {
    for (const segment of next) {
      await fetchSegment(env, player, segment, signal);
      last = segment.uri;
    }
    if (signal.aborted) return;
    // Reload after a target duration (the last segment's, when the playlist gives none), as a live
    // player does, and never in a tight loop on a playlist that claims segments of no length.
    await sleep(Math.max(MIN_RELOAD_S, media.targetDurationS ?? media.segments.at(-1)?.durationS ?? 2) * 1000, signal);
    if (signal.aborted) return;
    media = await loadMedia(env, playlistUrl, signal);
    // Go on after the last segment fetched; never back to older ones the viewer joined after. One
    // that has left the window puts the viewer back near the live edge, as a player that fell behind.
    const at = last === undefined ? -1 : media.segments.findLastIndex((s) => s.uri === last);
    next = at >= 0 ? media.segments.slice(at + 1) : media.segments.slice(-LIVE_EDGE_SEGMENTS);
  }
}

async function loadMedia(env: ViewerEnv, url: string, signal: AbortSignal) {
  const answer = await fetchOk(env, url, true, signal);
  return readMediaPlaylist(answer.text, answer.url);
}

async function fetchSegment(env: ViewerEnv, player: Playhead, segment: Segment, signal: AbortSignal): Promise<void> {
  // Fetch the next segment only once the buffer has room for it: real time after the first fill.
  const wait = (player.bufferedAheadS() + segment.durationS - BUFFER_AHEAD_S) * 1000;
  if (wait > 0) await sleep(wait, signal);
  if (signal.aborted) return;
  await fetchOk(env, segment.uri, false, signal);
  player.append(segment.durationS);
  env.setPlaying(true);
}

async function plainGets(url: string, env: ViewerEnv, signal: AbortSignal): Promise<void> {
  env.setPlaying(true);
  while (!signal.aborted) {
    await sleep(env.thinkTimeMs, signal);
    if (signal.aborted) return;
    await fetchOk(env, url, false, signal);
  }
}

/** The playhead: moves with the clock from the first segment on, and stalls at the end of the buffer. */
export class Playhead {
  private bufferedS = 0;
  private playedS = 0;
  private lastMs: number | undefined;

  constructor(private readonly now: () => number) {}

  private advance(): void {
    const now = this.now();
    if (this.lastMs !== undefined) this.playedS = Math.min(this.bufferedS, this.playedS + (now - this.lastMs) / 1000);
    this.lastMs = now;
  }

  append(durationS: number): void {
    this.advance();
    this.bufferedS += durationS;
  }

  bufferedAheadS(): number {
    this.advance();
    return this.bufferedS - this.playedS;
  }
}
