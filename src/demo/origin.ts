// The origin: serves the demo VOD ladder, and a live channel that loops the same segments the way
// a live packager publishes them (docs/demo.md, "The live channel").
//
// The ladder (64 s, three renditions, about 10 MB) is too big to check in: it is made with ffmpeg
// by fixtures/media/make-ladder.sh on first use, into a cache directory keyed by that script.

import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Counter, Registry } from "prom-client";
import { PreflightError } from "../errors.js";
import { startService, type Service } from "./http-service.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAKE_LADDER = path.join(ROOT, "fixtures/media/make-ladder.sh");
/** Segments in a live media playlist: 10 × 2 s, well over hls.js's 3 target durations behind the edge. */
export const LIVE_WINDOW = 10;

// ---------------------------------------------------------------------------------------------
// The media ladder, made once with ffmpeg

/** Where ladders are cached: CHAOSCAST_MEDIA_CACHE, else node_modules/.cache/chaoscast in the package (inside it, so the demo's containers, which mount the package, see it). */
export function mediaCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.CHAOSCAST_MEDIA_CACHE || path.join(ROOT, "node_modules/.cache/chaoscast"));
}

/** The directory of the ladder that make-ladder.sh as it is now makes (it may not exist yet). */
export function demoLadderDir(env: NodeJS.ProcessEnv = process.env): string {
  let script: Buffer;
  try {
    script = readFileSync(MAKE_LADDER);
  } catch (err) {
    throw new PreflightError(`the demo's media is made by ${MAKE_LADDER}, which cannot be read (${(err as Error).message})`);
  }
  const key = createHash("sha256").update(script).digest("hex").slice(0, 12);
  return path.join(mediaCacheDir(env), `demo-ladder-${key}`);
}

const isLadder = (dir: string) => existsSync(path.join(dir, "master.m3u8"));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
};

let making: Promise<string> | undefined;

/**
 * The demo ladder's directory, made first if the cache has none: with ffmpeg, about 15 s on two
 * cores, once. Processes that need it at the same time wait for the one making it (a lock file).
 */
export function ensureDemoMedia(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const dir = demoLadderDir(env);
  if (isLadder(dir)) return Promise.resolve(dir);
  making ??= makeOnce(dir).finally(() => (making = undefined));
  return making;
}

async function makeOnce(dir: string): Promise<string> {
  const cache = path.dirname(dir);
  try {
    mkdirSync(cache, { recursive: true });
  } catch (err) {
    throw new PreflightError(`the demo's media is made on first use into ${cache}, which cannot be created (${(err as Error).message}); set CHAOSCAST_MEDIA_CACHE to a writable directory`);
  }
  const lock = `${dir}.lock`;
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    if (isLadder(dir)) return dir;
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw new PreflightError(`cannot write ${lock}: ${(err as Error).message}`);
      // Another process is making it: wait for it, unless it died without finishing.
      let holder = 0;
      try {
        holder = Number(readFileSync(lock, "utf8").trim());
      } catch {
        continue; // it has just finished (or given up): look again
      }
      if (holder > 0 && !alive(holder)) rmSync(lock, { force: true });
      if (Date.now() > deadline) throw new PreflightError(`waited 5 minutes for process ${holder} to make the demo's media in ${dir}; remove ${lock} if it is gone`);
      await sleep(250);
      continue;
    }
    try {
      await make(dir);
    } finally {
      rmSync(lock, { force: true });
    }
    return dir;
  }
}

/** Is `program` on PATH? (Checked before making anything, so a missing ffmpeg says so at once.) */
export function onPath(program: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.PATH ?? "").split(path.delimiter).some((dir) => dir !== "" && existsSync(path.join(dir, program)));
}

const NO_FFMPEG = "the demo's media (a 64 s HLS ladder) is made on first use with ffmpeg, which is not installed: install it (Debian/Ubuntu: apt-get install ffmpeg) and run again";

