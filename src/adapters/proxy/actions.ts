// Faults on a fault-proxy link. Each adds one uniquely named toxic with a lease; its revert removes
// exactly that toxic (and nothing else) and checks it is gone.

import { z } from "zod";
import { AdapterError } from "../../errors.js";
import { defineAction, revertWith, type ActionDef, type RunContext, type Target } from "../../contract/adapter.js";
import { enableRevert, removeToxicRevert } from "./reverts.js";
import { CohortHeaderSchema, DurationSchema, PercentSchema } from "../../contract/common-schemas.js";
import { ProxyApiClient } from "./client.js";
import { LeaseKeeper } from "./lease.js";
import { MEDIA_SEGMENTS } from "../../proxy/toxics/http.js";
import type { ProxyTargetData } from "./targets.js";

const StreamSchema = z
  .enum(["downstream", "upstream"])
  .default("downstream")
  .meta({ description: "downstream: towards the client (responses); upstream: towards the server (requests)." });
const Jitter = DurationSchema.prefault("0ms").meta({ description: "Random variation of the delay, up to this much either way." });

const Common = {
  stream: StreamSchema,
  toxicity: PercentSchema.prefault(100).meta({ description: "Share of connections affected (each connection is in or out)." }),
};

const RATE = /^(\d+(?:\.\d+)?)\s*(kbit|mbit|gbit|kb|mb|gb)(?:\/s|ps)?$/i;
const RateSchema = z
  .string()
  .regex(RATE, { error: 'expected a rate like "800kbit", "1mbit" or "125KB" (per second)' })
  .transform((text) => {
    const [, amount, unit] = RATE.exec(text)!;
    const bytesPerSecond = { kbit: 125, mbit: 125_000, gbit: 125_000_000, kb: 1_000, mb: 1_000_000, gb: 1_000_000_000 }[unit!.toLowerCase()]! * Number(amount);
    return Math.max(1, Math.round(bytesPerSecond / 1000)); // Toxiproxy counts KB/s
  })
  .meta({ description: 'Throughput: "800kbit", "1mbit", "125KB" (per second).' });

function target(data: Target | null): ProxyTargetData {
  if (data?.kind !== "proxy") throw new AdapterError("a proxy action was given no proxy target");
  return data.data as unknown as ProxyTargetData;
}

/** A toxic name unique to this run and fault, so a revert can only ever remove its own toxic. */
function toxicName(ctx: RunContext, action: string): string {
  return `chaoscast.${ctx.runId}.${action}.${Math.random().toString(36).slice(2, 8)}`.replace(/[^A-Za-z0-9._-]/g, "-");
}

function toxicAction<P extends z.ZodObject>(def: {
  name: string;
  description: string;
  toxic: string;
  params: P;
  example: Record<string, unknown>;
  attributes: (params: z.output<P>) => Record<string, unknown>;
}): ActionDef {
  return defineAction({
    name: def.name,
    description: def.description,
    target: "proxy",
    reversible: "always",
    params: def.params,
    example: def.example,
    async prepare(params, t, ctx) {
      const link = target(t);
      const client = new ProxyApiClient(link.api);
      const name = toxicName(ctx, def.name);
      // Actions without stream or toxicity (tag-cohorts) act on responses of every connection.
      const p = params as z.output<P> & { stream?: string; toxicity?: number };
      const keeper = new LeaseKeeper(() => client.refreshToxic(link.name, name, link.lease), link.lease);
      return {
        revert: revertWith(removeToxicRevert, { api: link.api, proxy: link.name, toxic: name }, () => keeper.stop(), link.embedded),
        async apply() {
          await client.addToxic(link.name, { name, type: def.toxic, stream: p.stream ?? "downstream", toxicity: (p.toxicity ?? 100) / 100, attributes: def.attributes(params), ttl: link.lease });
          keeper.start();
        },
      };
    },
  });
}

export const latency = toxicAction({
  name: "proxy.latency",
  description: "Delay data on the link by latency ± jitter.",
  toxic: "latency",
  params: z.object({ latency: DurationSchema.meta({ description: "Delay added to each chunk of data, from the moment it arrived." }), jitter: Jitter, ...Common }).strict(),
  example: { latency: "800ms", jitter: "100ms" },
  attributes: (p) => ({ latency: p.latency, jitter: p.jitter }),
});

export const bandwidth = toxicAction({
  name: "proxy.bandwidth",
  description: "Cap the link's throughput.",
  toxic: "bandwidth",
  params: z.object({ rate: RateSchema, ...Common }).strict(),
  example: { rate: "800kbit" },
  attributes: (p) => ({ rate: p.rate }),
});

