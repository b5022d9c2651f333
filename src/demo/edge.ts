// The CDN edge: a caching HTTP server in front of the origin (usually through a fault-proxy link).
// Misses for the same object are fetched once (single flight), and an expired copy is served when
// the origin fails, as CDNs do (stale-if-error), so origin faults show up as a real CDN would show them.
// With a second origin (region B), a fetch that fails in region A is retried there, and region A is
// avoided for a few seconds after each failure (origin failover, as CDNs' origin groups do).
// Like any edge node it has a capacity: beyond so many requests a second it sheds load with 503s,
// so a flash crowd finds the same knee on any machine fast enough to send it.

import http, { type IncomingHttpHeaders } from "node:http";
import { Counter, Registry } from "prom-client";
import { startService, type Service } from "./http-service.js";
import { onceMoreIfStale, requestFailure } from "./stale-socket.js";

interface Entry {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  expiresAt: number;
}

export interface EdgeOptions {
  port?: number;
  /** Where the origin is, e.g. the fault proxy's link in front of it (region A). */
  originUrl: string;
  /** A second origin to fail over to (region B). */
  failoverUrl?: string;
  /** How long region A is avoided after a fetch from it failed. */
  avoidFailedMs?: number;
  /** Requests a second the edge serves; beyond that it answers 503 (load shedding). */
  capacityPerSecond?: number;
  /** Cap on how long a response is cached, whatever its max-age. */
  maxTtlMs?: number;
  /** How long past expiry a copy may still be served when the origin fails (stale-if-error). */
  staleIfErrorMs?: number;
  clock?: () => number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

interface OriginAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One fetch from the origin; a kept-alive connection the origin had just closed is retried once on a fresh one, as CDNs do. */
function fetchOrigin(url: string, timeoutMs: number): Promise<OriginAnswer> {
  return onceMoreIfStale(timeoutMs, (how) => fetchOnce(url, how.timeoutMs, how.fresh ? false : agent));
}

function fetchOnce(url: string, timeoutMs: number, through: http.Agent | false): Promise<OriginAnswer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.get(url, { agent: through, timeout: timeoutMs }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        // A body shorter than announced (a truncated transfer) must not be cached as whole.
        const body = Buffer.concat(chunks);
        const declared = Number(res.headers["content-length"] ?? body.length);
        if (body.length !== declared) reject(new Error(`truncated: ${body.length} of ${declared} bytes`));
        else resolve({ status: res.statusCode ?? 502, headers: res.headers, body });
      });
      res.on("error", reject);
      res.on("aborted", () => reject(new Error("origin aborted the response")));
    });
    req.on("timeout", () => req.destroy(new Error(`origin did not answer within ${timeoutMs}ms`)));
    req.on("error", (err) => reject(requestFailure(req, err, answered)));
  });
}

