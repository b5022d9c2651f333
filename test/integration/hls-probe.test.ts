import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { hlsProbe } from "../../src/adapters/hls/index.js";
import { chooseLevel } from "../../src/adapters/hls/player.js";
import { startProxyServer, type ProxyServer } from "../../src/proxy/server.js";

// A small stream server: a 3-rendition VOD ladder (2 s segments sized to their bitrate), a DASH
// manifest, and the broken cases players meet.
const LADDER = [
  { name: "low", bandwidth: 400_000 },
  { name: "mid", bandwidth: 1_200_000 },
  { name: "high", bandwidth: 3_000_000 },
];
let flakyHits = 0;
const server = http.createServer((req, res) => {
  const url = req.url ?? "/";
  const send = (status: number, body: string | Buffer, type = "application/vnd.apple.mpegurl") => res.writeHead(status, { "content-type": type }).end(body);
  if (url === "/vod/master.m3u8" || url === "/broken/master.m3u8") {
    const prefix = url.startsWith("/broken") ? "missing/" : "";
    return send(200, ["#EXTM3U", ...LADDER.flatMap((r) => [`#EXT-X-STREAM-INF:BANDWIDTH=${r.bandwidth}`, `${prefix}${r.name}/index.m3u8`])].join("\n"));
  }
  const media = /^\/vod\/(low|mid|high)\/index\.m3u8$/.exec(url);
  if (media) {
    const lines = ["#EXTM3U", "#EXT-X-TARGETDURATION:2", "#EXT-X-PLAYLIST-TYPE:VOD"];
    for (let i = 0; i < 6; i++) lines.push("#EXTINF:2.0,", `seg-${i}.ts`);
    return send(200, [...lines, "#EXT-X-ENDLIST"].join("\n"));
  }
  const segment = /^\/vod\/(low|mid|high)\/seg-(\d)\.ts$/.exec(url);
  if (segment) {
    const bandwidth = LADDER.find((r) => r.name === segment[1])!.bandwidth;
    return send(200, Buffer.alloc((bandwidth * 2) / 8, 0x47), "video/mp2t");
  }
  if (url === "/flaky/index.m3u8" || url === "/dead/index.m3u8") {
    return send(200, ["#EXTM3U", "#EXT-X-TARGETDURATION:2", "#EXTINF:2.0,", "a.ts", "#EXTINF:2.0,", "b.ts", "#EXT-X-ENDLIST"].join("\n"));
  }
  if (url === "/flaky/a.ts") return (flakyHits++ % 2 === 0 ? send(503, "busy", "text/plain") : send(200, Buffer.alloc(1000), "video/mp2t"));
  if (url === "/dead/a.ts") return send(404, "gone", "text/plain");
  if (/^\/(flaky|dead)\/b\.ts$/.test(url)) return send(200, Buffer.alloc(1000), "video/mp2t");
  if (url === "/garbage.m3u8") return send(200, "<html>not a playlist</html>", "text/html");
  if (url === "/dash/manifest.mpd") {
    return send(
      200,
      `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT12S" minBufferTime="PT2S"><Period><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="$RepresentationID$/seg-$Number$.m4s" initialization="$RepresentationID$/init.mp4" duration="2" timescale="1" startNumber="1"/><Representation id="low" bandwidth="400000" width="640" height="360"/><Representation id="high" bandwidth="3000000" width="1280" height="720"/></AdaptationSet></Period></MPD>`,
      "application/dash+xml",
    );
  }
  if (/^\/dash\/(low|high)\/(init\.mp4|seg-\d+\.m4s)$/.test(url)) return send(200, Buffer.alloc(5000), "video/mp4");
  send(404, "not found", "text/plain");
});

let base: string;
let proxy: ProxyServer;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy = await startProxyServer({ api: "127.0.0.1:0" });
});
afterAll(async () => {
  await proxy.close();
  server.close();
});

const run = (params: Record<string, unknown>) => {
  const parsed = hlsProbe.params.parse(params);
  return hlsProbe.run(parsed, { signal: AbortSignal.timeout(30_000), timeoutMs: 30_000 });
};

describe("the hls probe plays a stream as a viewer would", () => {
  it("plays a VOD ladder: startup, real-time ratio, and ABR climbing on a fast link", async () => {
    const obs = await run({ url: `${base}/vod/master.m3u8`, segments: 4 });
    expect(obs.error).toBeUndefined();
    expect(obs.fields).toMatchObject({ segments: 4, failedSegments: 0, renditions: 3, live: false, kind: "hls", bitrate: 3_000_000 });
    expect(obs.fields.startupMs).toBeGreaterThan(0);
    expect(obs.fields.segmentRatio).toBeLessThan(1);
    expect(obs.fields.switches).toBeGreaterThanOrEqual(1);
  });

  it("stays on the lowest rendition when a 1 Mbit/s fault throttles segments", async () => {
    const link = await proxy.collection.create({ name: "throttled", upstream: base.replace("http://", ""), http: true });
    link.addToxic({ type: "http_bandwidth", attributes: { path: "**/*.ts", rate: 125 } });
    const obs = await run({ url: `http://${link.listen}/vod/master.m3u8`, segments: 3 });
    expect(obs.fields).toMatchObject({ segments: 3, bitrate: 400_000, switches: 0 });
    expect(obs.fields.segmentRatio).toBeGreaterThan(0.3);
  });

  it("retries a failing segment like a player, counting the error but not a failed segment", async () => {
    const obs = await run({ url: `${base}/flaky/index.m3u8`, segments: 2 });
    expect(obs.fields).toMatchObject({ segments: 2, failedSegments: 0, errors: 1 });
  });

  it("reports a segment that never downloads after its retries", async () => {
    const obs = await run({ url: `${base}/dead/index.m3u8`, segments: 2, retries: 2 });
    expect(obs.fields).toMatchObject({ segments: 1, failedSegments: 1, errors: 3 });
  });

  it("explains a master playlist whose variant is missing, and a URL that is not a playlist", async () => {
    expect((await run({ url: `${base}/broken/master.m3u8` })).error).toMatch(/\/broken\/missing\/low\/index\.m3u8 answered 404/);
    expect((await run({ url: `${base}/garbage.m3u8` })).error).toMatch(/is not an HLS playlist \(no #EXTM3U\)/);
  });

  it("plays DASH too", async () => {
    const obs = await run({ url: `${base}/dash/manifest.mpd`, segments: 3, abr: false });
    expect(obs.fields).toMatchObject({ kind: "dash", segments: 3, renditions: 2, failedSegments: 0 });
  });

  it("chooses the highest rendition that fits 80% of the measured throughput", () => {
    const renditions = LADDER.map((r) => ({ bandwidth: r.bandwidth, resolution: undefined, playlistUri: "x", segments: undefined, initUri: undefined }));
    expect(chooseLevel(renditions, 100_000)).toBe(0);
    expect(chooseLevel(renditions, 1_600_000)).toBe(1);
    expect(chooseLevel(renditions, 10_000_000)).toBe(2);
  });
});