async function make(dir: string): Promise<void> {
  if (!onPath("ffmpeg") || !onPath("ffprobe")) throw new PreflightError(NO_FFMPEG);
  process.stderr.write(`Making the demo's media with ffmpeg (once, about 10 MB, into ${dir}) …\n`);
  const tmp = `${dir}.tmp-${process.pid}`;
  try {
    await new Promise<void>((resolve, reject) => {
      execFile("bash", [MAKE_LADDER, tmp], { maxBuffer: 1024 * 1024 }, (err, _stdout, stderr) => {
        if (!err) return resolve();
        const code: unknown = (err as { code?: unknown }).code;
        if (code === "ENOENT") return reject(new PreflightError("the demo's media is made on first use by fixtures/media/make-ladder.sh, which needs bash"));
        if (code === 127) return reject(new PreflightError(NO_FFMPEG));
        reject(new PreflightError(`making the demo's media failed (fixtures/media/make-ladder.sh): ${stderr.trim() || err.message}`));
      });
    });
    try {
      renameSync(tmp, dir);
    } catch (err) {
      if (!isLadder(dir)) throw err; // else someone else finished first: theirs is the same ladder
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  // Ladders an older make-ladder.sh made are of no more use.
  for (const old of readdirSync(path.dirname(dir))) {
    if (/^demo-ladder-[0-9a-f]{12}$/.test(old) && old !== path.basename(dir)) rmSync(path.join(path.dirname(dir), old), { recursive: true, force: true });
  }
}

interface Rendition {
  playlist: string;
  segments: Buffer[];
  /** Each segment's EXTINF, in milliseconds. */
  durationsMs: number[];
}

interface Ladder {
  master: string;
  renditions: Map<string, Rendition>;
}

function loadLadder(dir: string): Ladder {
  const renditions = new Map<string, Rendition>();
  for (const name of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)) {
    const playlist = readFileSync(path.join(dir, name, "index.m3u8"), "utf8");
    const lines = playlist.split("\n").map((l) => l.trim());
    const segments: Buffer[] = [];
    const durationsMs: number[] = [];
    lines.forEach((line, i) => {
      const extinf = /^#EXTINF:([\d.]+)/.exec(line);
      if (!extinf) return;
      durationsMs.push(Math.round(Number(extinf[1]) * 1000));
      segments.push(readFileSync(path.join(dir, name, lines[i + 1]!)));
    });
    renditions.set(name, { playlist, segments, durationsMs });
  }
  return { master: readFileSync(path.join(dir, "master.m3u8"), "utf8"), renditions };
}

// ---------------------------------------------------------------------------------------------
// The live channel

/**
 * The live channel's timeline: the ladder's segments looped for ever, segment n (a media sequence
 * number) being segment n mod count of the ladder. A segment is published when it is complete, as
 * a live packager publishes it: at `startedAt` the first `window` segments are, so a full window is
 * there from the start.
 */
export class LiveTimeline {
  readonly count: number;
  readonly loopMs: number;
  /** Where each ladder segment starts and ends within a loop, in ms. */
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  /** Wall-clock time of the channel's time 0 (the start of segment 0), in ms since the epoch. */
  readonly epochMs: number;
  /** EXT-X-TARGETDURATION: every EXTINF rounded to the nearest integer, at most this (RFC 8216 4.3.3.1). */
  readonly targetDuration: number;

  constructor(
    startedAt: number,
    readonly durationsMs: readonly number[],
    readonly window = LIVE_WINDOW,
  ) {
    if (durationsMs.length === 0 || durationsMs.some((d) => !(d > 0))) throw new Error("a live channel needs segments with positive durations");
    this.count = durationsMs.length;
    let t = 0;
    for (const d of durationsMs) {
      this.starts.push(t);
      t += d;
      this.ends.push(t);
    }
    this.loopMs = t;
    this.epochMs = startedAt - this.endOf(window - 1);
    this.targetDuration = Math.max(...durationsMs.map((d) => Math.round(d / 1000)));
  }

  startOf(n: number): number {
    return Math.floor(n / this.count) * this.loopMs + this.starts[n % this.count]!;
  }

  endOf(n: number): number {
    return Math.floor(n / this.count) * this.loopMs + this.ends[n % this.count]!;
  }

  durationOf(n: number): number {
    return this.durationsMs[n % this.count]!;
  }

  /** The newest complete segment at wall-clock `now`. */
  lastAt(now: number): number {
    const t = Math.max(now - this.epochMs, this.endOf(this.window - 1));
    const loops = Math.floor(t / this.loopMs);
    const within = t - loops * this.loopMs;
    let complete = 0;
    while (complete < this.count && this.ends[complete]! <= within) complete++;
    return loops * this.count + complete - 1;
  }

  /** Is segment n published at `now`? (Segments that left the window stay available, as on a DVR.) */
  available(n: number, now: number): boolean {
    return Number.isSafeInteger(n) && n >= 0 && n <= this.lastAt(now);
  }

  /** Does segment n start a loop after the first, where timestamps restart (a discontinuity)? */
  startsLoop(n: number): boolean {
    return n > 0 && n % this.count === 0;
  }

  /** EXT-X-DISCONTINUITY-SEQUENCE for a playlist starting at segment `first`: the discontinuity tags that left the window (RFC 8216 6.2.2). */
  discontinuitySequence(first: number): number {
    return first > 0 ? Math.floor((first - 1) / this.count) : 0;
  }

  /** The media playlist at `now`: the last `window` complete segments. */
  playlist(now: number): string {
    const last = this.lastAt(now);
    const first = last - this.window + 1;
    const lines = [
      "#EXTM3U",
      "#EXT-X-VERSION:6",
      `#EXT-X-TARGETDURATION:${this.targetDuration}`,
      `#EXT-X-MEDIA-SEQUENCE:${first}`,
      `#EXT-X-DISCONTINUITY-SEQUENCE:${this.discontinuitySequence(first)}`,
      "#EXT-X-INDEPENDENT-SEGMENTS",
    ];
    for (let n = first; n <= last; n++) {
      // Each loop restarts the segments' timestamps: the tag goes right before its first segment,
      // and it leaves the window with that segment (counted by the discontinuity sequence then).
      if (this.startsLoop(n)) lines.push("#EXT-X-DISCONTINUITY");
      // The wall-clock time of the first segment and of each loop's first, so players can line
      // renditions up across discontinuities (and show the time).
      if (n === first || this.startsLoop(n)) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(this.epochMs + this.startOf(n)).toISOString()}`);
      lines.push(`#EXTINF:${(this.durationOf(n) / 1000).toFixed(3)},`, `seg-${n}.ts`);
    }
    return `${lines.join("\n")}\n`;
  }
}