export const timeout = toxicAction({
  name: "proxy.timeout",
  description: "Stop all data; close each connection after `timeout` without data (0s: keep them hanging).",
  toxic: "timeout",
  params: z.object({ timeout: DurationSchema.prefault("0s").meta({ description: "Close each connection this long after its data stopped; 0s keeps it hanging until the fault ends." }), ...Common }).strict(),
  example: { timeout: "5s" },
  attributes: (p) => ({ timeout: p.timeout }),
});

export const resetPeer = toxicAction({
  name: "proxy.reset-peer",
  description: "Reset connections (TCP RST) on their next data, after `timeout`.",
  toxic: "reset_peer",
  params: z.object({ timeout: DurationSchema.prefault("0s").meta({ description: "On its next data, wait this long, then reset the connection (TCP RST); 0s resets at once." }), ...Common }).strict(),
  example: { timeout: "0s" },
  attributes: (p) => ({ timeout: p.timeout }),
});

export const slicer = toxicAction({
  name: "proxy.slicer",
  description: "Slice data into small pieces (averageSize ± sizeVariation bytes) sent `delay` apart.",
  toxic: "slicer",
  params: z
    .object({
      averageSize: z.int().min(1).meta({ description: "Average piece size in bytes." }),
      sizeVariation: z.int().min(0).default(0).meta({ description: "± bytes." }),
      delay: DurationSchema.prefault("0ms").meta({ description: "Pause between pieces." }),
      ...Common,
    })
    .strict(),
  example: { averageSize: 64, sizeVariation: 32, delay: "1ms" },
  attributes: (p) => ({ average_size: p.averageSize, size_variation: p.sizeVariation, delay: p.delay * 1000 }),
});

export const limitData = toxicAction({
  name: "proxy.limit-data",
  description: "Close each connection after `bytes` bytes have passed.",
  toxic: "limit_data",
  params: z.object({ bytes: z.int().min(0).meta({ description: "Bytes allowed through per connection." }), ...Common }).strict(),
  example: { bytes: 65536 },
  attributes: (p) => ({ bytes: p.bytes }),
});

export const down = defineAction({
  name: "proxy.down",
  description: "Take the link down: the proxy stops accepting and drops open connections; reverted by bringing it up.",
  target: "proxy",
  reversible: "always",
  params: z.object({}).strict(),
  example: {},
  async prepare(_params, t) {
    const link = target(t);
    const client = new ProxyApiClient(link.api);
    const state = await client.getProxy(link.name);
    if (state && !state.enabled) throw new AdapterError(`proxy ${link.name} is already down; chaoscast will not take over an outage it did not make`);
    const keeper = new LeaseKeeper(async () => {
      await client.setEnabled(link.name, false, link.lease);
      return true;
    }, link.lease);
    return {
      revert: revertWith(enableRevert, { api: link.api, proxy: link.name }, () => keeper.stop(), link.embedded),
      async apply() {
        await client.setEnabled(link.name, false, link.lease);
        keeper.start();
      },
    };
  },
});

// HTTP-aware faults: for proxies created with "http": true (chaoscast proxy only).

const Match = z
  .object({
    path: z.string().optional().meta({ description: "Glob on the request path, e.g. **/*.ts (several: comma-separated)." }),
    method: z.string().optional().meta({ description: "Only requests with this method." }),
  })
  .strict()
  .default({})
  .meta({ description: "Which requests: path glob and method." });

const HttpScope = {
  match: Match,
  percent: PercentSchema.prefault(100).meta({ description: "Share of matching requests affected, decided per request." }),
  viewerPercent: PercentSchema.prefault(100).meta({ description: "Share of viewers affected, the same viewers every time (hash of viewerHeader or viewerCookie)." }),
  viewerHeader: z.string().default("x-viewer-id").meta({ description: "Header that identifies a viewer." }),
  viewerCookie: z.string().optional().meta({ description: "Cookie that identifies a viewer when the header is absent." }),
  viewerCmcd: z.boolean().default(false).meta({ description: "Identify a viewer by the CMCD session id (sid) its player sends, when the header and cookie are absent." }),
  viewerRequired: z
    .boolean()
    .default(false)
    .meta({ description: "Affect only requests that identify a viewer (header, cookie or CMCD); without it, a request with no viewer id is decided at random. Set for you by cohorts:." }),
  viewerSalt: z.string().max(200).default("").meta({ description: "Mixed into the viewer hash: another salt picks another share of viewers; faults with the same salt pick the same ones." }),
};

type Scope = { match: { path?: string | undefined; method?: string | undefined }; percent: number; viewerPercent: number; viewerHeader: string; viewerCookie?: string | undefined; viewerCmcd: boolean; viewerRequired: boolean; viewerSalt: string };

