// The demo's media ladder, as fixtures/media/make-ladder.sh makes it (the origin makes it on first
// use): long enough for throttles to bite after the ABR climb, bitrates the ABR experiment needs,
// and segments whose real durations are what the playlists say, which the live channel relies on
// to loop without gaps.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { hlsProbe } from "../../src/adapters/hls/index.js";
import { demoLadderDir, ensureDemoMedia, onPath } from "../../src/demo/origin.js";

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

let LADDER: string;
let base: string;
const server = http.createServer((req, res) => {
  const file = path.join(LADDER, path.normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)));
  if (!file.startsWith(LADDER) || !existsSync(file) || statSync(file).isDirectory()) return res.writeHead(404).end();
  res.writeHead(200, { "content-type": file.endsWith(".m3u8") ? "application/vnd.apple.mpegurl" : "video/mp2t" }).end(readFileSync(file));
});
beforeAll(async () => {
  LADDER = await ensureDemoMedia();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 180_000);
afterAll(() => server.close());

const RENDITIONS = ["240p", "360p", "540p"];
const extinfs = (rendition: string) => [...readFileSync(path.join(LADDER, rendition, "index.m3u8"), "utf8").matchAll(/^#EXTINF:([\d.]+),\n(\S+)$/gm)].map((m) => ({ duration: Number(m[1]), uri: m[2]! }));

describe("the demo ladder", () => {
  it("is cached under a name that changes with make-ladder.sh", () => {
    expect(LADDER).toBe(demoLadderDir());
    expect(path.basename(LADDER)).toMatch(/^demo-ladder-[0-9a-f]{12}$/);
  });

  it("has three renditions of 32 two-second segments (64 s) whose files exist", () => {
    const master = readFileSync(path.join(LADDER, "master.m3u8"), "utf8");
    const variants = master.split("\n").filter((l) => l.endsWith("index.m3u8"));
    expect(variants).toEqual(RENDITIONS.map((r) => `${r}/index.m3u8`));
    for (const rendition of RENDITIONS) {
      const segments = extinfs(rendition);
      expect(segments).toHaveLength(32);
      expect(segments.every((s) => s.duration === 2)).toBe(true);
      for (const s of segments) expect(existsSync(path.join(LADDER, rendition, s.uri))).toBe(true);
      const playlist = readFileSync(path.join(LADDER, rendition, "index.m3u8"), "utf8");
      expect(playlist).toContain("#EXT-X-TARGETDURATION:2\n");
      expect(playlist).toContain("#EXT-X-ENDLIST");
    }
  });

  it("declares bitrates that a 500 kbit/s throttle (experiments/demo/05) forces viewers down from", () => {
    const master = readFileSync(path.join(LADDER, "master.m3u8"), "utf8");
    const bandwidths = [...master.matchAll(/BANDWIDTH=(\d+)/g)].map((m) => Number(m[1]));
    expect(bandwidths).toHaveLength(3);
    expect(bandwidths[0]!).toBeLessThan(300_000);
    expect(bandwidths[1]!).toBeLessThan(500_000);
    expect(bandwidths[2]!).toBeGreaterThan(600_000);
    // BANDWIDTH is each rendition's peak segment bitrate, as measured.
    RENDITIONS.forEach((rendition, i) => {
      const peak = Math.max(...readdirSync(path.join(LADDER, rendition)).filter((f) => f.endsWith(".ts")).map((f) => statSync(path.join(LADDER, rendition, f)).size));
      expect(bandwidths[i]).toBe(Math.floor((peak * 8) / 2));
    });
    const bytes = filesUnder(LADDER).reduce((sum, f) => sum + statSync(f).size, 0);
    expect(bytes).toBeGreaterThan(8_000_000);
    expect(bytes).toBeLessThan(14_000_000);
  });

  it.skipIf(!onPath("ffprobe"))("has segments as long as their EXTINF, and audio exactly as long as the video over the ladder", () => {
    // [first pts, end] of a stream's packets in seconds.
    const span = (file: string, stream: "v" | "a") => {
      const rows = execFileSync("ffprobe", ["-v", "error", "-select_streams", `${stream}:0`, "-show_entries", "packet=pts_time,duration_time", "-of", "csv=p=0", file], { encoding: "utf8" })
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => l.split(",").slice(0, 2).map(Number) as [number, number]);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.every(Number.isFinite))).toBe(true);
      return [Math.min(...rows.map((r) => r[0])), Math.max(...rows.map((r) => r[0] + r[1]))] as const;
    };
    for (const rendition of RENDITIONS) {
      const segments = extinfs(rendition);
      let videoEnd: number | undefined;
      for (const s of segments) {
        const [start, end] = span(path.join(LADDER, rendition, s.uri), "v");
        expect(end - start, `${rendition}/${s.uri}`).toBeCloseTo(s.duration, 3);
        // Segments follow each other without a gap or an overlap.
        if (videoEnd !== undefined) expect(start).toBeCloseTo(videoEnd, 3);
        videoEnd = end;
      }
      const [videoStart] = span(path.join(LADDER, rendition, segments[0]!.uri), "v");
      const [audioStart] = span(path.join(LADDER, rendition, segments[0]!.uri), "a");
      const [, audioEnd] = span(path.join(LADDER, rendition, segments.at(-1)!.uri), "a");
      expect(videoEnd! - videoStart).toBeCloseTo(64, 3);
      // 3000 AAC frames: 64 s, so loop after loop the audio neither gaps nor overlaps.
      expect(audioEnd - audioStart, rendition).toBeCloseTo(64, 3);
    }
  }, 60_000);

  it("plays through the hls probe, every rendition", async () => {
    const params = hlsProbe.params.parse({ url: `${base}/master.m3u8`, segments: 8 });
    const obs = await hlsProbe.run(params, { signal: AbortSignal.timeout(20_000), timeoutMs: 20_000 });
    expect(obs.error).toBeUndefined();
    expect(obs.fields).toMatchObject({ segments: 8, failedSegments: 0, renditions: 3, live: false });
  });
});
