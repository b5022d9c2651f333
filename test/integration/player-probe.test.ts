import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import { readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { execa } from "execa";
import { playerProbe } from "../../src/adapters/player/index.js";
import { startOrigin } from "../../src/demo/origin.js";
import type { Service } from "../../src/demo/http-service.js";
import { judge, parseExpectation } from "../../src/contract/expect.js";
import { ffmpegAvailability, playerAvailability, startBreakableProxy, type BreakableProxy } from "../helpers/player.js";
import { tempDir } from "../helpers/temp.js";

// Real players (hls.js, dash.js) in Debian's headless Chromium against the demo's origin, directly
// and through a proxy that can withhold every segment.
const available = await playerAvailability();

const observe = (params: Record<string, unknown>, ctx: { signal?: AbortSignal; timeoutMs?: number } = {}) => {
  const parsed = playerProbe.params.parse(params);
  return playerProbe.run(parsed, { signal: ctx.signal ?? new AbortController().signal, timeoutMs: ctx.timeoutMs ?? playerProbe.timeoutOf(parsed) });
};

/** Chromium processes started by this test process (children of its children included). */
async function chromiumDescendants(): Promise<string[]> {
  const { stdout } = await execa("ps", ["-eo", "pid=,ppid=,comm="], { reject: false });
  const rows = stdout.split("\n").map((line) => line.trim().split(/\s+/)).filter((r) => r.length >= 3);
  const mine = new Set([String(process.pid)]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of rows) {
      if (mine.has(ppid!) && !mine.has(pid!)) {
        mine.add(pid!);
        grew = true;
      }
    }
  }
  return rows.filter(([pid, , comm]) => mine.has(pid!) && /chrom/i.test(comm!)).map(([pid]) => pid!);
}

