// Playlists as the player model needs them: the master's levels, and each media playlist as
// fragments placed on one media timeline (seconds), shared by every level and kept across live
// reloads by lining fragments up by media sequence number, as hls.js does when a playlist slides.
// Parsing is the HLS adapter's (src/adapters/hls/manifest.ts); only the two tags it does not
// return (the media sequence and the target duration) are read here.

import { readHls, readMediaPlaylist } from "../adapters/hls/manifest.js";

export interface Level {
  /** Position in `levels`, lowest bitrate first (hls.js sorts them so too). */
  index: number;
  /** Declared BANDWIDTH, bit/s (0 when playing a media playlist without a master). */
  bitrateBps: number;
  playlistUrl: string;
  details: LevelDetails | undefined;
  /** hls.js's error counts: a level with a load error is out of ABR's choices until one of its fragments is buffered. */
  loadError: number;
  fragmentError: number;
}

export interface Fragment {
  /** Media sequence number. */
  sn: number;
  url: string;
  /** Position on the media timeline, seconds. */
  start: number;
  duration: number;
  level: number;
}

export interface LevelDetails {
  live: boolean;
  targetDuration: number;
  fragments: Fragment[];
  startSN: number;
  endSN: number;
  /** performance.now() when this playlist was received (its age, for the live edge estimate, counts from here). */
  loadedAt: number;
  /** The live playlist moved on since the previous load of this level (or this is the first). */
  updated: boolean;
}

export const fragmentStart = (d: LevelDetails): number => d.fragments[0]?.start ?? 0;
export const edgeOf = (d: LevelDetails): number => {
  const last = d.fragments.at(-1);
  return last ? last.start + last.duration : 0;
};
export const totalDuration = (d: LevelDetails): number => edgeOf(d) - fragmentStart(d);
export const averageTargetDuration = (d: LevelDetails): number => (d.fragments.length ? totalDuration(d) / d.fragments.length : d.targetDuration);

/** The master playlist's levels, and the BANDWIDTH of the one listed first (it can raise ABR's first estimate). */
export async function readLevels(text: string, url: string): Promise<{ levels: Level[]; firstListedBps: number }> {
  const presentation = await readHls(text, url);
  const levels = presentation.renditions.map((r, index) => ({ index, bitrateBps: r.bandwidth, playlistUrl: r.playlistUri ?? url, details: undefined, loadError: 0, fragmentError: 0 }));
  const firstListed = /#EXT-X-STREAM-INF:[^\n]*?BANDWIDTH=(\d+)/.exec(text);
  return { levels, firstListedBps: firstListed ? Number(firstListed[1]) : (levels[0]?.bitrateBps ?? 0) };
}

/**
 * A media playlist on the session's media timeline. `reference` is the last playlist loaded (of
 * this level or another): a fragment it also lists keeps its position, so reloads and switches
 * line up; without one in common, the positions follow from the sequence numbers.
 */
export async function readLevelDetails(text: string, url: string, level: number, reference: LevelDetails | undefined, now: number): Promise<LevelDetails> {
  const media = await readMediaPlaylist(text, url);
  const firstSN = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
  const targetDuration = Number(/#EXT-X-TARGETDURATION:(\d+(?:\.\d+)?)/.exec(text)?.[1] ?? 0) || Math.max(...media.segments.map((s) => s.durationS));
  let start = media.live && reference ? startOf(firstSN, reference) : 0;
  const fragments = media.segments.map((s, i) => {
    const fragment = { sn: firstSN + i, url: s.uri, start, duration: s.durationS, level };
    start += s.durationS;
    return fragment;
  });
  const endSN = firstSN + fragments.length - 1;
  return { live: media.live, targetDuration, fragments, startSN: firstSN, endSN, loadedAt: now, updated: true };
}

/** Where fragment `sn` starts, judged from another playlist. */
function startOf(sn: number, reference: LevelDetails): number {
  const known = reference.fragments.find((f) => f.sn === sn);
  if (known) return known.start;
  const first = reference.fragments[0];
  if (!first) return 0;
  // Not listed there: count whole target durations from the reference's nearest end.
  const last = reference.fragments.at(-1)!;
  return sn > last.sn ? last.start + last.duration + (sn - last.sn - 1) * reference.targetDuration : first.start - (first.sn - sn) * reference.targetDuration;
}

/** A reload of the same level: whether the live playlist moved on (a VOD one always counts as updated). */
export function markReload(next: LevelDetails, previous: LevelDetails | undefined): LevelDetails {
  if (!previous || !next.live) return next;
  return { ...next, updated: next.endSN !== previous.endSN };
}

/** The fragment covering `position`, or undefined past the end or before the start. */
export function fragmentAt(details: LevelDetails, position: number, tolerance = 1e-3): Fragment | undefined {
  return details.fragments.find((f) => position >= f.start - tolerance && position < f.start + f.duration - tolerance);
}
