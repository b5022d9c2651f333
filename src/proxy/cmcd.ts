// Common Media Client Data (CTA-5004) seen in the traffic an HTTP link relays: players that send
// CMCD (hls.js, dash.js, Shaka, the demo's viewers) say with every request who they are (sid),
// how much they have buffered (bl), whether they ran dry (bs), what they measured (mtp) and whether
// they are still starting (su). The collector keeps a small record per session, so a probe can read
// the QoE of real players' traffic with no player SDK. Everything in it came from clients: only
// numbers, flags and a bounded session id are kept, and the number of sessions is capped.

import type { IncomingMessage } from "node:http";

/** What one request said. */
export interface CmcdSample {
  sid: string;
  bufferMs?: number;
  starved: boolean;
  throughputKbps?: number;
  startup: boolean;
  bitrateKbps?: number;
  live?: boolean;
}

interface Session {
  sid: string;
  firstAt: number;
  lastAt: number;
  requests: number;
  /** When the first request without su (startup done) arrived; undefined while starting. */
  startedAt: number | undefined;
  /** Times a request said bs (buffer starvation since the last request). Last 64 kept. */
  starvedAt: number[];
  starvations: number;
  bufferMs: number | undefined;
  throughputKbps: number | undefined;
  bitrateKbps: number | undefined;
  errors: number;
  live: boolean | undefined;
}

export interface CmcdSummary {
  windowMs: number;
  /** Sessions that sent a request within the window. */
  sessions: number;
  /** Sessions that began within the window and whose start is decided (started, or past the deadline). */
  starts: number;
  /** Of those, the ones that did not finish starting within the deadline. */
  startFailures: number;
  videoStartFailureRate: number | null;
  startupMsMedian: number | null;
  starvationEvents: number;
  starvedSessions: number;
  bufferMsMedian: number | null;
  throughputKbpsMedian: number | null;
  bitrateKbpsMean: number | null;
  /** Requests in the window whose answer was an error (status ≥ 400). */
  errorResponses: number;
}

const MAX_SESSIONS = 20_000;
/** A session silent this long is forgotten. */
const FORGET_AFTER_MS = 10 * 60_000;
const MAX_SID = 64;
const MAX_STARVED_KEPT = 64;

type Decoder = (params: URLSearchParams) => Record<string, unknown>;
type HeaderDecoder = (headers: Record<string, string>) => Record<string, unknown>;

let decoders: Promise<{ query: Decoder; headers: HeaderDecoder }> | undefined;

/** The CMCD parser (@svta/cml-cmcd), loaded once, when the first HTTP link starts. */
export function loadCmcdDecoders(): Promise<{ query: Decoder; headers: HeaderDecoder }> {
  decoders ??= import("@svta/cml-cmcd").then((m) => ({
    query: (params) => m.fromCmcdQuery(params) as Record<string, unknown>,
    headers: (headers) => m.fromCmcdHeaders(headers) as Record<string, unknown>,
  }));
  return decoders;
}

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);

