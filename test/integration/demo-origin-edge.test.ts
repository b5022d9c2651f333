import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge } from "../../src/demo/edge.js";
import { LIVE_WINDOW, livePlaylist, startOrigin } from "../../src/demo/origin.js";
import type { Service } from "../../src/demo/http-service.js";
import { hlsProbe } from "../../src/adapters/hls/index.js";
import { parseMetrics } from "../../src/adapters/metrics/parse.js";
import { startProxyServer, type ProxyServer } from "../../src/proxy/server.js";

let origin: Service;
let proxy: ProxyServer;
let edge: Service;
let now = Date.now();
const clock = () => now;

beforeAll(async () => {
  origin = await startOrigin(0);
  proxy = await startProxyServer({ api: "127.0.0.1:0", proxies: [{ name: "edge-origin", upstream: `127.0.0.1:${origin.port}`, http: true }] });
  edge = await startEdge({ originUrl: `http://${proxy.collection.get("edge-origin").listen}`, clock, staleIfErrorMs: 3 * 3600_000 });
}, 120_000); // the origin makes the demo's media with ffmpeg if no test has yet
afterAll(async () => {
  await edge.close();
  await proxy.close();
  await origin.close();
});

const get = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, cache: res.headers.get("x-cache"), body: Buffer.from(await res.arrayBuffer()) };
};
const originSegmentRequests = async () =>
  parseMetrics(await (await fetch(`${origin.url}/metrics`)).text())
    .filter((s) => s.name === "origin_requests_total" && s.labels.kind === "segment")
    .reduce((sum, s) => sum + s.value, 0);