function scope(p: Scope, defaultPath?: string): Record<string, unknown> {
  return {
    path: p.match.path ?? defaultPath ?? "**",
    method: p.match.method ?? "",
    percent: p.percent,
    viewer_percent: p.viewerPercent,
    viewer_header: p.viewerHeader,
    viewer_cookie: p.viewerCookie ?? "",
    viewer_cmcd: p.viewerCmcd,
    viewer_required: p.viewerRequired,
    viewer_salt: p.viewerSalt,
  };
}

export const httpError = toxicAction({
  name: "proxy.http-error",
  description: "Answer matching requests with an error status instead of forwarding them.",
  toxic: "http_error",
  params: z.object({ status: z.int().min(400).max(599).default(503).meta({ description: "The status to answer." }), ...HttpScope, ...Common }).strict(),
  example: { status: 503, match: { path: "**/*.ts" }, viewerPercent: "10%" },
  attributes: (p) => ({ ...scope(p), status: p.status }),
});

export const httpLatency = toxicAction({
  name: "proxy.http-latency",
  description: "Delay the responses to matching requests (e.g. segments but not playlists).",
  toxic: "http_latency",
  params: z.object({ latency: DurationSchema.meta({ description: "Delay added before each matching response." }), jitter: Jitter, ...HttpScope, ...Common }).strict(),
  example: { latency: "800ms", match: { path: "**/*.ts" }, percent: "20%" },
  attributes: (p) => ({ ...scope(p), latency: p.latency, jitter: p.jitter }),
});

export const httpBandwidth = toxicAction({
  name: "proxy.http-bandwidth",
  description: "Throttle the bodies of matching responses: segments, not playlists.",
  toxic: "http_bandwidth",
  params: z.object({ rate: RateSchema, ...HttpScope, ...Common }).strict(),
  example: { rate: "800kbit", match: { path: "**/*.ts" } },
  attributes: (p) => ({ ...scope(p), rate: p.rate }),
});

export const segmentDrop = toxicAction({
  name: "proxy.segment-drop",
  description: "Drop media segments: answer 404, or never answer (mode: hang).",
  toxic: "segment_drop",
  params: z.object({ mode: z.enum(["404", "hang"]).default("404").meta({ description: "404 or hang." }), ...HttpScope, ...Common }).strict(),
  example: { mode: "404", percent: "30%" },
  attributes: (p) => ({ ...scope(p, MEDIA_SEGMENTS), mode: p.mode }),
});

export const truncateBody = toxicAction({
  name: "proxy.truncate-body",
  description: "Send only the first `bytes` of matching response bodies, then close the connection.",
  toxic: "truncate_body",
  params: z.object({ bytes: z.int().min(0).meta({ description: "Body bytes to send." }), ...HttpScope, ...Common }).strict(),
  example: { bytes: 1024, match: { path: "**/*.ts" }, percent: "5%" },
  attributes: (p) => ({ ...scope(p), bytes: p.bytes }),
});

export const stalePlaylist = toxicAction({
  name: "proxy.stale-playlist",
  description: "Answer HLS media playlists from a frozen copy: the live stream stops advancing.",
  toxic: "hls_stale_playlist",
  params: z.object({ ...HttpScope, ...Common }).strict(),
  example: { viewerPercent: "1%" },
  attributes: (p) => scope(p, "**/*.m3u8"),
});

export const tagCohorts = toxicAction({
  name: "proxy.tag-cohorts",
  description:
    "Mark two equal viewer cohorts on an HTTP link: each request and response names its viewer's cohort (experiment or control) in a header. Faults with viewerPercent equal to size reach exactly the experiment cohort. An experiment's `cohorts:` block adds this for you.",
  toxic: "cohort_tag",
  params: z
    .object({
      size: PercentSchema.prefault("1%")
        .refine((p) => p >= 0.01 && p <= 50, { error: "expected a cohort size from 0.01% (one viewer in 10 000) to 50% (two cohorts share the viewers)" })
        .meta({ description: "Size of each cohort, as a share of viewers." }),
      header: CohortHeaderSchema.meta({ description: "The header that names the cohort, on requests to the upstream and on responses." }),
      viewerHeader: z.string().default("x-viewer-id").meta({ description: "Header that identifies a viewer." }),
      viewerCookie: z.string().optional().meta({ description: "Cookie that identifies a viewer when the header is absent." }),
      viewerCmcd: z.boolean().default(false).meta({ description: "Identify a viewer by the CMCD session id (sid) its player sends, when the header and cookie are absent." }),
      viewerSalt: z.string().max(200).default("").meta({ description: "Mixed into the viewer hash: another salt picks other cohorts; faults with the same salt reach the same experiment cohort." }),
    })
    .strict(),
  example: { size: "1%" },
  attributes: (p) => ({ cohort_percent: p.size, header: p.header, viewer_header: p.viewerHeader, viewer_cookie: p.viewerCookie ?? "", viewer_cmcd: p.viewerCmcd, viewer_salt: p.viewerSalt }),
});