/** A token bucket of `perSecond` requests, half a second's worth of burst. */
class Capacity {
  private tokens: number;
  private last: number;
  constructor(
    private readonly perSecond: number,
    private readonly clock: () => number,
  ) {
    this.tokens = perSecond / 2;
    this.last = clock();
  }
  take(): boolean {
    const now = this.clock();
    this.tokens = Math.min(this.perSecond / 2, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** The demo edge's capacity: about five times what the demo's 160 viewers ask of it. */
export const EDGE_CAPACITY_PER_SECOND = 800;

function ttlOf(headers: IncomingHttpHeaders, maxTtlMs: number): number {
  const maxAge = /max-age=(\d+)/.exec(String(headers["cache-control"] ?? ""))?.[1];
  return Math.min(maxTtlMs, maxAge === undefined ? 0 : Number(maxAge) * 1000);
}

export async function startEdge(options: EdgeOptions): Promise<Service> {
  const clock = options.clock ?? Date.now;
  const maxTtlMs = options.maxTtlMs ?? 60_000;
  const staleMs = options.staleIfErrorMs ?? 2_000;
  const usable = (entry: Entry | undefined): entry is Entry => entry !== undefined && entry.expiresAt + staleMs > clock();
  const cache = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<Entry>>();
  const registry = new Registry();
  const requests = new Counter({ name: "edge_requests_total", help: "Requests to the edge by cache result and status class.", labelNames: ["cache", "status"], registers: [registry] });
  const originErrors = new Counter({ name: "edge_origin_errors_total", help: "Failed fetches from the origin.", registers: [registry] });
  const regionFetches = new Counter({ name: "edge_origin_fetches_total", help: "Fetches from the origin by region (a, b) and outcome.", labelNames: ["region", "outcome"], registers: [registry] });
  const avoidMs = options.avoidFailedMs ?? 5_000;
  // Real time, not the injectable clock: capacity is a rate, whatever the cache's clock says.
  const capacity = new Capacity(options.capacityPerSecond ?? EDGE_CAPACITY_PER_SECOND, () => performance.now());
  let avoidAUntil = 0;

  /** A fetch from region A, or from region B when A fails or was failing a moment ago. */
  const fetchFromRegions = async (path: string) => {
    const b = options.failoverUrl;
    const fromB = async () => {
      try {
        const res = await fetchOrigin(`${b}${path}`, 5_000);
        regionFetches.inc({ region: "b", outcome: res.status >= 500 ? "error" : "ok" });
        return res;
      } catch (err) {
        regionFetches.inc({ region: "b", outcome: "error" });
        throw err;
      }
    };
    if (b && clock() < avoidAUntil) return fromB();
    try {
      const res = await fetchOrigin(`${options.originUrl}${path}`, 5_000);
      if (res.status < 500 || !b) {
        regionFetches.inc({ region: "a", outcome: res.status >= 500 ? "error" : "ok" });
        return res;
      }
      regionFetches.inc({ region: "a", outcome: "error" });
    } catch (err) {
      regionFetches.inc({ region: "a", outcome: "error" });
      if (!b) throw err;
    }
    avoidAUntil = clock() + avoidMs;
    return fromB();
  };

  const fill = (path: string): Promise<Entry> => {
    let pending = inFlight.get(path);
    if (!pending) {
      // Freshness counts from when the request went out, not from when the answer finished
      // arriving (RFC 9111 4.2.3): a live playlist that took 3 s to come through a slow link is
      // already 3 s old, and must not be served for its whole max-age on top of that.
      const requestedAt = clock();
      pending = fetchFromRegions(path)
        .then((res) => {
          const entry = { ...res, expiresAt: requestedAt + (res.status === 200 ? ttlOf(res.headers, maxTtlMs) : 0) };
          if (res.status === 200) cache.set(path, entry);
          if (res.status >= 500) originErrors.inc();
          return entry;
        })
        .finally(() => inFlight.delete(path));
      inFlight.set(path, pending);
    }
    return pending;
  };

  return startService("edge", options.port ?? 0, registry, async (req, res, url) => {
    if (!capacity.take()) {
      requests.inc({ cache: "shed", status: "5xx" });
      res.writeHead(503, { "content-type": "text/plain", "retry-after": "1" }).end("edge over capacity\n");
      return;
    }
    const path = url.pathname;
    const cached = cache.get(path);
    const send = (entry: Entry, result: string) => {
      requests.inc({ cache: result, status: `${Math.floor(entry.status / 100)}xx` });
      res.writeHead(entry.status, { "content-type": entry.headers["content-type"] ?? "application/octet-stream", "x-cache": result, "content-length": entry.body.length });
      res.end(req.method === "HEAD" ? undefined : entry.body);
    };
    if (cached && cached.expiresAt > clock()) return send(cached, "hit");
    try {
      const entry = await fill(path);
      if (entry.status >= 500 && usable(cached)) return send(cached, "stale");
      send(entry, "miss");
    } catch {
      originErrors.inc();
      if (usable(cached)) return send(cached, "stale");
      requests.inc({ cache: "miss", status: "5xx" });
      res.writeHead(502, { "content-type": "text/plain" }).end("origin unavailable\n");
    }
  });
}
