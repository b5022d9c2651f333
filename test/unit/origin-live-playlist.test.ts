// The demo origin's live channel: the media playlists it publishes over time, loop after loop, read
// as a player reads them (m3u8-parser), held to RFC 8216 and to what hls.js needs to play across
// the loops' discontinuities.

import { describe, expect, it } from "vitest";
import { Parser } from "m3u8-parser";
import { LIVE_WINDOW, LiveTimeline, livePlaylist } from "../../src/demo/origin.js";

interface Parsed {
  mediaSequence: number;
  discontinuitySequence: number;
  targetDuration: number;
  endList: boolean;
  /** n: the segment's media sequence number, from its URI (seg-<n>.ts). */
  segments: { n: number; duration: number; discontinuity: boolean; timeline: number; programDateTime: number }[];
}

function parse(text: string): Parsed {
  const parser = new Parser();
  parser.push(text);
  parser.end();
  const m = parser.manifest as unknown as {
    mediaSequence: number;
    discontinuitySequence: number;
    targetDuration: number;
    endList?: boolean;
    segments: { uri: string; duration: number; discontinuity?: boolean; timeline: number; programDateTime: number }[];
  };
  return {
    mediaSequence: m.mediaSequence,
    discontinuitySequence: m.discontinuitySequence,
    targetDuration: m.targetDuration,
    endList: m.endList === true,
    segments: m.segments.map((s) => ({ n: Number(/^seg-(\d+)\.ts$/.exec(s.uri)![1]), duration: s.duration, discontinuity: s.discontinuity === true, timeline: s.timeline, programDateTime: s.programDateTime })),
  };
}

const STARTED = 1_700_000_000_000;
const LADDER = Array.from({ length: 32 }, () => 2000); // the demo's: 32 × 2 s

/** Every playlist from the start over `seconds`, every `stepMs`. */
function over(durations: readonly number[], seconds: number, stepMs = 250, window = LIVE_WINDOW) {
  const timeline = new LiveTimeline(STARTED, durations, window);
  const out: { now: number; text: string; p: Parsed }[] = [];
  for (let now = STARTED; now <= STARTED + seconds * 1000; now += stepMs) {
    const text = timeline.playlist(now);
    out.push({ now, text, p: parse(text) });
  }
  return { timeline, playlists: out };
}

