// The HTTP layer of an "http" proxy: an HTTP/1.1 server on loopback (Node's own parser, so
// keep-alive and pipelining behave) that forwards each request to the upstream and applies the
// HTTP toxics that match it. The TCP toxics still act on the client's side of this layer.

import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import picomatch from "picomatch";
import { bucketsOf, cohortOf, viewerBucket } from "./toxics/http.js";
import { sleep } from "../util/abortable.js";
import { Pacer } from "./pace.js";
import { writeWithBackpressure } from "../util/backpressure.js";
import type { HttpEffect, HttpToxicType, ToxicRecord } from "./toxics/types.js";
import { splitHostPort } from "./address.js";
import { CmcdCollector, loadCmcdDecoders, readCmcd } from "./cmcd.js";
import { TrafficLog, type Cohort } from "./traffic.js";

const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"];

interface Applied {
  record: ToxicRecord;
  effect: HttpEffect;
}

export class HttpRelay {
  private server: http.Server | undefined;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  private readonly matchers = new WeakMap<object, (path: string) => boolean>();
  /** Frozen media playlists per stale-playlist toxic, by path; dropped with the toxic. */
  private readonly frozen = new WeakMap<ToxicRecord, Map<string, { status: number; headers: IncomingHttpHeaders; body: Buffer }>>();
  port = 0;
  /** What players say in CMCD, per session (kept across restarts of the link). */
  readonly cmcd = new CmcdCollector();
  /** Every exchange relayed, for in-band probes (kept across restarts of the link). */
  readonly traffic = new TrafficLog();
  private cmcdDecoders: Awaited<ReturnType<typeof loadCmcdDecoders>> | undefined;

  constructor(private readonly owner: { upstream: string; httpToxics(): ToxicRecord[] }) {}