/** The CMCD a request carries, from its query (CMCD=…) or its CMCD-* headers; undefined without a session id. */
export function readCmcd(req: Pick<IncomingMessage, "url" | "headers">, decode: { query: Decoder; headers: HeaderDecoder }): CmcdSample | undefined {
  let data: Record<string, unknown> | undefined;
  try {
    const query = new URL(req.url ?? "/", "http://relay").searchParams;
    if (query.has("CMCD")) data = decode.query(query);
    else {
      const headers: Record<string, string> = {};
      for (const name of ["cmcd-request", "cmcd-object", "cmcd-status", "cmcd-session"]) {
        const value = req.headers[name];
        if (typeof value === "string") headers[name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => `${dash}${c.toUpperCase()}`).replace("Cmcd", "CMCD")] = value;
      }
      if (Object.keys(headers).length > 0) data = decode.headers(headers);
    }
  } catch {
    return undefined; // not CMCD a parser can read: the request is relayed all the same
  }
  const sid = data?.sid;
  if (typeof sid !== "string" || sid === "" || sid.length > MAX_SID) return undefined;
  return {
    sid,
    bufferMs: num(data!.bl),
    starved: data!.bs === true,
    throughputKbps: num(data!.mtp),
    startup: data!.su === true,
    bitrateKbps: num(data!.br),
    ...(data!.st === "l" ? { live: true } : data!.st === "v" ? { live: false } : {}),
  };
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export class CmcdCollector {
  private readonly sessions = new Map<string, Session>();
  /** Error answers, by time, for the window (bounded). */
  private readonly errorTimes: number[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  record(sample: CmcdSample): void {
    const at = this.now();
    let session = this.sessions.get(sample.sid);
    if (!session) {
      if (this.sessions.size >= MAX_SESSIONS) this.forget(at, true);
      session = { sid: sample.sid, firstAt: at, lastAt: at, requests: 0, startedAt: undefined, starvedAt: [], starvations: 0, bufferMs: undefined, throughputKbps: undefined, bitrateKbps: undefined, errors: 0, live: undefined };
      this.sessions.set(sample.sid, session);
    } else {
      // Map order is by last activity: the oldest are evicted first.
      this.sessions.delete(sample.sid);
      this.sessions.set(sample.sid, session);
    }
    session.lastAt = at;
    session.requests += 1;
    if (!sample.startup && session.startedAt === undefined && session.requests > 1) session.startedAt = at;
    if (sample.starved) {
      session.starvations += 1;
      session.starvedAt.push(at);
      if (session.starvedAt.length > MAX_STARVED_KEPT) session.starvedAt.shift();
    }
    if (sample.bufferMs !== undefined) session.bufferMs = sample.bufferMs;
    if (sample.throughputKbps !== undefined) session.throughputKbps = sample.throughputKbps;
    if (sample.bitrateKbps !== undefined) session.bitrateKbps = sample.bitrateKbps;
    if (sample.live !== undefined) session.live = sample.live;
  }

  /** An answer of status ≥ 400 to a session's request. */
  recordError(sid: string): void {
    const session = this.sessions.get(sid);
    if (session) session.errors += 1;
    this.errorTimes.push(this.now());
    if (this.errorTimes.length > 100_000) this.errorTimes.splice(0, this.errorTimes.length - 100_000);
  }

  private forget(at: number, evictOne: boolean): void {
    for (const [sid, s] of this.sessions) {
      if (at - s.lastAt > FORGET_AFTER_MS) this.sessions.delete(sid);
      else break; // ordered by last activity
    }
    if (evictOne && this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
  }

  /**
   * The QoE of the sessions active in the last `windowMs`. A start is decided once the session
   * has finished starting, or has been starting for longer than `startDeadlineMs`; a start that
   * took longer than the deadline is a failure, as a viewer who gave up would count it.
   */
  summary(windowMs: number, startDeadlineMs: number): CmcdSummary {
    const at = this.now();
    this.forget(at, false);
    const since = at - windowMs;
    const active = [...this.sessions.values()].filter((s) => s.lastAt >= since);
    let starts = 0;
    let startFailures = 0;
    const startups: number[] = [];
    for (const s of this.sessions.values()) {
      if (s.firstAt < since) continue;
      const took = s.startedAt === undefined ? undefined : s.startedAt - s.firstAt;
      if (took !== undefined) {
        starts += 1;
        startups.push(took);
        if (took > startDeadlineMs) startFailures += 1;
      } else if (at - s.firstAt > startDeadlineMs) {
        starts += 1;
        startFailures += 1;
      }
    }
    const starvationEvents = active.reduce((n, s) => n + s.starvedAt.filter((t) => t >= since).length, 0);
    const bitrates = active.flatMap((s) => (s.bitrateKbps === undefined ? [] : [s.bitrateKbps]));
    return {
      windowMs,
      sessions: active.length,
      starts,
      startFailures,
      videoStartFailureRate: starts === 0 ? null : startFailures / starts,
      startupMsMedian: median(startups),
      starvationEvents,
      starvedSessions: active.filter((s) => s.starvedAt.some((t) => t >= since)).length,
      bufferMsMedian: median(active.flatMap((s) => (s.bufferMs === undefined ? [] : [s.bufferMs]))),
      throughputKbpsMedian: median(active.flatMap((s) => (s.throughputKbps === undefined ? [] : [s.throughputKbps]))),
      bitrateKbpsMean: bitrates.length === 0 ? null : bitrates.reduce((a, b) => a + b, 0) / bitrates.length,
      errorResponses: this.errorTimes.filter((t) => t >= since).length,
    };
  }
}
