// The origin: serves the demo VOD ladder, and a live channel whose media playlists slide over the
// same segments (a long stream from small media, so bandwidth faults have time to bite).

import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { Counter, Registry } from "prom-client";
import { startService, type Service } from "./http-service.js";

const LADDER_DIR = new URL("../../fixtures/media/vod/demo/", import.meta.url);
const SEGMENT_SECONDS = 2;
const LIVE_WINDOW = 4;

interface Ladder {
  master: string;
  renditions: Map<string, { playlist: string; segments: Buffer[] }>;
}

function loadLadder(): Ladder {
  const dir = LADDER_DIR.pathname;
  const renditions = new Map<string, { playlist: string; segments: Buffer[] }>();
  for (const name of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)) {
    const files = readdirSync(path.join(dir, name)).filter((f) => f.endsWith(".ts")).sort();
    renditions.set(name, { playlist: readFileSync(path.join(dir, name, "index.m3u8"), "utf8"), segments: files.map((f) => readFileSync(path.join(dir, name, f))) });
  }
  return { master: readFileSync(path.join(dir, "master.m3u8"), "utf8"), renditions };
}

/** A live media playlist at `now`: a window of segments whose sequence advances every 2 s. */
export function livePlaylist(startedAt: number, now: number, segmentCount: number): string {
  const sequence = Math.floor((now - startedAt) / 1000 / SEGMENT_SECONDS);
  const lines = ["#EXTM3U", "#EXT-X-VERSION:3", `#EXT-X-TARGETDURATION:${SEGMENT_SECONDS}`, `#EXT-X-MEDIA-SEQUENCE:${sequence}`];
  for (let n = sequence; n < sequence + LIVE_WINDOW; n++) {
    // The loop restarts the test pattern: tell players that timestamps jump.
    if (n > sequence && n % segmentCount === 0) lines.push("#EXT-X-DISCONTINUITY");
    lines.push(`#EXTINF:${SEGMENT_SECONDS}.000,`, `seg-${n}.ts`);
  }
  return `${lines.join("\n")}\n`;
}

export async function startOrigin(port = 0, clock: () => number = Date.now): Promise<Service> {
  const ladder = loadLadder();
  const startedAt = clock();
  const registry = new Registry();
  const requests = new Counter({ name: "origin_requests_total", help: "Requests to the origin by kind and outcome.", labelNames: ["kind", "outcome"], registers: [registry] });
  // Manifests get a short TTL, as in most OTT setups, so an origin outage reaches viewers quickly.
  const playlistType = { "content-type": "application/vnd.apple.mpegurl", "cache-control": "max-age=2" };
  return startService("origin", port, registry, (_req, res, url) => {
    const parts = url.pathname.split("/").filter(Boolean); // [vod|live, demo, ...]
    const notFound = (kind: string) => {
      requests.inc({ kind, outcome: "not_found" });
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    };
    if (parts[1] !== "demo" || (parts[0] !== "vod" && parts[0] !== "live")) return notFound("other");
    const live = parts[0] === "live";
    if (parts.length === 3 && parts[2] === "master.m3u8") {
      requests.inc({ kind: "playlist", outcome: "ok" });
      return void res.writeHead(200, playlistType).end(ladder.master);
    }
    const rendition = ladder.renditions.get(parts[2] ?? "");
    if (!rendition || parts.length !== 4) return notFound("other");
    if (parts[3] === "index.m3u8") {
      requests.inc({ kind: "playlist", outcome: "ok" });
      if (live) return void res.writeHead(200, { ...playlistType, "cache-control": "max-age=1" }).end(livePlaylist(startedAt, clock(), rendition.segments.length));
      return void res.writeHead(200, playlistType).end(rendition.playlist);
    }
    const segment = /^seg-(\d+)\.ts$/.exec(parts[3] ?? "");
    if (!segment) return notFound("segment");
    const index = Number(segment[1]);
    const body = live ? rendition.segments[index % rendition.segments.length] : rendition.segments[index];
    if (!body) return notFound("segment");
    requests.inc({ kind: "segment", outcome: "ok" });
    res.writeHead(200, { "content-type": "video/mp2t", "content-length": body.length, "cache-control": "max-age=3600" }).end(body);
  });
}