  async start(): Promise<void> {
    if (this.server) return;
    this.cmcdDecoders ??= await loadCmcdDecoders();
    // A client that gives up (a player cancelling a slow segment) is normal traffic: its errors end
    // that exchange only, never the process.
    const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
      req.on("error", () => res.destroy());
      this.handle(req, res).catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.agent.destroy();
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private applicable(req: IncomingMessage, path: string, cmcdSid: string | undefined): Applied[] {
    const applied: Applied[] = [];
    for (const record of this.owner.httpToxics()) {
      const a = record.attributes as { path: string; method: string; percent: number; viewer_percent: number; viewer_header: string; viewer_cookie: string; viewer_cmcd: boolean; viewer_required: boolean; viewer_salt: string };
      if (!this.matcher(record.attributes, a.path)(path)) continue;
      if (a.method && a.method.toUpperCase() !== req.method) continue;
      if (a.viewer_percent < 100 || a.viewer_required) {
        const key = viewerKey(req, a.viewer_header, a.viewer_cookie, a.viewer_cmcd ? cmcdSid : undefined);
        // A fault for a cohort reaches identified viewers only.
        if (key === undefined && a.viewer_required) continue;
        // Without a viewer key there is no viewer to keep consistent: decide per request.
        const bucket = key === undefined ? Math.floor(record.random() * 10_000) : viewerBucket(key, a.viewer_salt);
        if (bucket >= bucketsOf(a.viewer_percent)) continue;
      }
      if (a.percent < 100 && record.random() * 100 >= a.percent) continue;
      if (record.toxicity < 1 && record.random() >= record.toxicity) continue;
      applied.push({ record, effect: (record.def as HttpToxicType).effect(record.attributes) });
    }
    return applied;
  }

  /**
   * Names the viewer's cohort on the request to the upstream and on the response. A cohort header
   * the client sent itself is dropped first: only the proxy decides who is in which cohort.
   */
  private tagCohorts(req: IncomingMessage, res: ServerResponse, applied: Applied[], cmcdSid: string | undefined): Cohort | undefined {
    let tagged: Cohort | undefined;
    for (const { record, effect } of applied) {
      if (effect.kind !== "tag-cohort") continue;
      const a = record.attributes as { viewer_header: string; viewer_cookie: string; viewer_cmcd: boolean; viewer_salt: string };
      // The viewer is read before the client's own cohort header is dropped.
      const key = viewerKey(req, a.viewer_header, a.viewer_cookie, a.viewer_cmcd ? cmcdSid : undefined);
      delete req.headers[effect.header];
      const cohort = key === undefined ? undefined : cohortOf(viewerBucket(key, a.viewer_salt), effect.cohortPercent);
      if (cohort === undefined) continue;
      req.headers[effect.header] = cohort;
      res.setHeader(effect.header, cohort);
      tagged = cohort;
    }
    return tagged;
  }

  private matcher(attributes: object, globs: string): (path: string) => boolean {
    let match = this.matchers.get(attributes);
    if (!match) {
      match = picomatch(globs.split(",").map((g) => g.trim()).filter(Boolean), { dot: true });
      this.matchers.set(attributes, match);
    }
    return match;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // What the client got: counted as the body goes out, recorded when the exchange ends however it ends.
    // The path as toxics match it (normalised, and the path of an absolute-form target).
    const { path, blockingReload } = targetOf(req);
    const inFlight = this.traffic.begin(path, blockingReload);
    // `cut`: the relay itself ended the answer early (a truncation, an upstream that broke, a held
    // request released); otherwise an unfinished answer is a client that went away (a player
    // cancelling a segment, or giving up on a stalled one), which is not an error of the service.
    const exchange = { bytes: 0, cut: false };
    res.once("close", () => {
      const at = performance.now();
      const finished = res.writableFinished;
      this.traffic.record({ at, status: finished ? res.statusCode : 0, cancelled: !finished && !exchange.cut, ms: at - inFlight.started, bytes: exchange.bytes, cohort: inFlight.cohort, path: inFlight.path, blockingReload: inFlight.blockingReload }, inFlight);
    });
    const cmcd = this.cmcdDecoders ? readCmcd(req, this.cmcdDecoders) : undefined;
    if (cmcd) {
      this.cmcd.record(cmcd);
      res.once("finish", () => {
        if (res.statusCode >= 400) this.cmcd.recordError(cmcd.sid);
      });
    }
    const applied = this.applicable(req, path, cmcd?.sid);
    inFlight.cohort = this.tagCohorts(req, res, applied, cmcd?.sid);
    const shortCircuit = applied.find((a) => a.effect.kind === "respond" || a.effect.kind === "hang");
    if (shortCircuit) {
      req.resume();
      if (shortCircuit.effect.kind === "respond") {
        const body = shortCircuit.effect.body || `${http.STATUS_CODES[shortCircuit.effect.status] ?? "Error"}\n`;
        res.writeHead(shortCircuit.effect.status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(body), "x-chaoscast-toxic": shortCircuit.record.name });
        res.end(body);
        exchange.bytes = Buffer.byteLength(body);
      } else {
        // Never answer: hold the request until the toxic goes or the client gives up.
        const gone = shortCircuit.record.removed.signal;
        await new Promise<void>((resolve) => {
          gone.addEventListener("abort", () => resolve(), { once: true });
          res.once("close", () => resolve());
        });
        exchange.cut = true;
        res.socket?.destroy();
      }
      return;
    }

    const { host, port } = splitHostPort(this.owner.upstream);
    const headers = withoutHopByHop(req.headers);
    const upstreamReq = http.request({ host, port, method: req.method, path: req.url, headers, agent: this.agent });
    upstreamReq.on("error", (err: NodeJS.ErrnoException) => {
      if (res.headersSent) {
        exchange.cut = true;
        return void res.destroy();
      }
      const body = `bad gateway: ${err.code ?? err.message}\n`;
      res.writeHead(502, { "content-type": "text/plain; charset=utf-8" }).end(body);
      exchange.bytes = Buffer.byteLength(body);
    });
    res.on("close", () => upstreamReq.destroy());
    req.pipe(upstreamReq);
    const upstreamRes = await new Promise<IncomingMessage | undefined>((resolve) => {
      upstreamReq.once("response", resolve);
      upstreamReq.once("error", () => resolve(undefined));
    });
    if (!upstreamRes) return;
    // Destroyed when the client goes away; its error is expected, and handled by the reads below.
    upstreamRes.on("error", () => {
      exchange.cut = true;
      res.destroy();
    });
    if (res.destroyed) return void upstreamRes.destroy();

    for (const a of applied) if (a.effect.kind === "delay") await sleep(a.effect.ms(), a.record.removed.signal);
    if (res.destroyed) return void upstreamRes.destroy();
    const stale = applied.find((a) => a.effect.kind === "stale-playlist");
    if (stale && upstreamRes.statusCode === 200 && req.method === "GET") {
      exchange.bytes = await this.answerStale(stale.record, path, upstreamRes, res);
      return;
    }

    const throttle = minOf(applied, "throttle", (e) => e.bytesPerMs);
    const truncate = minOf(applied, "truncate", (e) => e.bytes);
    res.writeHead(upstreamRes.statusCode ?? 502, withoutHopByHop(upstreamRes.headers));
    // Headers go out even if the body is cut to nothing.
    if (truncate !== undefined) res.flushHeaders();
    let sent = 0;
    const pacer = throttle ? new Pacer(throttle.value) : undefined;
    for await (const chunk of upstreamRes as AsyncIterable<Buffer>) {
      let data = chunk;
      if (truncate !== undefined && sent + data.length >= truncate.value) data = data.subarray(0, Math.max(0, truncate.value - sent));
      for (let offset = 0; offset < data.length; ) {
        const size = throttle ? Math.max(1, throttle.value * 100) : data.length;
        const piece = data.subarray(offset, offset + size);
        offset += piece.length;
        if (pacer) await sleep(pacer.delayFor(piece.length), throttle!.record.removed.signal);
        if (res.destroyed) return void upstreamRes.destroy();
        pacer?.sent();
        await writeWithBackpressure(res, piece);
        sent += piece.length;
        exchange.bytes = sent;
      }
      if (truncate !== undefined && sent >= truncate.value) {
        // The client sees a body shorter than its Content-Length, then the connection closes.
        exchange.cut = true;
        res.socket?.end();
        upstreamRes.destroy();
        return;
      }
    }
    res.end();
  }

