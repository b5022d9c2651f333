// The hls.js rules the synthetic viewer follows, as plain functions: retry delays, what a failed
// segment or playlist leads to, how far ahead it buffers, the bandwidth estimate and when a live
// playlist is reloaded. The sessions that use them are tested in hls-viewer.test.ts.

import { describe, expect, it } from "vitest";
import { BandwidthEstimator } from "../../src/demo/hls-viewer-bandwidth.js";
import { HLS_JS_DEFAULTS, maxBufferSeconds, retriableStatus, retryDelayMs } from "../../src/demo/hls-viewer-config.js";
import { fragmentErrorAction, playlistErrorAction } from "../../src/demo/hls-viewer-errors.js";
import { reloadIntervalMs } from "../../src/demo/hls-viewer-level-loader.js";
import type { Level, LevelDetails } from "../../src/demo/hls-viewer-playlists.js";

const levels = (n: number): Level[] => Array.from({ length: n }, (_, index) => ({ index, bitrateBps: (index + 1) * 200_000, playlistUrl: `http://127.0.0.1/${index}.m3u8`, details: undefined, loadError: 0, fragmentError: 0 }));
const vod = { isLive: false, isLastFragment: false };
const frag = HLS_JS_DEFAULTS.fragLoadPolicy;

describe("retry delays", () => {
  it("double from 1 s and stop growing at 8 s for segment errors", () => {
    expect([0, 1, 2, 3, 4, 5].map((n) => retryDelayMs(frag.errorRetry, n))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it("are nothing for segment timeouts", () => {
    expect([0, 1, 2, 3].map((n) => retryDelayMs(frag.timeoutRetry, n))).toEqual([0, 0, 0, 0]);
  });

  it("are only worth it for answers outside 4xx, and never for a failed connection (status 0)", () => {
    expect([503, 500, 404, 410, 0].map(retriableStatus)).toEqual([true, true, false, false, false]);
  });
});

describe("a failed segment", () => {
  it("is asked for again after a 503 while fewer than six errors are on record across levels, then another level is tried", () => {
    const ladder = levels(3);
    const actions = Array.from({ length: 7 }, () => fragmentErrorAction(ladder, 2, 2, { status: 503, timedOut: false }, frag, vod));
    expect(actions.slice(0, 6)).toEqual([1000, 2000, 4000, 8000, 8000, 8000].map((delayMs) => ({ kind: "retry", delayMs })));
    expect(actions[6]).toEqual({ kind: "switch", level: 1 });
    expect(ladder[2]).toMatchObject({ fragmentError: 7, loadError: 1 });
  });

  it("moves to another level after a 404 at once: the nearest below first, then from the top down", () => {
    const ladder = levels(4);
    expect(fragmentErrorAction(ladder, 2, 2, { status: 404, timedOut: false }, frag, vod)).toEqual({ kind: "switch", level: 1 });
    expect(fragmentErrorAction(ladder, 1, 1, { status: 404, timedOut: false }, frag, vod)).toEqual({ kind: "switch", level: 0 });
    expect(fragmentErrorAction(ladder, 0, 0, { status: 404, timedOut: false }, frag, vod)).toEqual({ kind: "switch", level: 3 });
  });

  it("with no level left, is retried on a VOD and fatal once the count is used up", () => {
    const ladder = levels(1);
    const actions = Array.from({ length: 7 }, () => fragmentErrorAction(ladder, 0, 0, { status: 404, timedOut: false }, frag, vod).kind);
    expect(actions).toEqual(["retry", "retry", "retry", "retry", "retry", "retry", "fatal"]);
  });

  it("with no level left, is skipped on a live stream unless it is the last one listed", () => {
    expect(fragmentErrorAction(levels(1), 0, 0, { status: 404, timedOut: false }, frag, { isLive: true, isLastFragment: false })).toEqual({ kind: "gap" });
    expect(fragmentErrorAction(levels(1), 0, 0, { status: 404, timedOut: false }, frag, { isLive: true, isLastFragment: true })).toMatchObject({ kind: "retry" });
  });

  it("that timed out is asked for again at once, four times", () => {
    const ladder = levels(1);
    const actions = Array.from({ length: 5 }, () => fragmentErrorAction(ladder, 0, 0, { status: 0, timedOut: true }, frag, vod));
    expect(actions).toEqual([...Array.from({ length: 4 }, () => ({ kind: "retry", delayMs: 0 })), { kind: "fatal" }]);
  });
});

describe("a failed media playlist", () => {
  const policy = HLS_JS_DEFAULTS.playlistLoadPolicy;
  it("is asked for again twice after a 503 (1 s, 2 s), then another level is tried", () => {
    const ladder = levels(2);
    const actions = [0, 1, 2].map((n) => playlistErrorAction(ladder, 1, 1, { status: 503, timedOut: false }, policy, n));
    expect(actions).toEqual([
      { kind: "retry", delayMs: 1000 },
      { kind: "retry", delayMs: 2000 },
      { kind: "switch", level: 0 },
    ]);
  });

  it("is fatal after a 404 when no other level is left and its retries are used up", () => {
    const ladder = levels(1);
    expect([0, 1, 2].map((n) => playlistErrorAction(ladder, 0, 0, { status: 404, timedOut: false }, policy, n).kind)).toEqual(["retry", "retry", "fatal"]);
  });
});

describe("the buffer target", () => {
  it("is the whole 600 s cap at the demo's bitrates (60 MB hold that much), and 30 s at high ones", () => {
    expect(maxBufferSeconds(HLS_JS_DEFAULTS, 776_816)).toBe(600);
    expect(maxBufferSeconds(HLS_JS_DEFAULTS, 20_000_000)).toBe(30);
    expect(maxBufferSeconds(HLS_JS_DEFAULTS, 0)).toBe(30);
  });
});

describe("the bandwidth estimate", () => {
  const estimator = () => new BandwidthEstimator(500_000, 3, 9, 100);

  it("is the default until something is measured", () => {
    expect(estimator().estimateBps).toBe(500_000);
    expect(estimator().ttfbEstimateMs).toBe(100);
  });

  it("is the throughput of what was measured, and falls fast after a slow download", () => {
    const e = estimator();
    e.sampleThroughput(100, 1_000_000); // 80 Mbit/s
    expect(e.estimateBps).toBeCloseTo(80_000_000, -3);
    e.sampleThroughput(4000, 250_000); // 0.5 Mbit/s over 4 s
    expect(e.estimateBps).toBeLessThan(20_000_000);
  });

  it("learns the time to first byte from its first sample", () => {
    const e = estimator();
    e.sampleTtfb(1500);
    expect(e.ttfbEstimateMs).toBeCloseTo(1500, 6);
  });
});

describe("the live playlist reload interval", () => {
  const details = (updated: boolean, durations: number[]): LevelDetails => ({
    live: true,
    targetDuration: 2,
    fragments: durations.map((duration, i) => ({ sn: i, url: `s${i}.ts`, start: 2 * i, duration, level: 0 })),
    startSN: 0,
    endSN: durations.length - 1,
    loadedAt: 0,
    updated,
  });

  it("is a target duration after a playlist that moved on, and half of one after one that did not", () => {
    expect(reloadIntervalMs(details(true, [2, 2, 2]), 6000)).toBe(2000);
    expect(reloadIntervalMs(details(false, [2, 2, 2]), 6000)).toBe(1000);
  });

  it("is the last segment's duration when shorter, near the live edge", () => {
    expect(reloadIntervalMs(details(true, [2, 2, 1.5]), 6000)).toBe(1500);
    expect(reloadIntervalMs(details(true, [2, 2, 1.5]), 60_000)).toBe(2000);
  });
});