describe.skipIf(!available)("the player probe plays streams in real players", () => {
  let origin: Service;
  let proxy: BreakableProxy;
  beforeAll(async () => {
    origin = await startOrigin(0);
    proxy = await startBreakableProxy(origin.url);
  }, 180_000);
  afterAll(async () => {
    await proxy?.close();
    await origin?.close();
  });

  it("starts every player of a clean VOD, and reports startup, watch time and bitrate", async () => {
    const obs = await observe({ url: `${origin.url}/vod/demo/master.m3u8`, players: 2, watch: "4s" });
    expect(obs.error, obs.summary).toBeUndefined();
    expect(obs.fields).toMatchObject({ startSuccess: 1, started: 2, players: 2, fatalErrors: 0 });
    expect(obs.fields.startupMs).toBeGreaterThan(0);
    expect(obs.fields.startupMs).toBeLessThanOrEqual(5000);
    expect(obs.fields.watchedMs).toBeGreaterThanOrEqual(3800);
    expect(obs.fields.playedSeconds).toBeGreaterThan(4);
    expect(obs.fields.meanBitrateKbps).toBeGreaterThan(0);
    expect((await judge(parseExpectation(playerProbe.defaultExpect), obs.fields, playerProbe.primaryField)).ok).toBe(true);
  }, 60_000);

  it("reports no start and fatal errors when every segment answers 404", async () => {
    proxy.broken = true;
    try {
      // hls.js's default retries take about 30 s to give up; a player that gives up at once shows the fatal error.
      const obs = await observe({ url: `${proxy.url}/vod/demo/master.m3u8`, players: 2, watch: "4s", hlsConfig: { fragLoadingMaxRetry: 0 } });
      expect(obs.error, obs.summary).toBeUndefined();
      expect(obs.fields).toMatchObject({ startSuccess: 0, started: 0, players: 2 });
      expect(obs.fields.fatalErrors).toBeGreaterThan(0);
      expect(obs.fields.startupMs).toBeUndefined();
      expect(String((obs.fields.errors as string[])[0])).toMatch(/^player \d: networkError: fragLoadError \(HTTP 404\) http:\/\/127\.0\.0\.1:\d+\/vod\/demo\/.*\.ts$/);
      expect(obs.summary).toMatch(/^0\/2 playing, .*fatal/);
      expect(proxy.refused).toBeGreaterThan(0);
      expect((await judge(parseExpectation(playerProbe.defaultExpect), obs.fields, playerProbe.primaryField)).ok).toBe(false);
    } finally {
      proxy.broken = false;
    }
  }, 60_000);

  it("starts players one after another over the spread, each judged from its own start", async () => {
    const first = proxy.masterRequests.length;
    const obs = await observe({ url: `${proxy.url}/vod/demo/master.m3u8`, players: 3, spread: "3s", deadline: "5s", watch: "2s" });
    expect(obs.error, obs.summary).toBeUndefined();
    expect(obs.fields).toMatchObject({ startSuccess: 1, started: 3, players: 3 });
    const asked = proxy.masterRequests.slice(first);
    expect(asked).toHaveLength(3);
    // Player i is started i × 1 s after the first, so the last asks about 2 s after the first;
    // started at once they would ask within a few hundred ms. Wide bounds: the browser's own
    // delays on a loaded machine shift each request by a fraction of a second.
    const span = asked.at(-1)! - asked[0]!;
    expect(span).toBeGreaterThan(1200);
    expect(span).toBeLessThan(4000);
  }, 60_000);

  it("fits the observation into a time limit shorter than the watch (an abort interval), and says so", async () => {
    const started = performance.now();
    const obs = await observe({ url: `${origin.url}/live/demo/master.m3u8`, players: 1, watch: "20s" }, { timeoutMs: 6000 });
    const took = performance.now() - started;
    expect(took).toBeLessThan(6000);
    expect(obs.error, obs.summary).toBeUndefined();
    expect(obs.fields.startSuccess).toBe(1);
    expect(obs.fields.watchedMs).toBeLessThan(6000);
    expect(obs.summary).toMatch(/cut short after \d+ms by the probe's time limit/);
  }, 60_000);

  it("stops at once and closes its browser when the run is aborted", async () => {
    const controller = new AbortController();
    const pending = observe({ url: `${origin.url}/vod/demo/master.m3u8`, players: 1, watch: "10s" }, { signal: controller.signal });
    await expect.poll(async () => (await chromiumDescendants()).length, { timeout: 15_000 }).toBeGreaterThan(0);
    const aborted = performance.now();
    controller.abort();
    const obs = await pending;
    expect(performance.now() - aborted).toBeLessThan(2000);
    expect(obs.error).toBe("cancelled");
    await expect.poll(chromiumDescendants, { timeout: 5000 }).toEqual([]);
  }, 60_000);
});

const withFfmpeg = available && (await ffmpegAvailability());

describe.skipIf(!withFfmpeg)("the player probe plays DASH with dash.js", () => {
  let server: http.Server;
  let base: string;
  let broken = false;
  beforeAll(async () => {
    // A 12 s DASH stream (H.264 and AAC in fMP4, 2 s segments), made here rather than checked in.
    const dir = tempDir("chaoscast-dash-");
    await execa("ffmpeg", [
      ...["-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "12"],
      ...["-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "main", "-pix_fmt", "yuv420p", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0", "-b:v", "300k", "-c:a", "aac", "-b:a", "64k"],
      ...["-f", "dash", "-seg_duration", "2", "-use_template", "1", "-use_timeline", "0", path.join(dir, "manifest.mpd")],
    ]);
    server = http.createServer((req, res) => {
      const name = path.basename(new URL(req.url ?? "/", "http://x").pathname);
      if (broken && name.startsWith("chunk-")) return void res.writeHead(404).end();
      readFile(path.join(dir, name)).then(
        (body) => res.writeHead(200, { "content-type": name.endsWith(".mpd") ? "application/dash+xml" : "video/mp4" }).end(body),
        () => res.writeHead(404).end(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);
  afterAll(() => server?.close());

  it("plays a .mpd URL and reports the same fields", async () => {
    const obs = await observe({ url: `${base}/manifest.mpd`, players: 1, watch: "4s" });
    expect(obs.error, obs.summary).toBeUndefined();
    expect(obs.fields).toMatchObject({ startSuccess: 1, started: 1, fatalErrors: 0, meanBitrateKbps: 300 });
    expect(obs.fields.startupMs).toBeGreaterThan(0);
  }, 60_000);

  it("reports dash.js's fatal error when the segments are gone", async () => {
    broken = true;
    try {
      const obs = await observe({ url: `${base}/manifest.mpd`, players: 1, watch: "4s" });
      expect(obs.fields).toMatchObject({ startSuccess: 0, fatalErrors: 1 });
      expect(String((obs.fields.errors as string[])[0])).toMatch(/^player 1: dash\.js error 27: .*chunk-stream\d-00001\.m4s is not available/);
    } finally {
      broken = false;
    }
  }, 60_000);
});