  /** Answers from the frozen playlist; resolves with the body bytes sent. */
  private async answerStale(record: ToxicRecord, path: string, upstreamRes: IncomingMessage, res: ServerResponse): Promise<number> {
    const chunks: Buffer[] = [];
    for await (const chunk of upstreamRes as AsyncIterable<Buffer>) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    let answer: { status: number; headers: IncomingHttpHeaders; body: Buffer } = { status: upstreamRes.statusCode ?? 200, headers: upstreamRes.headers, body };
    // Only media playlists freeze; a master playlist (variants) is passed through.
    if (body.includes("#EXTINF")) {
      let byPath = this.frozen.get(record);
      if (!byPath) {
        byPath = new Map();
        this.frozen.set(record, byPath);
      }
      const frozen = byPath.get(path);
      if (frozen) answer = frozen;
      else byPath.set(path, answer);
    }
    const headers = withoutHopByHop(answer.headers);
    headers["content-length"] = String(answer.body.length);
    res.writeHead(answer.status, headers).end(answer.body);
    return answer.body.length;
  }
}

function minOf<K extends "throttle" | "truncate">(applied: Applied[], kind: K, value: (e: Extract<HttpEffect, { kind: K }>) => number) {
  let best: { value: number; record: ToxicRecord } | undefined;
  for (const a of applied) {
    if (a.effect.kind !== kind) continue;
    const v = value(a.effect as Extract<HttpEffect, { kind: K }>);
    if (!best || v < best.value) best = { value: v, record: a.record };
  }
  return best;
}

/**
 * The request's path, normalised as a URL's: what toxics and traffic filters match. And whether it
 * is an LL-HLS blocking playlist reload (RFC 8216bis: `_HLS_msn` asks the server to hold the
 * answer until that media sequence number is published).
 */
function targetOf(req: IncomingMessage): { path: string; blockingReload: boolean } {
  try {
    const url = new URL(req.url ?? "/", "http://relay");
    return { path: url.pathname, blockingReload: url.searchParams.has("_HLS_msn") };
  } catch {
    return { path: "/", blockingReload: false };
  }
}

function withoutHopByHop(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.includes(name)) out[name] = value;
  return out;
}

/** Who the viewer is: the header, else the cookie, else (when asked) the CMCD session id. */
function viewerKey(req: IncomingMessage, header: string, cookie: string, cmcdSid: string | undefined): string | undefined {
  const fromHeader = req.headers[header.toLowerCase()];
  if (typeof fromHeader === "string" && fromHeader !== "") return fromHeader;
  if (cookie && req.headers.cookie) {
    for (const part of req.headers.cookie.split(";")) {
      const [name, ...rest] = part.trim().split("=");
      if (name === cookie) return rest.join("=");
    }
  }
  return cmcdSid;
}
