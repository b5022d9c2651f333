// One synthetic viewer: fetch the manifest, pick a rendition, download N segments in order with
// retries and a simple throughput-based ABR, as a player would, and report what it experienced.

import { httpRequest, HttpRequestError } from "../../util/http-request.js";
import { isDash, ManifestError, readDash, readHls, readMediaPlaylist, type Presentation, type Rendition, type Segment } from "./manifest.js";

export interface PlayerOptions {
  url: string;
  segments: number;
  start: "lowest" | "highest" | "auto";
  abr: boolean;
  retries: number;
  segmentTimeoutMs: number;
  headers: Record<string, string>;
  signal: AbortSignal;
}

export interface PlaybackReport {
  startupMs: number | undefined;
  /** Worst segment download time / segment duration: above 1, the player falls behind real time. */
  segmentRatio: number | undefined;
  segmentRatioMean: number | undefined;
  bitrate: number | undefined;
  renditions: number;
  switches: number;
  errors: number;
  failedSegments: number;
  segments: number;
  live: boolean;
  kind: "hls" | "dash";
}

class FetchFailed extends Error {}

async function fetchText(url: string, options: PlayerOptions): Promise<{ body: string; contentType: string | undefined }> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await httpRequest({ url, method: "GET", headers: options.headers, timeoutMs: options.segmentTimeoutMs, signal: options.signal, maxBodyBytes: 8 * 1024 * 1024 });
      if (res.status === 200) return { body: res.body, contentType: res.headers["content-type"] };
      if (attempt >= options.retries || res.status < 500) throw new FetchFailed(`${url} answered ${res.status}`);
    } catch (err) {
      if (options.signal.aborted) throw err;
      if (err instanceof FetchFailed) throw err;
      if (attempt >= options.retries) throw new FetchFailed(`${url}: ${(err as Error).message}`);
    }
  }
}

export async function play(options: PlayerOptions): Promise<PlaybackReport> {
  const started = performance.now();
  const manifest = await fetchText(options.url, options);
  const presentation: Presentation = isDash(options.url, manifest.contentType, manifest.body)
    ? await readDash(manifest.body, options.url)
    : await readHls(manifest.body, options.url);
  const { renditions } = presentation;
  let level = options.start === "highest" ? renditions.length - 1 : 0;
  let media = await mediaOf(renditions[level]!, options);
  const live = presentation.live || media.live;

  // A live player starts near the edge; a VOD player at the beginning.
  let index = live ? Math.max(0, media.segments.length - options.segments) : 0;
  const report: PlaybackReport = { startupMs: undefined, segmentRatio: undefined, segmentRatioMean: undefined, bitrate: undefined, renditions: renditions.length, switches: 0, errors: 0, failedSegments: 0, segments: 0, live, kind: presentation.kind };
  const ratios: number[] = [];
  let estimateBps: number | undefined;

  if (media.initUri) await download(media.initUri, options, report);
  for (let n = 0; n < options.segments && index < media.segments.length; n++, index++) {
    const segment: Segment = media.segments[index]!;
    const result = await download(segment.uri, options, report);
    if (!result) {
      report.failedSegments += 1;
      continue;
    }
    report.segments += 1;
    report.startupMs ??= Math.round(performance.now() - started);
    report.bitrate = renditions[level]!.bandwidth || undefined;
    if (segment.durationS > 0) ratios.push(result.ms / 1000 / segment.durationS);
    const measured = (result.bytes * 8) / Math.max(result.ms / 1000, 0.001);
    estimateBps = estimateBps === undefined ? measured : 0.7 * estimateBps + 0.3 * measured;
    if (options.abr && renditions.length > 1) {
      const next = chooseLevel(renditions, estimateBps);
      if (next !== level) {
        level = next;
        report.switches += 1;
        media = await mediaOf(renditions[level]!, options);
        if (media.initUri) await download(media.initUri, options, report);
      }
    }
  }
  if (ratios.length) {
    report.segmentRatio = round(Math.max(...ratios));
    report.segmentRatioMean = round(ratios.reduce((a, b) => a + b, 0) / ratios.length);
  }
  return report;
}

/** The highest rendition whose bandwidth fits 80% of the measured throughput (at least the lowest). */
export function chooseLevel(renditions: readonly Rendition[], estimateBps: number): number {
  let chosen = 0;
  renditions.forEach((r, i) => {
    if (r.bandwidth <= 0.8 * estimateBps) chosen = i;
  });
  return chosen;
}

async function mediaOf(rendition: Rendition, options: PlayerOptions) {
  if (rendition.segments) return { segments: rendition.segments, initUri: rendition.initUri, live: false };
  const playlist = await fetchText(rendition.playlistUri!, options);
  return readMediaPlaylist(playlist.body, rendition.playlistUri!);
}

/** Download a segment fully, retrying like a player; undefined when every attempt failed. */
async function download(url: string, options: PlayerOptions, report: PlaybackReport): Promise<{ ms: number; bytes: number } | undefined> {
  for (let attempt = 0; attempt <= options.retries; attempt++) {
    const started = performance.now();
    try {
      const res = await httpRequest({ url, method: "GET", headers: options.headers, timeoutMs: options.segmentTimeoutMs, signal: options.signal, maxBodyBytes: 1 });
      if (res.status === 200) return { ms: performance.now() - started, bytes: res.bodyBytes };
      report.errors += 1;
    } catch (err) {
      if (options.signal.aborted) throw err;
      if (!(err instanceof HttpRequestError)) throw err;
      report.errors += 1;
    }
  }
  return undefined;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

export { FetchFailed, ManifestError };
