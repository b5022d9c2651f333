// The `cmcd` probe: the QoE that players report in CMCD (CTA-5004) on a chaoscast proxy HTTP
// link, read from the proxy: sessions, start failures, startup time, buffer starvation, buffer
// length, throughput. A QoE signal from real players' own traffic, with no player SDK.

import { z } from "zod";
import { defineProbe, type Observation } from "../../contract/adapter.js";
import { DurationSchema } from "../../contract/common-schemas.js";
import { ProxyAddressSchema, ProxyApiClient } from "./client.js";

const Params = z
  .object({
    api: ProxyAddressSchema.default("127.0.0.1:8474").meta({ description: "The chaoscast proxy's API, host:port." }),
    proxy: z.string().min(1).meta({ description: "The HTTP link the players' traffic goes through, e.g. player-edge." }),
    window: DurationSchema.prefault("30s").meta({ description: "Judge the sessions active in this last stretch of time." }),
    startDeadline: DurationSchema.prefault("5s").meta({ description: "A session still starting after this long is a video start failure." }),
    minSessions: z.int().min(0).default(1).meta({ description: "Fewer sessions than this in the window is a failed check (no traffic proves nothing)." }),
    timeout: DurationSchema.prefault("2s").meta({ description: "Give up on the proxy's API after this long." }),
  })
  .strict();

const SummarySchema = z.object({
  sessions: z.number(),
  starts: z.number(),
  startFailures: z.number(),
  videoStartFailureRate: z.number().nullable(),
  startupMsMedian: z.number().nullable(),
  starvationEvents: z.number(),
  starvedSessions: z.number(),
  bufferMsMedian: z.number().nullable(),
  throughputKbpsMedian: z.number().nullable(),
  bitrateKbpsMean: z.number().nullable(),
  errorResponses: z.number(),
});

export const cmcdProbe = defineProbe({
  name: "cmcd",
  description: "QoE from the CMCD (CTA-5004) players send through a chaoscast proxy HTTP link: start failures, startup, starvation, buffer.",
  params: Params,
  example: { api: "127.0.0.1:8474", proxy: "player-edge", window: "30s" },
  primaryField: "videoStartFailureRate",
  fields: {
    videoStartFailureRate: "share of the window's decided starts that did not finish within startDeadline (null without starts)",
    sessions: "sessions that sent a request in the window",
    starts: "sessions that began in the window and whose start is decided",
    startFailures: "of those, the ones still starting after startDeadline",
    startupMsMedian: "median time from a session's first request to its first request out of startup",
    starvationEvents: "requests in the window saying the buffer ran dry (bs)",
    starvedSessions: "sessions that ran dry in the window",
    bufferMsMedian: "median of the sessions' last reported buffer length (bl), ms",
    throughputKbpsMedian: "median of the sessions' last measured throughput (mtp), kbit/s",
    bitrateKbpsMean: "mean of the sessions' last encoded bitrate (br), kbit/s",
    errorResponses: "answers of status 400 or more to CMCD requests in the window",
  },
  defaultExpect: undefined,
  timeoutOf: (params) => params.timeout,
  async run(params, _ctx): Promise<Observation> {
    let summary: z.output<typeof SummarySchema>;
    try {
      const parsed = SummarySchema.safeParse(await new ProxyApiClient(params.api).cmcd(params.proxy, params.window, params.startDeadline));
      if (!parsed.success) return { fields: {}, error: `the fault proxy at ${params.api} answered something that is not a CMCD summary`, summary: "bad answer" };
      summary = parsed.data;
    } catch (err) {
      return { fields: {}, error: (err as Error).message, summary: "proxy unreachable" };
    }
    if (summary.sessions < params.minSessions) {
      return { fields: summary, error: `${summary.sessions} CMCD session(s) in the last ${params.window / 1000}s on ${params.proxy}, fewer than minSessions ${params.minSessions}: do the players send CMCD?`, summary: "no sessions" };
    }
    const rate = summary.videoStartFailureRate === null ? "no starts" : `VSF ${(summary.videoStartFailureRate * 100).toFixed(1)}%`;
    return { fields: summary, summary: `${summary.sessions} sessions, ${rate}, ${summary.starvationEvents} starvation(s)` };
  },
});
