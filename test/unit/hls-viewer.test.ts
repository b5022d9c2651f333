// Sessions of the synthetic hls.js viewer against a small HLS server on 127.0.0.1 whose segments
// can be made to fail, answer late, trickle or hang, one request at a time. Segments are short
// (0.5–2 s) so that what hls.js does over seconds happens quickly; times are asserted with a
// margin, since the model runs on real timers.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { playSession, type SessionOutcome } from "../../src/demo/hls-viewer.js";
import { runSession } from "../../src/demo/hls-viewer-session.js";
import { HLS_JS_DEFAULTS } from "../../src/demo/hls-viewer-config.js";
import { pollUntil } from "../helpers/poll.js";

/** What one segment request gets: a status, a delay before the headers, a trickle, or nothing at all. */
interface Answer {
  status?: number;
  ttfbMs?: number;
  bytesPerSecond?: number;
  hang?: boolean;
}

interface SegmentRequest {
  level: number;
  sn: number;
  /** How many times this level's segment was asked for before. */
  attempt: number;
  at: number;
}

interface StreamOptions {
  /** Declared BANDWIDTH of each level, lowest first; segment bodies are that many bits per second of media. */
  levels: number[];
  segmentS: number;
  segments: number;
  /** A live window of this many segments, sliding in real time, instead of a VOD. */
  liveWindow?: number;
  answer?: (request: SegmentRequest) => Answer | undefined;
}

interface TestStream {
  url: string;
  /** The URL of one level's playlist (a session can start from it, without a master). */
  playlistUrl(level: number): string;
  segmentRequests: SegmentRequest[];
  playlistRequests: { level: number; at: number; text: string }[];
  close(): Promise<void>;
}

/** A test's context: its own end hook (the tests run concurrently, each with its own server). */
type Context = { onTestFinished(fn: () => Promise<void>): void };

async function startStream(context: Context, options: StreamOptions): Promise<TestStream> {
  const segmentRequests: SegmentRequest[] = [];
  const playlistRequests: { level: number; at: number; text: string }[] = [];
  const born = Date.now();
  // Live: segment n is published once its time is over; the window holds the last `liveWindow`.
  const published = () => Math.floor((Date.now() - born) / (options.segmentS * 1000)) + (options.liveWindow ?? 0);
  // Every level lists the same segments (its own files): a ladder aligned segment by segment.
  const playlist = () => {
    const live = options.liveWindow !== undefined;
    const last = live ? published() - 1 : options.segments - 1;
    const first = live ? Math.max(0, last - options.liveWindow! + 1) : 0;
    const lines = ["#EXTM3U", "#EXT-X-VERSION:3", `#EXT-X-TARGETDURATION:${Math.ceil(options.segmentS)}`, `#EXT-X-MEDIA-SEQUENCE:${first}`];
    for (let sn = first; sn <= last; sn++) lines.push(`#EXTINF:${options.segmentS.toFixed(3)},`, `seg-${sn}.ts`);
    if (!live) lines.push("#EXT-X-ENDLIST");
    return `${lines.join("\n")}\n`;
  };
  const sockets = new Set<import("node:net").Socket>();
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    if (path === "/master.m3u8") {
      const variants = options.levels.map((bps, i) => `#EXT-X-STREAM-INF:BANDWIDTH=${bps}\n${i}/index.m3u8`);
      return void res.writeHead(200, { "content-type": "application/vnd.apple.mpegurl" }).end(`#EXTM3U\n${variants.join("\n")}\n`);
    }
    const m = /^\/(\d+)\/(index\.m3u8|seg-(\d+)\.ts)$/.exec(path);
    if (!m) return void res.writeHead(404).end();
    const level = Number(m[1]);
    if (m[2] === "index.m3u8") {
      const text = playlist();
      playlistRequests.push({ level, at: performance.now(), text });
      return void res.writeHead(200, { "content-type": "application/vnd.apple.mpegurl" }).end(text);
    }
    const sn = Number(m[3]);
    const request = { level, sn, attempt: segmentRequests.filter((r) => r.level === level && r.sn === sn).length, at: performance.now() };
    segmentRequests.push(request);
    const answer = options.answer?.(request) ?? {};
    if (answer.hang) return;
    const size = Math.round((options.levels[level]! * options.segmentS) / 8);
    setTimeout(() => {
      if (answer.status && answer.status !== 200) return void res.writeHead(answer.status).end("no\n");
      res.writeHead(200, { "content-type": "video/mp2t", "content-length": size });
      if (!answer.bytesPerSecond) return void res.end(Buffer.alloc(size));
      trickle(res, size, answer.bytesPerSecond);
    }, answer.ttfbMs ?? 0);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const stream: TestStream = {
    url: `${base}/master.m3u8`,
    playlistUrl: (level) => `${base}/${level}/index.m3u8`,
    segmentRequests,
    playlistRequests,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  context.onTestFinished(() => stream.close());
  return stream;
}

/** Sends `size` bytes at `bytesPerSecond`, in 50 ms steps. */
function trickle(res: http.ServerResponse, size: number, bytesPerSecond: number): void {
  let sent = 0;
  const step = Math.max(1, Math.round(bytesPerSecond / 20));
  const timer = setInterval(() => {
    const n = Math.min(step, size - sent);
    sent += n;
    if (sent >= size) {
      clearInterval(timer);
      res.end(Buffer.alloc(n));
    } else res.write(Buffer.alloc(n));
  }, 50);
  res.on("close", () => clearInterval(timer));
}

const kbps = (bps: number) => Math.round(bps / 1000);
const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);

