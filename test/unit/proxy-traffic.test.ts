import { describe, expect, it } from "vitest";
import { bucketOf, LatencyHistogram } from "../../src/proxy/latency-histogram.js";
import { TrafficLog, type Exchange } from "../../src/proxy/traffic.js";
import { checkGlobs, compileGlob, compileGlobs } from "../../src/proxy/glob.js";
import { eventually } from "../helpers/poll.js";

const exchange = (over: Partial<Exchange> = {}): Exchange => ({ at: performance.now(), status: 200, cancelled: false, ms: 10, bytes: 1000, cohort: undefined, path: "/seg-1.ts", ...over });

describe("latency histogram", () => {
  it("reads each percentile to within 5% of the exact one, never below it", () => {
    const histogram = new LatencyHistogram();
    const values = Array.from({ length: 1000 }, (_, i) => 0.5 + i * 1.7);
    for (const v of values) histogram.add(bucketOf(v));
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = values[Math.ceil(q * values.length) - 1]!;
      const read = histogram.quantile(q)!;
      expect(read).toBeGreaterThanOrEqual(exact - 0.01);
      expect(read).toBeLessThanOrEqual(exact * 1.05 + 0.01);
    }
  });

  it("forgets what is removed, and is empty again after removing everything", () => {
    const histogram = new LatencyHistogram();
    histogram.add(bucketOf(1));
    histogram.add(bucketOf(1000));
    histogram.remove(bucketOf(1000));
    expect(histogram.quantile(0.99)!).toBeLessThan(1.1);
    histogram.remove(bucketOf(1));
    expect(histogram.quantile(0.5)).toBeNull();
  });
});

describe("path globs", () => {
  it("match * within a segment, ** across segments (or none), ? one character", () => {
    const m = compileGlobs("**/*.ts, /live/seg-?.m4s, /vod/**/master.m3u8")!;
    expect(m("/seg-1.ts")).toBe(true);
    expect(m("/vod/demo/720p/seg-9.ts")).toBe(true);
    expect(m("/live/seg-7.m4s")).toBe(true);
    expect(m("/live/seg-17.m4s")).toBe(false);
    expect(m("/vod/master.m3u8")).toBe(true);
    expect(m("/vod/a/b/master.m3u8")).toBe(true);
    expect(m("/vod/master.m3u8x")).toBe(false);
    expect(compileGlobs("/seg/*.ts")!("/seg/a/b.ts")).toBe(false);
    expect(compileGlobs(" , ")).toBeUndefined();
  });

  it("agree with the same globs written as regular expressions, on thousands of random globs and paths", () => {
    // The regex is the meaning (slow on hostile globs, fine on these small ones); the matcher must agree.
    const asRegex = (glob: string) =>
      new RegExp(`^${glob.replace(/\*\*+\/|\*\*+|\*|\?|[^*?]/g, (t) => (t.endsWith("/") && t.startsWith("**") ? "(?:.*/)?" : t.startsWith("**") ? ".*" : t === "*" ? "[^/]*" : t === "?" ? "[^/]" : t.replace(/[.+^${}()|[\]\\/]/g, "\\$&")))}$`);
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pick = (parts: string[], length: number) => Array.from({ length }, () => parts[random(parts.length)]).join("");
    for (let i = 0; i < 4000; i++) {
      const glob = pick(["/", "**/", "*", "a"], 1) + pick(["/", "a", "b", "*", "**", "**/", "?"], random(7));
      const path = `/${pick(["a", "b", "/"], random(7))}`;
      expect(compileGlob(glob)(path), `${glob} on ${path}`).toBe(asRegex(glob).test(path));
    }
  });

  it("refuse globs that can never match, and globs with too many wildcards", () => {
    expect(checkGlobs("**/*.ts, /live/**/index.m3u8")).toBeUndefined();
    expect(checkGlobs("v/*.ts")).toMatch(/can never match.*did you mean "\*\*\/v\/\*\.ts"/);
    expect(checkGlobs("*.ts")).toMatch(/did you mean "\*\*\/\*\.ts"/);
    expect(checkGlobs(`/${"*a".repeat(17)}`)).toMatch(/17 wildcards; at most 16/);
    // Repeated `**/` fold into one: not refused, and as quick as one.
    expect(checkGlobs(`${"**/".repeat(680)}*b`)).toBeUndefined();
    expect(checkGlobs(Array.from({ length: 33 }, (_, i) => `/p${i}`).join(","))).toMatch(/at most 32 globs/);
  });

  it("finish on globs that make a regex backtrack for seconds", () => {
    const m = compileGlobs("/*a*a*a*a*a*a*a*a*a*a*a*a*z")!;
    expect(m(`/${"a".repeat(1000)}`)).toBe(false);
    expect(m(`/${"a".repeat(1000)}z`)).toBe(true);
  });
});

