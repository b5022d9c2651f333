// HTTP-aware toxics: they act on request/response exchanges chosen by path glob, method, a share
// of requests, and a consistent share of viewers (hash of a header or cookie), the "1% of users"
// blast radius. Attribute names follow Toxiproxy's snake_case where Toxiproxy has one.

import { z } from "zod";
import { defineHttpToxic } from "./types.js";
import { isReservedHeader } from "../../util/reserved-headers.js";

const share = (description: string) => z.number().min(0).max(100).default(100).meta({ description });

/** Which exchanges an HTTP toxic applies to. Shared by every HTTP toxic. */
export const selection = {
  path: z.string().default("**").meta({ description: "Glob on the request path, e.g. **/*.ts; several separated by commas." }),
  method: z.string().default("").meta({ description: "Only this method (e.g. GET); empty: any." }),
  percent: share("Share of matching requests affected, decided per request (0..100)."),
  viewer_percent: share("Share of viewers affected, decided once per viewer by hash (0..100)."),
  viewer_header: z.string().default("x-viewer-id").meta({ description: "Header that identifies a viewer." }),
  viewer_cookie: z.string().default("").meta({ description: "Cookie that identifies a viewer (used when the header is absent)." }),
  viewer_cmcd: z.boolean().default(false).meta({ description: "Identify a viewer by the CMCD session id (sid) its player sends, when the header and cookie are absent." }),
  viewer_required: z.boolean().default(false).meta({ description: "Affect only requests that identify a viewer; otherwise a request without one is decided at random (viewer_percent < 100)." }),
  viewer_salt: z.string().max(200).default("").meta({ description: "Mixed into the viewer hash: another salt picks another share of viewers (toxics with the same salt pick the same)." }),
};

/** How many of the 10 000 viewer buckets a share covers: one rounding, for faults and cohorts alike. */
export function bucketsOf(percent: number): number {
  return Math.round(percent * 100);
}

export const MEDIA_SEGMENTS = "**/*.ts,**/*.m4s,**/*.mp4,**/*.m4a,**/*.m4v,**/*.aac,**/*.vtt,**/*.webm";

export const httpError = defineHttpToxic({
  type: "http_error",
  description: "Answer matching requests with an error status instead of forwarding them.",
  attributes: z.object({
    ...selection,
    status: z.number().int().min(400).max(599).default(503).meta({ description: "The status to answer." }),
    body: z.string().default("").meta({ description: "The body to answer (default: the status text)." }),
  }),
  effect: (a) => ({ kind: "respond", status: a.status, body: a.body }),
});

export const httpLatency = defineHttpToxic({
  type: "http_latency",
  description: "Delay the response to matching requests by latency ± jitter ms.",
  attributes: z.object({
    ...selection,
    latency: z.number().int().min(0).default(0).meta({ description: "Delay in ms." }),
    jitter: z.number().int().min(0).default(0).meta({ description: "± ms." }),
  }),
  effect: (a) => ({ kind: "delay", ms: () => a.latency + (a.jitter ? Math.round((Math.random() * 2 - 1) * a.jitter) : 0) }),
});

export const httpBandwidth = defineHttpToxic({
  type: "http_bandwidth",
  description: "Throttle the response bodies of matching requests (segments, not playlists) to rate KB/s.",
  attributes: z.object({ ...selection, rate: z.number().int().min(1).default(125).meta({ description: "KB/s (1000 bytes)." }) }),
  effect: (a) => ({ kind: "throttle", bytesPerMs: a.rate }),
});

export const segmentDrop = defineHttpToxic({
  type: "segment_drop",
  description: "Drop media segments: answer 404, or never answer (mode hang).",
  attributes: z.object({
    ...selection,
    path: z.string().default(MEDIA_SEGMENTS).meta({ description: "Glob of segment paths." }),
    mode: z.enum(["404", "hang"]).default("404").meta({ description: "404: answer Not Found; hang: never answer." }),
  }),
  effect: (a) => (a.mode === "hang" ? { kind: "hang" } : { kind: "respond", status: 404, body: "" }),
});

export const truncateBody = defineHttpToxic({
  type: "truncate_body",
  description: "Send only the first `bytes` bytes of matching response bodies, then close the connection.",
  attributes: z.object({ ...selection, bytes: z.number().int().min(0).default(0).meta({ description: "Bytes of the body to send." }) }),
  effect: (a) => ({ kind: "truncate", bytes: a.bytes }),
});

export const hlsStalePlaylist = defineHttpToxic({
  type: "hls_stale_playlist",
  description: "Answer HLS media playlists from a frozen copy: a live stream that stops advancing.",
  attributes: z.object({ ...selection, path: z.string().default("**/*.m3u8").meta({ description: "Glob of playlist paths." }) }),
  effect: () => ({ kind: "stale-playlist" }),
});

/**
 * Marks two equal cohorts of viewers for a comparison (the ChAP design): the viewers in buckets
 * below cohort_percent are the experiment cohort, the ones reached by every fault scoped to the
 * same viewer_percent; the next cohort_percent are the control cohort. Both get `header` on the
 * request to the upstream and on the response, so server-side and player-side telemetry can label
 * what they count with the cohort.
 */
export const cohortTag = defineHttpToxic({
  type: "cohort_tag",
  description: "Name each viewer's cohort (experiment or control) in a header on requests and responses.",
  attributes: z.object({
    ...selection,
    cohort_percent: z.number().min(0).max(50).default(1).meta({ description: "Size of each cohort as a share of viewers (0..50)." }),
    header: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/, { error: "a header name uses letters, digits and -" })
      .refine((h) => !isReservedHeader(h), { error: "this header frames the message or carries identity" })
      .default("x-chaoscast-cohort")
      .meta({ description: "The header that names the cohort." }),
  }),
  effect: (a) => ({ kind: "tag-cohort", header: a.header.toLowerCase(), cohortPercent: a.cohort_percent }),
});

/** Which cohort a viewer's bucket falls in: experiment below the size, control in the next size up. */
export function cohortOf(bucket: number, cohortPercent: number): "experiment" | "control" | undefined {
  const size = bucketsOf(cohortPercent);
  if (bucket < size) return "experiment";
  if (bucket < 2 * size) return "control";
  return undefined;
}

/** FNV-1a: a stable bucket 0..9999 per viewer, so the same viewer is always in or always out. */
export function viewerBucket(key: string, salt = ""): number {
  if (salt !== "") key = `${salt}\u0000${key}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % 10_000;
}
