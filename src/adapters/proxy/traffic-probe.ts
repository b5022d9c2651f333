// The `traffic` probe: in-band breach detection. A chaoscast proxy's HTTP link sees every answer
// it relays; this probe reads its figures over a sliding window (error ratio, latency percentiles,
// requests and bytes per second, optionally one viewer cohort or some paths) and, during the
// method, has them pushed at each change instead of polling, so a run aborts within milliseconds of
// the first failing answers rather than at its next probe round.

import { z } from "zod";
import { defineProbe, type Observation } from "../../contract/adapter.js";
import { DurationSchema } from "../../contract/common-schemas.js";
import { ProxyAddressSchema, ProxyApiClient } from "./client.js";
import { readTrafficStream } from "./traffic-stream.js";
import { checkGlobs } from "../../proxy/glob.js";

const Params = z
  .object({
    api: ProxyAddressSchema.default("127.0.0.1:8474").meta({ description: "The chaoscast proxy's API, host:port." }),
    proxy: z.string().min(1).meta({ description: "The HTTP link whose traffic is judged, e.g. player-edge." }),
    window: DurationSchema.refine((ms) => ms >= 100 && ms <= 600_000, { message: "window must be from 100ms to 10m" })
      .prefault("10s")
      .meta({ description: "Judge the exchanges that ended in this last stretch of time." }),
    last: z.int().min(1).max(100_000).optional().meta({ description: "Of those, only the last N: a breach shows after a few bad answers whatever the request rate." }),
    cohort: z.enum(["experiment", "control"]).optional().meta({ description: "Only the viewers of this cohort (the link must tag cohorts: a cohorts block or proxy.tag-cohorts)." }),
    paths: z
      .string()
      .min(1)
      .max(2048)
      .superRefine((globs, ctx) => {
        const problem = checkGlobs(globs);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .optional()
      .meta({ description: "Only these paths: comma-separated globs, e.g. \"**/*.ts,**/*.m4s\" for segments." }),
    minRequests: z.int().min(0).default(10).meta({ description: "Fewer exchanges than this in the window is a failed check: no traffic proves nothing, and traffic that stops is a breach. 0 lets a silent window pass." }),
    timeout: DurationSchema.prefault("2s").meta({ description: "Give up on the proxy's API after this long." }),
  })
  .strict()
  .refine((p) => p.last === undefined || p.last >= p.minRequests, { message: "last must be at least minRequests: a window of the last N requests never holds more than N", path: ["last"] });

type Params = z.output<typeof Params>;

const StatsSchema = z.object({
  requests: z.number(),
  errors: z.number(),
  errorRatio: z.number().nullable(),
  clientErrors: z.number(),
  clientErrorRatio: z.number().nullable(),
  incomplete: z.number(),
  cancelled: z.number(),
  // Optional: a proxy from before LL-HLS reloads were told apart does not send it.
  blockingReloads: z.number().optional(),
  oldestBlockingReloadMs: z.number().nullable().optional(),
  latencyP50Ms: z.number().nullable(),
  latencyP95Ms: z.number().nullable(),
  latencyP99Ms: z.number().nullable(),
  inFlight: z.number(),
  oldestInFlightMs: z.number().nullable(),
  requestsPerSecond: z.number(),
  bytesPerSecond: z.number(),
  spanMs: z.number(),
});

function query(params: Params, stream: boolean): string {
  const q = new URLSearchParams({ window: `${params.window}ms` });
  if (params.last !== undefined) q.set("last", String(params.last));
  if (params.cohort) q.set("cohort", params.cohort);
  if (params.paths) q.set("paths", params.paths);
  if (stream) q.set("stream", "true");
  return q.toString();
}

function observe(params: Params, answer: unknown): Observation {
  const parsed = StatsSchema.safeParse(answer);
  if (!parsed.success) return { fields: {}, error: `the fault proxy at ${params.api} answered something that is not a traffic summary`, summary: "bad answer" };
  const stats = parsed.data;
  const scope = `${params.proxy}${params.cohort ? ` (${params.cohort} cohort)` : ""}`;
  if (stats.requests === 0 && params.minRequests === 0) {
    // Silence allowed: nothing failed, and there is no ratio to judge.
    return { fields: stats, summary: "no requests in the window", noVerdict: { as: "pass", reason: `no requests on ${scope} in the window (minRequests 0 allows that)` } };
  }
  if (stats.requests < params.minRequests) {
    // With a cohort, no traffic of it usually means the link tags no cohorts (yet), not an idle link.
    const hint = params.cohort ? `is the link tagging cohorts (a cohorts block, or proxy.tag-cohorts)?` : "is traffic flowing through the link?";
    return { fields: stats, error: `${stats.requests} request(s) on ${scope} in the window, fewer than minRequests ${params.minRequests}: ${hint}`, summary: "too little traffic" };
  }
  const percent = stats.errorRatio === null ? "no requests" : `${(stats.errorRatio * 100).toFixed(1)}% errors`;
  const p95 = stats.latencyP95Ms === null ? "" : `, p95 ${stats.latencyP95Ms} ms`;
  return { fields: stats, summary: `${stats.requests} requests, ${percent}${p95}` };
}

export const trafficProbe = defineProbe({
  name: "traffic",
  description: "In-band: what a chaoscast proxy HTTP link relays (error ratio, latency percentiles, throughput), pushed to the run as it changes.",
  params: Params,
  example: { api: "127.0.0.1:8474", proxy: "player-edge", last: 50, paths: "**/*.ts,**/*.m4s" },
  primaryField: "errorRatio",
  fields: {
    errorRatio: "share of the window's exchanges answered 5xx or ended by the relay or upstream without a complete answer (null without requests)",
    errors: "exchanges answered 5xx or ended without a complete answer by the relay or upstream",
    clientErrorRatio: "share answered 4xx (null without requests)",
    clientErrors: "exchanges answered 4xx",
    incomplete: "exchanges the relay or the upstream ended without a complete answer (a body cut, an upstream that broke)",
    cancelled: "exchanges the client left before the answer was complete (a cancelled download, a player giving up): in requests and latency, not in errors",
    blockingReloads: "LL-HLS blocking playlist reloads (requests with _HLS_msn), held by the origin by design: in requests and errors, not in latency or in flight",
    oldestBlockingReloadMs: "how long the oldest LL-HLS reload still held has waited, ms (null when none): the origin may hold one up to three target durations",
    requests: "exchanges in the window",
    latencyP50Ms: "median time from request to the end of the answer, ms (to within 5%); requests still in flight count at their age so far (LL-HLS blocking reloads do not)",
    latencyP95Ms: "95th percentile of that time, ms",
    latencyP99Ms: "99th percentile of that time, ms",
    inFlight: "requests not answered yet (LL-HLS blocking reloads left out)",
    oldestInFlightMs: "how long the oldest of them has waited, ms (null when none)",
    requestsPerSecond: "exchanges per second over the window",
    bytesPerSecond: "body bytes sent to clients per second over the window",
    spanMs: "the stretch of time the figures cover",
  },
  defaultExpect: { errorRatio: "<= 0.01" },
  timeoutOf: (params) => params.timeout,
  async run(params): Promise<Observation> {
    try {
      return observe(params, await new ProxyApiClient(params.api).traffic(params.proxy, query(params, false)));
    } catch (err) {
      return { fields: {}, error: (err as Error).message, summary: "proxy unreachable" };
    }
  },
  async subscribe(params, ctx, push): Promise<void> {
    await readTrafficStream({
      api: params.api,
      path: `/proxies/${encodeURIComponent(params.proxy)}/traffic?${query(params, true)}`,
      signal: ctx.signal,
      // The proxy sends a line at least every second.
      silenceMs: Math.max(params.timeout, 3_000),
      onLine: (line) => push(observe(params, line)),
    });
  },
});