describe("traffic log", () => {
  it("counts 5xx and unfinished exchanges as errors, 4xx apart, over the window", () => {
    const log = new TrafficLog();
    for (const status of [200, 200, 503, 0, 404, 200, 200, 200]) log.record(exchange({ status }));
    const stats = log.snapshot({ windowMs: 10_000 });
    expect(stats).toMatchObject({ requests: 8, errors: 2, errorRatio: 0.25, clientErrors: 1, clientErrorRatio: 0.125, incomplete: 1 });
  });

  it("does not count a client that left before the answer was complete as an error", () => {
    const log = new TrafficLog();
    for (let i = 0; i < 8; i++) log.record(exchange());
    log.record(exchange({ status: 0, cancelled: true, ms: 900 }));
    log.record(exchange({ status: 0, cancelled: false }));
    expect(log.snapshot({ windowMs: 10_000 })).toMatchObject({ requests: 10, errors: 1, incomplete: 1, cancelled: 1 });
  });

  it("counts LL-HLS blocking reloads in requests and errors, not in the latency", () => {
    const log = new TrafficLog();
    for (let i = 0; i < 8; i++) log.record(exchange({ ms: 10 }));
    log.record(exchange({ path: "/live/index.m3u8", blockingReload: true, ms: 3_000 }));
    log.record(exchange({ path: "/live/index.m3u8", blockingReload: true, ms: 6_000, status: 503 }));
    const stats = log.snapshot({ windowMs: 10_000 });
    expect(stats).toMatchObject({ requests: 10, errors: 1, blockingReloads: 2 });
    expect(stats.latencyP99Ms).toBeLessThan(11);
  });

  it("does not age a held LL-HLS reload as a request in flight", () => {
    const log = new TrafficLog();
    const reload = log.begin("/live/index.m3u8", true);
    reload.started -= 5_000;
    const segment = log.begin("/live/seg-9.ts");
    segment.started -= 800;
    const stats = log.snapshot({ windowMs: 10_000 });
    expect(stats).toMatchObject({ inFlight: 1 });
    expect(stats.oldestInFlightMs).toBeLessThan(1_000);
    // A reload held too long still shows, on its own.
    expect(stats.oldestBlockingReloadMs).toBeGreaterThanOrEqual(5_000);
  });

  it("leaves out exchanges older than the window", () => {
    const log = new TrafficLog();
    const now = performance.now();
    log.record(exchange({ at: now - 5_000, status: 503 }));
    log.record(exchange({ at: now - 100 }));
    expect(log.snapshot({ windowMs: 1_000 })).toMatchObject({ requests: 1, errors: 0 });
    expect(log.snapshot({ windowMs: 10_000 })).toMatchObject({ requests: 2, errors: 1 });
  });

  it("judges only the last N when asked, so a few bad answers show whatever the rate", () => {
    const log = new TrafficLog();
    for (let i = 0; i < 1000; i++) log.record(exchange());
    for (let i = 0; i < 3; i++) log.record(exchange({ status: 502 }));
    expect(log.snapshot({ windowMs: 60_000 }).errorRatio).toBeCloseTo(3 / 1003);
    expect(log.snapshot({ windowMs: 60_000, last: 20 })).toMatchObject({ requests: 20, errors: 3, errorRatio: 0.15 });
  });

  it("filters by cohort and by path globs", () => {
    const log = new TrafficLog();
    log.record(exchange({ cohort: "experiment", status: 503 }));
    log.record(exchange({ cohort: "control" }));
    log.record(exchange({ cohort: undefined, path: "/master.m3u8" }));
    expect(log.snapshot({ windowMs: 10_000, cohort: "experiment" })).toMatchObject({ requests: 1, errors: 1 });
    expect(log.snapshot({ windowMs: 10_000, cohort: "control" })).toMatchObject({ requests: 1, errors: 0 });
    expect(log.snapshot({ windowMs: 10_000, paths: "**/*.m3u8" })).toMatchObject({ requests: 1 });
    expect(log.snapshot({ windowMs: 10_000, paths: "**/*.ts, **/*.m4s" })).toMatchObject({ requests: 2 });
  });

  it("gives bytes and requests per second over the stretch the window covers", () => {
    const log = new TrafficLog();
    // A full last-N window covers from its oldest exchange: here about one second.
    const now = performance.now();
    for (let i = 0; i < 10; i++) log.record(exchange({ at: now - 1_000 + i * 100, bytes: 1_000 }));
    const stats = log.snapshot({ windowMs: 60_000, last: 10 });
    expect(stats.spanMs).toBeGreaterThanOrEqual(1_000);
    expect(stats.bytesPerSecond).toBeGreaterThan(8_000);
    expect(stats.bytesPerSecond).toBeLessThanOrEqual(10_000);
    expect(stats.requestsPerSecond).toBeLessThanOrEqual(10);
    // A young log covers its age, not the whole window it was asked for.
    expect(log.snapshot({ windowMs: 600_000 }).spanMs).toBeLessThan(600_000);
  });

  it("tells a subscriber at once, then of each change, and stops when unsubscribed", async () => {
    const log = new TrafficLog();
    const seen: number[] = [];
    const unsubscribe = log.subscribe({ windowMs: 10_000 }, (s) => seen.push(s.errors));
    expect(seen).toEqual([0]);
    log.record(exchange({ status: 500 }));
    const after = await eventually(() => [...seen], (s) => s.at(-1) === 1, 2_000);
    expect(after.at(-1)).toBe(1);
    unsubscribe();
    expect(log.subscribers).toBe(0);
    const count = seen.length;
    log.record(exchange({ status: 500 }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen.length).toBe(count);
  });

  it("sends a burst of changes together rather than one push per exchange", async () => {
    const log = new TrafficLog();
    const seen: number[] = [];
    log.subscribe({ windowMs: 10_000 }, (s) => seen.push(s.requests));
    for (let i = 0; i < 500; i++) log.record(exchange());
    await eventually(() => seen.at(-1), (last) => last === 500, 2_000);
    expect(seen.at(-1)).toBe(500);
    expect(seen.length).toBeLessThan(10);
  });

  it("counts requests still in flight at their age so far, so a stall shows before anything ends", () => {
    const log = new TrafficLog();
    for (let i = 0; i < 10; i++) log.record(exchange({ ms: 5 }));
    const stalled = log.begin("/seg-2.ts");
    stalled.started -= 30_000;
    const stats = log.snapshot({ windowMs: 10_000 });
    expect(stats).toMatchObject({ requests: 10, inFlight: 1 });
    expect(stats.oldestInFlightMs).toBeGreaterThanOrEqual(30_000);
    expect(stats.latencyP99Ms).toBeGreaterThanOrEqual(30_000);
    expect(stats.latencyP50Ms).toBeLessThan(6);
    // Another cohort's stall is not this cohort's.
    stalled.cohort = "control";
    expect(log.snapshot({ windowMs: 10_000, cohort: "experiment" }).inFlight).toBe(0);
    log.record(exchange({ ms: 30_000, status: 0 }), stalled);
    expect(log.snapshot({ windowMs: 10_000 })).toMatchObject({ requests: 11, inFlight: 0, oldestInFlightMs: null, incomplete: 1 });
  });

  it("tells subscribers when the link is gone, and those who come after at once", () => {
    const log = new TrafficLog();
    let closed = 0;
    log.subscribe({ windowMs: 1_000 }, () => {}, () => (closed += 1));
    log.close();
    expect(closed).toBe(1);
    log.subscribe({ windowMs: 1_000 }, () => {}, () => (closed += 1));
    expect(closed).toBe(2);
    expect(log.subscribers).toBe(0);
  });
});