/** The live media playlist at `now` for a channel started at `startedAt` that loops segments of these durations (ms). */
export function livePlaylist(startedAt: number, now: number, durationsMs: readonly number[], window = LIVE_WINDOW): string {
  return new LiveTimeline(startedAt, durationsMs, window).playlist(now);
}

// ---------------------------------------------------------------------------------------------
// The server

export async function startOrigin(port = 0, clock: () => number = Date.now): Promise<Service> {
  const ladder = loadLadder(await ensureDemoMedia());
  const startedAt = clock();
  const timelines = new Map([...ladder.renditions].map(([name, r]) => [name, new LiveTimeline(startedAt, r.durationsMs)]));
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
    const timeline = timelines.get(parts[2] ?? "");
    if (!rendition || !timeline || parts.length !== 4) return notFound("other");
    if (parts[3] === "index.m3u8") {
      requests.inc({ kind: "playlist", outcome: "ok" });
      // A live playlist changes every segment: at most half a target duration in any cache
      // (the edge's included), so nobody is handed one a whole segment old.
      const maxAge = Math.floor(timeline.targetDuration / 2);
      if (live) return void res.writeHead(200, { ...playlistType, "cache-control": maxAge > 0 ? `max-age=${maxAge}` : "no-cache" }).end(timeline.playlist(clock()));
      return void res.writeHead(200, playlistType).end(rendition.playlist);
    }
    const segment = /^seg-(\d+)\.ts$/.exec(parts[3] ?? "");
    if (!segment) return notFound("segment");
    const index = Number(segment[1]);
    // A live segment exists once it is complete (then it is in the playlist), never before.
    const body = live ? (timeline.available(index, clock()) ? rendition.segments[index % rendition.segments.length] : undefined) : rendition.segments[index];
    if (!body) return notFound("segment");
    requests.inc({ kind: "segment", outcome: "ok" });
    res.writeHead(200, { "content-type": "video/mp2t", "content-length": body.length, "cache-control": "max-age=3600" }).end(body);
  });
}
