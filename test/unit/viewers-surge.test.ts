// The arithmetic of viewers.surge, without processes or servers: its parameters' hard bounds, the
// ramp, the token bucket shared by the viewers, the playhead that paces segments, and the journal
// line saying what a surge reached and what held it back.

import { describe, expect, it } from "vitest";
import { SurgeParams } from "../../src/adapters/viewers/params.js";
import { describeReached, fold, heldBackBy, NOTHING_REACHED, rampTarget, TokenBucket, type Progress } from "../../src/adapters/viewers/schedule.js";
import { chooseRendition, Playhead, watch, type ViewerEnv } from "../../src/adapters/viewers/viewer.js";
import { isCrowdArgv } from "../../src/adapters/viewers/crowd-process.js";
import { SURGE_MARKER } from "../../src/adapters/viewers/protocol.js";
import type { Rendition } from "../../src/adapters/hls/manifest.js";

describe("viewers.surge parameters", () => {
  it("need only `to`, and default to a 10 s ramp from 0, 2000 requests/s and a 10 min limit", () => {
    expect(SurgeParams.parse({ to: 100 })).toMatchObject({ to: 100, from: 0, ramp: 10_000, maxRequestsPerSecond: 2_000, maxDuration: 600_000, rendition: "random", timeout: 5_000, thinkTime: 1_000, headers: {} });
  });

  it.each([
    ["no viewers", { to: 0 }],
    ["more viewers than the hard cap", { to: 5_001 }],
    ["a rate above the hard cap", { to: 10, maxRequestsPerSecond: 10_001 }],
    ["a rate of zero", { to: 10, maxRequestsPerSecond: 0 }],
    ["a maxDuration above an hour", { to: 10, maxDuration: "61m" }],
    ["a maxDuration under a second", { to: 10, maxDuration: "500ms" }],
    ["a ramp above an hour", { to: 10, ramp: "2h" }],
    ["a start above the end", { from: 20, to: 10 }],
    ["an unknown rendition rule", { to: 10, rendition: "auto" }],
    ["an unknown key", { to: 10, multiplier: 10 }],
    ["a request timeout over a minute", { to: 10, timeout: "2m" }],
  ])("refuse %s", (_what, params) => {
    expect(SurgeParams.safeParse(params).success).toBe(false);
  });

  it("accept the hard caps themselves", () => {
    expect(SurgeParams.safeParse({ to: 5_000, maxRequestsPerSecond: 10_000, maxDuration: "1h", ramp: "1h" }).success).toBe(true);
  });
});

describe("the ramp", () => {
  it("starts at `from`, rises linearly and holds at `to` once the ramp is over", () => {
    const at = (ms: number) => rampTarget(ms, 100, 1_100, 10_000);
    expect(at(0)).toBe(100);
    expect(at(5_000)).toBe(600);
    expect(at(10_000)).toBe(1_100);
    expect(at(60_000)).toBe(1_100);
  });

  it("starts its first viewer at once when it ramps from zero", () => {
    expect(rampTarget(1, 0, 10, 60_000)).toBe(1);
  });

  it("never decreases and never passes `to`", () => {
    let last = 0;
    for (let ms = 0; ms <= 12_000; ms += 37) {
      const n = rampTarget(ms, 0, 1_600, 10_000);
      expect(n).toBeGreaterThanOrEqual(last);
      expect(n).toBeLessThanOrEqual(1_600);
      last = n;
    }
  });

  it("with no ramp time jumps straight to `to`", () => {
    expect(rampTarget(1, 0, 500, 0)).toBe(500);
  });
});

