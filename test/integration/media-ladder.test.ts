import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { hlsProbe } from "../../src/adapters/hls/index.js";
import { ROOT } from "../helpers/processes.js";

const LADDER = path.join(ROOT, "fixtures/media/vod/demo");

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

let base: string;
const server = http.createServer((req, res) => {
  const file = path.join(LADDER, path.normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)));
  if (!file.startsWith(LADDER) || !existsSync(file) || statSync(file).isDirectory()) return res.writeHead(404).end();
  res.writeHead(200, { "content-type": file.endsWith(".m3u8") ? "application/vnd.apple.mpegurl" : "video/mp2t" }).end(readFileSync(file));
});
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

describe("the checked-in demo ladder", () => {
  it("stays under 3 MB in all", () => {
    const bytes = filesUnder(LADDER).reduce((sum, f) => sum + statSync(f).size, 0);
    expect(bytes).toBeLessThan(3 * 1024 * 1024);
  });

  it("has three renditions whose playlists name segments that exist", () => {
    const master = readFileSync(path.join(LADDER, "master.m3u8"), "utf8");
    const variants = master.split("\n").filter((l) => l.endsWith("index.m3u8"));
    expect(variants).toEqual(["240p/index.m3u8", "360p/index.m3u8", "540p/index.m3u8"]);
    for (const variant of variants) {
      const playlist = readFileSync(path.join(LADDER, variant), "utf8");
      const segments = playlist.split("\n").filter((l) => l.endsWith(".ts"));
      expect(segments).toHaveLength(8);
      for (const s of segments) expect(existsSync(path.join(LADDER, path.dirname(variant), s))).toBe(true);
      expect(playlist).toContain("#EXT-X-ENDLIST");
    }
  });

  it("plays through the hls probe, every segment and rendition", async () => {
    const params = hlsProbe.params.parse({ url: `${base}/master.m3u8`, segments: 8 });
    const obs = await hlsProbe.run(params, { signal: AbortSignal.timeout(20_000), timeoutMs: 20_000 });
    expect(obs.error).toBeUndefined();
    expect(obs.fields).toMatchObject({ segments: 8, failedSegments: 0, renditions: 3, live: false });
  });
});