// The bounds leave room for a busy machine (CI runs files in parallel) while still telling the
// rules apart: a 1 s backoff from none, a 2 s one from a 4 s one.
describe.concurrent("a synthetic hls.js viewer", () => {
  it("retries a segment answered 503 after 1 s and then 2 s, and starts only once it arrives", async (context) => {
    const stream = await startStream(context, { levels: [200_000, 400_000], segmentS: 1, segments: 6, answer: (r) => (r.sn === 0 && r.attempt < 2 ? { status: 503 } : undefined) });
    const outcome = await playSession({ url: stream.url, deadlineMs: 8000, watchMs: 1000 });
    const first = stream.segmentRequests.filter((r) => r.sn === 0);
    // The same URL each time: a 5xx is asked for again, not elsewhere.
    expect(first.map((r) => r.level)).toEqual([1, 1, 1]);
    const [afterFirst, afterSecond] = gaps(first.map((r) => r.at));
    expect(afterFirst).toBeGreaterThan(950);
    expect(afterFirst).toBeLessThan(1900);
    expect(afterSecond).toBeGreaterThan(1950);
    expect(afterSecond).toBeLessThan(2900);
    expect(outcome).toMatchObject({ started: true, segmentErrors: 2, fatal: null });
    expect(outcome.startupMs).toBeGreaterThan(2950);
    expect(outcome.startupMs).toBeLessThan(4800);
  });

  it("gives up at the start deadline when retries push the start past it", async (context) => {
    const stream = await startStream(context, { levels: [200_000, 400_000], segmentS: 1, segments: 6, answer: (r) => (r.sn === 0 && r.attempt < 3 ? { status: 503 } : undefined) });
    const before = performance.now();
    const outcome = await playSession({ url: stream.url, deadlineMs: 2500, watchMs: 1000 });
    expect(outcome).toMatchObject({ started: false, startupMs: null, segmentErrors: 2, fatal: null });
    expect(performance.now() - before).toBeLessThan(4500);
  });

  it("switches level on a 404 segment instead of asking for the same URL again", async (context) => {
    const stream = await startStream(context, { levels: [200_000, 400_000, 800_000], segmentS: 1, segments: 4, answer: (r) => (r.level === 1 ? { status: 404 } : undefined) });
    const outcome = await playSession({ url: stream.url, deadlineMs: 5000, watchMs: 1500 });
    // The start level (400 kbit/s, from the 500 kbit/s default estimate) failed once, and never again.
    expect(stream.segmentRequests.filter((r) => r.level === 1)).toHaveLength(1);
    expect(stream.segmentRequests[1]).toMatchObject({ level: 0, sn: 0 });
    expect(outcome).toMatchObject({ started: true, segmentErrors: 1, startKbps: 200, fatal: null });
    expect(outcome.startupMs).toBeLessThan(950);
  });

  it("is fatal when every level answers 404 and the retries left are used up", async (context) => {
    const stream = await startStream(context, { levels: [200_000, 400_000], segmentS: 1, segments: 4, answer: () => ({ status: 404 }) });
    // hls.js's backoff shortened (1 s … 8 s would take 30 s); the rule is the same.
    const errorRetry = { maxNumRetry: 6, retryDelayMs: 20, maxRetryDelayMs: 100 };
    const outcome = await runSession({ url: stream.url, deadlineMs: 5000, watchMs: 1000, config: { fragLoadPolicy: { ...HLS_JS_DEFAULTS.fragLoadPolicy, errorRetry } } });
    expect(outcome.fatal).toMatch(/^networkError: fragLoadError \(HTTP 404\) http:\/\/127\.0\.0\.1:\d+\/0\/seg-0\.ts/);
    expect(outcome).toMatchObject({ started: false, segmentErrors: 7 });
    // Level 1 once, then level 0 (no level left) until six errors are on record.
    expect(stream.segmentRequests.map((r) => r.level)).toEqual([1, 0, 0, 0, 0, 0, 0]);
  });

  it("stalls for about as long as a late segment is missing once the buffer is empty", async (context) => {
    // Segment 2 arrives 2 s late; segments 0 and 1 (1 s of media) are all the buffer holds by then.
    const stream = await startStream(context, { levels: [300_000], segmentS: 0.5, segments: 8, answer: (r) => (r.sn === 2 ? { ttfbMs: 2000 } : undefined) });
    const outcome = await playSession({ url: stream.playlistUrl(0), deadlineMs: 5000, watchMs: 3000 });
    expect(outcome).toMatchObject({ started: true, rebuffers: 1, segmentErrors: 0 });
    expect(outcome.rebufferMs).toBeGreaterThan(800);
    expect(outcome.rebufferMs).toBeLessThan(1700);
    // Watched 3 s, of which about 1 s stalled.
    expect(outcome.playedMs).toBeGreaterThan(1400);
    expect(outcome.playedMs).toBeLessThan(2500);
  });

  it("climbs to the top level and stays there when every segment takes 1.5 s to start arriving but then comes fast (TTFB is not bandwidth)", async (context) => {
    const levels = [200_000, 400_000, 800_000];
    // 4 s segments: a fragment's 1.5 s fetch fits in the buffer the first one gives, so ABR may switch at once.
    const stream = await startStream(context, { levels, segmentS: 4, segments: 6, answer: () => ({ ttfbMs: 1500 }) });
    const outcome = await playSession({ url: stream.url, deadlineMs: 5000, watchMs: 5000 });
    expect(outcome).toMatchObject({ started: true, startKbps: kbps(levels[1]!), endKbps: kbps(levels[2]!), switches: 1, rebuffers: 0 });
    expect(outcome.ttfbMs).toBeGreaterThanOrEqual(1500);
    // The first at the start level, every later one at the top: the waits never read as low bandwidth.
    expect(stream.segmentRequests.map((r) => r.level)).toEqual([1, ...stream.segmentRequests.slice(1).map(() => 2)]);
    expect(stream.segmentRequests.length).toBeGreaterThanOrEqual(3);
  });

  it("moves down the ladder on a throttled link", async (context) => {
    const levels = [200_000, 400_000, 800_000];
    // 40 kB/s (320 kbit/s): the start level (400 kbit/s) does not fit, the lowest does.
    const stream = await startStream(context, { levels, segmentS: 1, segments: 10, answer: () => ({ bytesPerSecond: 40_000 }) });
    const outcome = await playSession({ url: stream.url, deadlineMs: 5000, watchMs: 4000 });
    expect(outcome).toMatchObject({ started: true, startKbps: kbps(levels[1]!), endKbps: kbps(levels[0]!) });
    expect(stream.segmentRequests.at(-1)?.level).toBe(0);
  });

  it("asks again at once for a segment that did not answer within the time-to-first-byte limit", async (context) => {
    const stream = await startStream(context, { levels: [300_000], segmentS: 0.5, segments: 4, answer: (r) => (r.sn === 0 && r.attempt === 0 ? { hang: true } : undefined) });
    // hls.js waits 10 s for a first byte; shortened here, the rule is the same.
    const outcome = await runSession({ url: stream.playlistUrl(0), deadlineMs: 5000, watchMs: 500, config: { fragLoadPolicy: { ...HLS_JS_DEFAULTS.fragLoadPolicy, maxTimeToFirstByteMs: 300 } } });
    const first = stream.segmentRequests.filter((r) => r.sn === 0);
    expect(first).toHaveLength(2);
    const [gap] = gaps(first.map((r) => r.at));
    expect(gap).toBeGreaterThan(280);
    expect(gap).toBeLessThan(900);
    expect(outcome).toMatchObject({ started: true, segmentErrors: 1, fatal: null });
  });

  it("resolves promptly with what it saw when its signal is aborted", async (context) => {
    const stream = await startStream(context, { levels: [300_000], segmentS: 0.5, segments: 20, answer: (r) => (r.sn >= 3 ? { hang: true } : undefined) });
    const controller = new AbortController();
    const session = playSession({ url: stream.playlistUrl(0), deadlineMs: 5000, watchMs: 60_000, signal: controller.signal });
    let outcome: SessionOutcome | undefined;
    void session.then((o) => (outcome = o));
    // Stalled on the hanging segment 3, after 1.5 s of media.
    await pollUntil(() => stream.segmentRequests.some((r) => r.sn === 3), 3000, "segment 3 asked for");
    const abortedAt = performance.now();
    controller.abort();
    await pollUntil(() => outcome !== undefined, 1000, "the session resolved");
    expect(performance.now() - abortedAt).toBeLessThan(1000);
    expect(outcome).toMatchObject({ started: true, fatal: null });
  });

  it("starts a live stream three target durations behind the edge and reloads its playlist", async (context) => {
    const stream = await startStream(context, { levels: [300_000], segmentS: 1, segments: 0, liveWindow: 6 });
    const outcome = await playSession({ url: stream.playlistUrl(0), deadlineMs: 5000, watchMs: 3500 });
    const first = stream.playlistRequests[0]!.text;
    const lastListed = Number(/seg-(\d+)\.ts\n$/.exec(first)?.[1]);
    // The edge is the end of the last segment listed; three seconds before it is in the third from last.
    expect(stream.segmentRequests[0]!.sn).toBe(lastListed - 2);
    expect(stream.playlistRequests.length).toBeGreaterThanOrEqual(3);
    expect(outcome).toMatchObject({ started: true, rebuffers: 0, segmentErrors: 0 });
    expect(outcome.playedMs).toBeGreaterThan(3000);
  });
});