describe("the token bucket", () => {
  it("lets a burst through at once, then spaces requests at its rate", () => {
    const bucket = new TokenBucket(100, 10);
    const waits = Array.from({ length: 30 }, () => bucket.reserve(1_000));
    expect(waits.slice(0, 10)).toEqual(Array(10).fill(0));
    // The 11th waits one interval (10 ms), the 30th twenty-one.
    expect(waits[10]).toBeCloseTo(10);
    expect(waits[29]).toBeCloseTo(200);
  });

  it("holds its rate over time however many callers ask", () => {
    const bucket = new TokenBucket(500);
    // 5000 callers asking at once are served over ten seconds, less the burst.
    const waits = Array.from({ length: 5_000 }, () => bucket.reserve(0));
    const last = Math.max(...waits);
    expect(last).toBeGreaterThan(9_800);
    expect(last).toBeLessThan(10_000);
  });

  it("earns no more than one burst of credit while idle", () => {
    const bucket = new TokenBucket(10, 2);
    bucket.reserve(0);
    const waits = [bucket.reserve(60_000), bucket.reserve(60_000), bucket.reserve(60_000)];
    expect(waits).toEqual([0, 0, 100]);
  });

  it("refuses a rate of zero", () => {
    expect(() => new TokenBucket(0)).toThrow(RangeError);
  });
});

const progress = (p: Partial<Progress>): Progress => ({ elapsedMs: 1_000, target: 0, viewers: 0, playing: 0, requestsPerS: 0, bytesPerS: 0, requests: 0, bytes: 0, errors: 0, rateLimited: false, lagMs: 0, ...p });

describe("what a surge reached", () => {
  it("keeps the peaks, the time of the playing peak, and the latest totals", () => {
    let reached = NOTHING_REACHED;
    reached = fold(reached, progress({ elapsedMs: 1_000, target: 50, playing: 40, requestsPerS: 300, bytesPerS: 5e6, requests: 300, bytes: 5e6 }), 100);
    reached = fold(reached, progress({ elapsedMs: 2_000, target: 100, playing: 100, requestsPerS: 200, bytesPerS: 7e6, requests: 500, bytes: 12e6, errors: 1 }), 100);
    reached = fold(reached, progress({ elapsedMs: 3_000, target: 100, playing: 90, requestsPerS: 100, bytesPerS: 1e6, requests: 600, bytes: 13e6, errors: 2 }), 100);
    expect(reached).toMatchObject({ peakPlaying: 100, peakPlayingAtMs: 2_000, peakRequestsPerS: 300, peakBytesPerS: 7e6, requests: 600, bytes: 13e6, errors: 2 });
    expect(heldBackBy(reached, 100)).toBeNull();
    expect(describeReached(reached, 100)).toBe("surge reached 100 of 100 viewers playing (peak at 2 s), peak 300 requests/s and 7.0 MB/s; 600 requests, 13.0 MB, 2 error(s) in 3 s");
  });

  it("blames the rate limit when requests waited for it at the top of the ramp", () => {
    const reached = fold(NOTHING_REACHED, progress({ target: 100, playing: 60, rateLimited: true, lagMs: 500 }), 100);
    expect(heldBackBy(reached, 100)).toMatch(/capped by the rate limit/);
  });

  it("does not blame the rate limit for waits during the ramp", () => {
    const reached = fold(NOTHING_REACHED, progress({ target: 50, playing: 50, rateLimited: true }), 100);
    expect(reached.rateLimitedAtTop).toBe(false);
  });

  it("blames the machine when the crowd's own event loop ran late", () => {
    const reached = fold(NOTHING_REACHED, progress({ target: 100, playing: 60, lagMs: 450 }), 100);
    expect(heldBackBy(reached, 100)).toMatch(/capped by the machine .*450 ms late/);
  });

  it("blames the target when viewers failed and nothing else held them back", () => {
    const reached = fold(NOTHING_REACHED, progress({ target: 100, playing: 60, errors: 12 }), 100);
    expect(heldBackBy(reached, 100)).toMatch(/capped by the target/);
  });
});