describe("the live channel's media playlists", () => {
  it("start with a full window: sequence 0, no discontinuity yet, a live playlist (no ENDLIST)", () => {
    const { p, text } = { text: livePlaylist(STARTED, STARTED, LADDER), p: parse(livePlaylist(STARTED, STARTED, LADDER)) };
    expect(p).toMatchObject({ mediaSequence: 0, discontinuitySequence: 0, targetDuration: 2, endList: false });
    expect(p.segments.map((s) => s.n)).toEqual(Array.from({ length: LIVE_WINDOW }, (_, i) => i));
    expect(text).toMatch(/^#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-DISCONTINUITY-SEQUENCE:0\n/);
    expect(text).not.toContain("#EXT-X-DISCONTINUITY\n");
  });

  it("hold at least three target durations (hls.js starts three behind the live edge)", () => {
    expect(LIVE_WINDOW).toBeGreaterThanOrEqual(6);
    const p = parse(livePlaylist(STARTED, STARTED + 3_600_000, LADDER));
    expect(p.segments.reduce((sum, s) => sum + s.duration, 0)).toBeGreaterThanOrEqual(3 * p.targetDuration);
    expect(p.segments).toHaveLength(LIVE_WINDOW);
  });

  // Three loops and a half of the demo's ladder, so the window slides over several loop boundaries.
  const { timeline, playlists } = over(LADDER, 230);

  it("advance the media sequence by exactly one per segment, the URIs numbered from it", () => {
    let previous = playlists[0]!.p;
    for (const { now, p } of playlists) {
      expect(p.segments.map((s) => s.n)).toEqual(p.segments.map((_, i) => p.mediaSequence + i));
      // Sequence n is published when it is complete: 2 s after the one before.
      expect(p.mediaSequence).toBe(Math.floor((now - STARTED) / 2000));
      expect(p.mediaSequence - previous.mediaSequence).toBeLessThanOrEqual(1);
      expect(p.mediaSequence).toBeGreaterThanOrEqual(previous.mediaSequence);
      previous = p;
    }
    expect(previous.mediaSequence).toBe(115);
  });

  it("put EXT-X-DISCONTINUITY right before each loop's first segment, and nowhere else", () => {
    let tagged = 0;
    for (const { text, p } of playlists) {
      for (const s of p.segments) expect(s.discontinuity, `seg-${s.n}`).toBe(s.n > 0 && s.n % 32 === 0);
      for (const s of p.segments.filter((x) => x.discontinuity)) expect(text).toContain(`#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:${new Date(s.programDateTime).toISOString()}\n#EXTINF:2.000,\nseg-${s.n}.ts\n`);
      tagged += p.segments.filter((s) => s.discontinuity).length;
    }
    expect(tagged).toBeGreaterThan(0);
  });

  it("count in EXT-X-DISCONTINUITY-SEQUENCE the discontinuity tags that have left the window", () => {
    const left = new Set<number>(); // segments whose tag has been seen, then slid out
    const seen = new Set<number>();
    for (const { p } of playlists) {
      for (const s of p.segments.filter((x) => x.discontinuity)) seen.add(s.n);
      for (const n of seen) if (n < p.mediaSequence) left.add(n);
      expect(p.discontinuitySequence).toBe(left.size);
    }
    expect(left.size).toBe(3); // seg-32, 64 and 96 have come and gone
  });

  it("keep each segment's discontinuity sequence number for as long as it is listed (what hls.js's cc is)", () => {
    const cc = new Map<number, number>();
    for (const { p } of playlists) {
      for (const s of p.segments) {
        expect(s.timeline, `seg-${s.n}`).toBe(Math.floor(s.n / 32));
        if (cc.has(s.n)) expect(s.timeline).toBe(cc.get(s.n));
        cc.set(s.n, s.timeline);
      }
    }
  });

  it("list no segment before it exists, and each as soon as it does", () => {
    for (const { now, p } of playlists) {
      for (const s of p.segments) {
        expect(timeline.epochMs + timeline.endOf(s.n), `seg-${s.n} at ${now - STARTED} ms`).toBeLessThanOrEqual(now);
        expect(timeline.available(s.n, now)).toBe(true);
      }
      const next = p.segments.at(-1)!.n + 1;
      expect(timeline.epochMs + timeline.endOf(next)).toBeGreaterThan(now);
      expect(timeline.available(next, now)).toBe(false);
    }
  });

  it("date each segment with EXT-X-PROGRAM-DATE-TIME consistently across playlists and loops", () => {
    const dates = new Map<number, number>();
    for (const { p } of playlists) {
      for (const s of p.segments) {
        // Wall-clock time runs on across loops: segment n starts 2 s after n - 1, whatever the loop.
        expect(s.programDateTime).toBe(timeline.epochMs + s.n * 2000);
        if (dates.has(s.n)) expect(s.programDateTime).toBe(dates.get(s.n));
        dates.set(s.n, s.programDateTime);
      }
    }
    // The channel has been live for a window by the time it starts: the first segment ended then.
    expect(timeline.epochMs + timeline.endOf(LIVE_WINDOW - 1)).toBe(STARTED);
  });

  it("keep EXT-X-TARGETDURATION at or above every EXTINF rounded, and never change it", () => {
    const odd = [2000, 2400, 1500, 2000, 1000]; // 2.4 rounds to 2: the target stays 2
    const { playlists: oddOnes } = over(odd, 60, 100, 6);
    for (const { p } of oddOnes) {
      expect(p.targetDuration).toBe(2);
      for (const s of p.segments) expect(Math.round(s.duration)).toBeLessThanOrEqual(p.targetDuration);
    }
    expect(parse(livePlaylist(STARTED, STARTED, [2000, 2600, 2000])).targetDuration).toBe(3);
    for (const { p } of playlists) expect(p.targetDuration).toBe(2);
  });

  it("hold up when the window is longer than a loop: several discontinuities listed at once", () => {
    const { playlists: short } = over([2000, 2000, 2000], 40, 500, 8);
    for (const { p } of short) {
      for (const s of p.segments) {
        expect(s.discontinuity).toBe(s.n > 0 && s.n % 3 === 0);
        expect(s.timeline).toBe(Math.floor(s.n / 3));
      }
      const first = p.mediaSequence;
      expect(p.discontinuitySequence).toBe(first > 0 ? Math.floor((first - 1) / 3) : 0);
    }
  });

  it("follow uneven segment durations: a segment is published when its own end is reached", () => {
    const durations = [2000, 1000, 3000];
    const t = new LiveTimeline(0, durations, 4);
    // The first window (0..3) ends at 2 + 1 + 3 + 2 = 8 s of channel time, which is the start.
    expect(t.epochMs).toBe(-8000);
    expect(t.lastAt(0)).toBe(3);
    expect(t.lastAt(999)).toBe(3);
    expect(t.lastAt(1000)).toBe(4); // seg-4 (1 s) ends at 9 s
    expect(t.lastAt(3999)).toBe(4);
    expect(t.lastAt(4000)).toBe(5); // seg-5 (3 s) ends at 12 s
    expect(parse(t.playlist(4000)).segments.map((s) => [s.n, s.duration])).toEqual([
      [2, 3],
      [3, 2],
      [4, 1],
      [5, 3],
    ]);
  });

  it("refuse a ladder without segments", () => {
    expect(() => new LiveTimeline(0, [])).toThrow(/positive durations/);
    expect(() => new LiveTimeline(0, [2000, 0])).toThrow(/positive durations/);
  });
});