describe("the origin", () => {
  it("serves the VOD ladder: master, media playlists and segments", async () => {
    expect((await get(`${origin.url}/vod/demo/master.m3u8`)).body.toString()).toMatch(/540p\/index\.m3u8/);
    expect((await get(`${origin.url}/vod/demo/240p/index.m3u8`)).body.toString()).toContain("#EXT-X-ENDLIST");
    expect((await get(`${origin.url}/vod/demo/240p/seg-000.ts`)).body[0]).toBe(0x47);
    expect((await get(`${origin.url}/vod/demo/240p/seg-999.ts`)).status).toBe(404);
  });

  it("slides a live window over the same segments, marking each loop as a discontinuity", () => {
    const eight = Array.from({ length: 8 }, () => 2000);
    const first = livePlaylist(0, 0, eight, 4);
    const later = livePlaylist(0, 14_000, eight, 4);
    expect(first).toContain("#EXT-X-MEDIA-SEQUENCE:0");
    expect(first).not.toContain("#EXT-X-ENDLIST");
    expect(later).toContain("#EXT-X-MEDIA-SEQUENCE:7");
    expect(later).toMatch(/seg-7\.ts\n#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:08\.000Z\n#EXTINF:2\.000,\nseg-8\.ts/);
  });

  it("publishes live segments as they complete: a short playlist TTL, and no segment before it is listed", async () => {
    const res = await fetch(`${origin.url}/live/demo/540p/index.m3u8`);
    expect(res.headers.get("cache-control")).toBe("max-age=1");
    const text = await res.text();
    const listed = [...text.matchAll(/^seg-(\d+)\.ts$/gm)].map((m) => Number(m[1]));
    expect(listed).toHaveLength(LIVE_WINDOW);
    expect(text).toContain("#EXT-X-TARGETDURATION:2\n");
    for (const n of [listed[0]!, listed.at(-1)!]) {
      const segment = await get(`${origin.url}/live/demo/540p/seg-${n}.ts`);
      expect(segment.status).toBe(200);
      // The live channel loops the VOD's segments: seg-n is the ladder's segment n mod 32.
      const vod = await get(`${origin.url}/vod/demo/540p/seg-${String(n % 32).padStart(3, "0")}.ts`);
      expect(segment.body.equals(vod.body)).toBe(true);
    }
    // The next one is still being "encoded": not there yet, whoever asks.
    expect((await get(`${origin.url}/live/demo/540p/seg-${listed.at(-1)! + 2}.ts`)).status).toBe(404);
    expect((await get(`${origin.url}/live/demo/540p/seg-99999999.ts`)).status).toBe(404);
  });
});

describe("the edge", () => {
  it("serves a miss from the origin, then hits from its cache", async () => {
    expect((await get(`${edge.url}/vod/demo/360p/seg-001.ts`)).cache).toBe("miss");
    expect((await get(`${edge.url}/vod/demo/360p/seg-001.ts`)).cache).toBe("hit");
  });

  it("fetches a popular object once however many viewers miss it at the same time", async () => {
    const before = await originSegmentRequests();
    const answers = await Promise.all(Array.from({ length: 20 }, () => get(`${edge.url}/vod/demo/540p/seg-003.ts`)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect((await originSegmentRequests()) - before).toBe(1);
  });

  it("serves a stale copy when the origin is down (within stale-if-error), and 502 when it has none", async () => {
    const link = proxy.collection.get("edge-origin");
    await get(`${edge.url}/vod/demo/240p/seg-002.ts`);
    now += 2 * 3600_000; // everything cached has expired
    await link.stop();
    try {
      expect(await get(`${edge.url}/vod/demo/240p/seg-002.ts`)).toMatchObject({ status: 200, cache: "stale" });
      expect((await get(`${edge.url}/vod/demo/240p/seg-006.ts`)).status).toBe(502);
    } finally {
      await link.start();
    }
  });

  it("does not cache a truncated transfer from the origin", async () => {
    const link = proxy.collection.get("edge-origin");
    link.addToxic({ name: "cut", type: "truncate_body", attributes: { path: "**/seg-005.ts", bytes: 100 } });
    try {
      expect((await get(`${edge.url}/vod/demo/360p/seg-005.ts`)).status).toBe(502);
    } finally {
      link.removeToxic("cut");
    }
    expect(await get(`${edge.url}/vod/demo/360p/seg-005.ts`)).toMatchObject({ status: 200, cache: "miss" });
  });

  it("counts a live playlist's freshness from when it asked the origin, so a slow origin link does not age it further", async () => {
    const link = proxy.collection.get("edge-origin");
    // The edge under test runs on a fake clock: let it follow real time here.
    const realStart = Date.now();
    const base = now;
    const follow = setInterval(() => (now = base + (Date.now() - realStart)), 10);
    link.addToxic({ name: "slow-playlists", type: "http_latency", attributes: { path: "**/index.m3u8", latency: 1500 } });
    try {
      expect((await get(`${edge.url}/live/demo/360p/index.m3u8`)).cache).toBe("miss");
      // Its max-age is 1 s and it took 1.5 s to come: already stale, so the next asks again.
      expect((await get(`${edge.url}/live/demo/360p/index.m3u8`)).cache).toBe("miss");
    } finally {
      link.removeToxic("slow-playlists");
      clearInterval(follow);
    }
    const fresh = await get(`${edge.url}/live/demo/360p/index.m3u8`);
    expect(fresh.cache).toBe("miss");
    expect((await get(`${edge.url}/live/demo/360p/index.m3u8`)).cache).toBe("hit");
  });

  it("is playable end to end by a viewer, VOD and live", async () => {
    const run = (url: string) => hlsProbe.run(hlsProbe.params.parse({ url, segments: 4 }), { signal: AbortSignal.timeout(20_000), timeoutMs: 20_000 });
    expect((await run(`${edge.url}/vod/demo/master.m3u8`)).fields).toMatchObject({ segments: 4, failedSegments: 0, live: false });
    expect((await run(`${edge.url}/live/demo/master.m3u8`)).fields).toMatchObject({ failedSegments: 0, live: true });
  });

  it("sheds load beyond its capacity with 503 and Retry-After, and serves again once the rate drops", async () => {
    const small = await startEdge({ originUrl: `http://${proxy.collection.get("edge-origin").listen}`, capacityPerSecond: 40 });
    try {
      // 20 at once is the burst; far more in the same instant are over capacity.
      const answers = await Promise.all(Array.from({ length: 120 }, () => fetch(`${small.url}/vod/demo/master.m3u8`)));
      const shed = answers.filter((r) => r.status === 503);
      expect(shed.length).toBeGreaterThan(0);
      expect(shed[0]!.headers.get("retry-after")).toBe("1");
      expect(answers.filter((r) => r.status === 200).length).toBeGreaterThan(0);
      await Promise.all(answers.map((r) => r.arrayBuffer()));
      const metrics = await (await fetch(`${small.url}/metrics`)).text();
      expect(metrics).toMatch(/edge_requests_total\{cache="shed",status="5xx"\} [1-9]/);
      // Tokens come back at 40 a second: a request a little later is served.
      const deadline = Date.now() + 5000;
      let status = 503;
      while (status !== 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        status = (await fetch(`${small.url}/vod/demo/master.m3u8`)).status;
      }
      expect(status).toBe(200);
    } finally {
      await small.close();
    }
  });
});