describe("a viewer", () => {
  it("fills its forward buffer at once, then its playhead moves with the clock and stalls at the end of the buffer", () => {
    let now = 0;
    const playhead = new Playhead(() => now);
    expect(playhead.bufferedAheadS()).toBe(0);
    playhead.append(2);
    playhead.append(2);
    expect(playhead.bufferedAheadS()).toBe(4);
    now = 1_500;
    expect(playhead.bufferedAheadS()).toBe(2.5);
    now = 10_000;
    expect(playhead.bufferedAheadS()).toBe(0);
    playhead.append(2);
    expect(playhead.bufferedAheadS()).toBe(2);
  });

  it("picks the lowest, the highest or a random rendition as configured", () => {
    const ladder = [100, 200, 300].map((bandwidth) => ({ bandwidth }) as Rendition);
    expect(chooseRendition(ladder, "lowest", () => 0.9).bandwidth).toBe(100);
    expect(chooseRendition(ladder, "highest", () => 0.1).bandwidth).toBe(300);
    expect(chooseRendition(ladder, "random", () => 0.5).bandwidth).toBe(200);
    expect(chooseRendition(ladder, "random", () => 0.999).bandwidth).toBe(300);
  });
});

describe("the crowd's process", () => {
  it("is recognised by its marker followed by its own token only", () => {
    const token = "a".repeat(32);
    expect(isCrowdArgv(["/usr/bin/node", "/x/dist/adapters/viewers/worker.js", SURGE_MARKER, token], token)).toBe(true);
    expect(isCrowdArgv(["/usr/bin/node", "/x/dist/adapters/viewers/worker.js", SURGE_MARKER, "b".repeat(32)], token)).toBe(false);
    expect(isCrowdArgv(["/usr/bin/vim", token], token)).toBe(false);
    expect(isCrowdArgv(["/usr/bin/tail", "-f", "log", token, SURGE_MARKER], token)).toBe(false);
  });
});

describe("a live viewer", () => {
  /** A live window of 10 one-second segments that moves on by one each time it is read. */
  function slidingLive() {
    let head = 20;
    const fetched: number[] = [];
    const reloads: number[] = [];
    const get = async (url: string) => {
      if (url.endsWith("/live.m3u8")) {
        reloads.push(performance.now());
        head += 1;
        const lines = ["#EXTM3U", "#EXT-X-TARGETDURATION:1", `#EXT-X-MEDIA-SEQUENCE:${head - 10}`];
        for (let n = head - 10; n < head; n++) lines.push("#EXTINF:0.001,", `seg-${n}.ts`);
        return { status: 200, text: `${lines.join("\n")}\n`, bytes: 100, location: undefined };
      }
      fetched.push(Number(/seg-(\d+)\.ts$/.exec(url)![1]));
      return { status: 200, text: "", bytes: 1000, location: undefined };
    };
    return { get, fetched, reloads };
  }

  it("goes forward from where it joined, and reloads no faster than the target duration", async () => {
    const live = slidingLive();
    const stop = new AbortController();
    const env: ViewerEnv = { get: live.get, rendition: "random", thinkTimeMs: 0, random: Math.random, now: () => performance.now(), setPlaying: () => {}, failed: () => stop.abort() };
    const watching = watch("http://127.0.0.1:1/live.m3u8", env, stop.signal);
    const deadline = Date.now() + 10_000;
    while (live.reloads.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    stop.abort();
    await watching;
    expect(live.reloads.length).toBeGreaterThanOrEqual(4);
    // It joined 3 segments behind the live edge and then only ever fetched newer ones.
    expect(live.fetched.slice(0, 3)).toEqual([18, 19, 20]);
    for (let i = 1; i < live.fetched.length; i++) expect(live.fetched[i]).toBe(live.fetched[i - 1]! + 1);
    // EXTINF says 1 ms; the target duration says 1 s: reloads follow the target duration.
    for (let i = 2; i < live.reloads.length; i++) expect(live.reloads[i]! - live.reloads[i - 1]!).toBeGreaterThanOrEqual(900);
  });
});
