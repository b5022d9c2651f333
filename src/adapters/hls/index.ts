// The `hls` probe: one synthetic viewer playing an HLS (or DASH) stream as a player would, and
// what it experienced: startup time, download speed against real time, bitrate, errors.

import { z } from "zod";
import { defineProbe, type Adapter } from "../../contract/adapter.js";
import { DurationSchema, HttpHeadersSchema } from "../../contract/common-schemas.js";
import { FetchFailed, ManifestError, play } from "./player.js";

const Params = z
  .object({
    url: z.url({ protocol: /^https?$/ }).meta({ description: "Master playlist, media playlist, or DASH manifest (.mpd)." }),
    segments: z.int().min(1).max(100).default(3).meta({ description: "Segments to download." }),
    start: z.enum(["lowest", "highest", "auto"]).default("auto").meta({ description: "Starting rendition (auto starts low, as players do without an estimate)." }),
    abr: z.boolean().default(true).meta({ description: "Switch renditions by measured throughput, as a player does." }),
    retries: z.int().min(0).max(10).default(2).meta({ description: "Retries per request, as a player does." }),
    segmentTimeout: DurationSchema.prefault("4s").meta({ description: "Give up on one request after this long." }),
    headers: HttpHeadersSchema.default({}).meta({ description: "Request headers, e.g. x-viewer-id." }),
    timeout: DurationSchema.prefault("20s").meta({ description: "Give up on the whole playback after this long." }),
  })
  .strict();

export const hlsProbe = defineProbe({
  name: "hls",
  description: "Play an HLS or DASH stream as one viewer: manifest, rendition, segments, with retries and ABR.",
  params: Params,
  example: { url: "http://127.0.0.1:8080/vod/demo/master.m3u8", segments: 3 },
  primaryField: "startupMs",
  fields: {
    startupMs: "time from the first request to the first segment downloaded, ms",
    segmentRatio: "worst segment download time / segment duration (above 1: slower than real time)",
    segmentRatioMean: "mean of the same",
    bitrate: "bandwidth of the rendition playing at the end, bits/s",
    renditions: "renditions offered",
    switches: "rendition switches made by ABR",
    errors: "failed requests, retried ones included",
    failedSegments: "segments that could not be downloaded after retries",
    segments: "segments downloaded",
    live: "true for a live stream",
  },
  defaultExpect: { failedSegments: 0, segments: ">= 1" },
  timeoutOf: (params) => params.timeout,
  async run(params, ctx) {
    try {
      const report = await play({ ...params, segmentTimeoutMs: Math.min(params.segmentTimeout, ctx.timeoutMs), signal: ctx.signal });
      const summary = `${report.segments} segment(s), startup ${report.startupMs ?? "–"}ms, ratio ${report.segmentRatio ?? "–"}, ${report.bitrate ? `${Math.round(report.bitrate / 1000)} kbit/s` : "bitrate ?"}${report.failedSegments ? `, ${report.failedSegments} failed` : ""}`;
      return { fields: { ...report }, summary };
    } catch (err) {
      const message = err instanceof ManifestError || err instanceof FetchFailed ? err.message : `playback failed: ${(err as Error).message}`;
      return { fields: {}, error: message, summary: "playback failed" };
    }
  },
});

export const hlsAdapter: Adapter = {
  kind: "hls",
  description: "Streams as players see them: the hls probe (HLS and DASH).",
  actions: [],
  probes: [hlsProbe],
};
