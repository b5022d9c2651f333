// One HTTP GET as hls.js's XHR loader makes it: a time limit until the response headers (the time
// to first byte) and one for the whole request, the moments a player measures (sent, first byte,
// done) and the bytes received so far, readable while the body is still arriving, for the ABR's
// abandon rules. Segment bodies are counted and dropped; playlist bodies are kept.

import http from "node:http";
import { failedOnStaleSocket } from "./stale-socket.js";
import type { LoadPolicy } from "./hls-viewer-config.js";

/** Times are performance.now() milliseconds. */
export interface LoadStats {
  sentAt: number;
  /** When the response headers arrived (XHR's loading.first); undefined until then. */
  firstByteAt: number | undefined;
  /** When the body was complete (XHR's loading.end). */
  doneAt: number | undefined;
  loadedBytes: number;
  /** From Content-Length, when the server sent one. */
  totalBytes: number | undefined;
}

export interface Loaded {
  stats: LoadStats;
  /** The body, for requests made with keepBody. */
  body: Buffer | undefined;
}

/** Why a load failed. `status` is what hls.js would see: the HTTP status, or 0 for a network failure. */
export abstract class LoadFailure extends Error {
  abstract readonly status: number;
  abstract readonly timedOut: boolean;
  constructor(
    message: string,
    readonly stats: LoadStats,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The server answered with a status outside 2xx. */
export class HttpStatusFailure extends LoadFailure {
  readonly timedOut = false;
  constructor(
    readonly status: number,
    stats: LoadStats,
  ) {
    super(`HTTP ${status}`, stats);
  }
}

/** The connection failed, or the body was cut short: a browser reports status 0. */
export class NetworkFailure extends LoadFailure {
  readonly status = 0;
  readonly timedOut = false;
}

/** No response headers within maxTimeToFirstByteMs, or no complete body within maxLoadTimeMs. */
export class TimeoutFailure extends LoadFailure {
  readonly status = 0;
  readonly timedOut = true;
}

/** The load was abandoned on purpose (the ABR's emergency switch, or the session ending). */
export class AbortedLoad extends Error {
  constructor() {
    super("aborted");
    this.name = "AbortedLoad";
  }
}

export interface LoadRequest {
  url: string;
  agent: http.Agent | undefined;
  headers: Record<string, string>;
  policy: Pick<LoadPolicy, "maxTimeToFirstByteMs" | "maxLoadTimeMs">;
  keepBody: boolean;
  /** Called with each response's headers as they arrive. */
  onResponse?: (headers: http.IncomingHttpHeaders) => void;
}

export interface LoadHandle {
  /** Live: read it while the body arrives. */
  readonly stats: LoadStats;
  /** Resolves with the body's stats; rejects with a LoadFailure or AbortedLoad. */
  readonly done: Promise<Loaded>;
  abort(): void;
}

export function load(request: LoadRequest): LoadHandle {
  const stats: LoadStats = { sentAt: performance.now(), firstByteAt: undefined, doneAt: undefined, loadedBytes: 0, totalBytes: undefined };
  let abortCurrent: () => void = () => {};
  let aborted = false;
  const done = new Promise<Loaded>((resolve, reject) => {
    const attempt = (fresh: boolean) => {
      abortCurrent = send(request, stats, fresh, resolve, (err, req) => {
        // A browser silently asks again on a fresh connection, inside the same load and its time
        // limits; a player never sees that as an error.
        if (!fresh && !aborted && failedOnStaleSocket(req, err, stats.firstByteAt !== undefined)) attempt(true);
        else reject(err);
      });
    };
    attempt(false);
  });
  return {
    stats,
    done,
    abort() {
      aborted = true;
      abortCurrent();
    },
  };
}

/**
 * Sends one request (on a connection of its own when `fresh`); returns how to abort it. `fail` gets
 * the request for the stale-socket check. Time limits count from the load's first attempt.
 */
function send(request: LoadRequest, stats: LoadStats, fresh: boolean, resolve: (loaded: Loaded) => void, fail: (err: Error, req?: http.ClientRequest) => void): () => void {
  const { policy } = request;
  let settled = false;
  let timer: NodeJS.Timeout | undefined;
  const chunks: Buffer[] = [];
  const settle = (outcome: Loaded | Error) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    if (outcome instanceof Error) fail(outcome, req);
    else resolve(outcome);
  };
  const timeOut = (what: string) => () => {
    req.destroy();
    settle(new TimeoutFailure(what, { ...stats }));
  };
  // Until the headers, the time-to-first-byte limit if there is one; after, what is left of the whole.
  const firstLimit = Number.isFinite(policy.maxTimeToFirstByteMs) ? policy.maxTimeToFirstByteMs : policy.maxLoadTimeMs;
  const spent = performance.now() - stats.sentAt;
  timer = setTimeout(timeOut(Number.isFinite(policy.maxTimeToFirstByteMs) ? `no response within ${firstLimit} ms` : `not loaded within ${firstLimit} ms`), Math.max(0, firstLimit - spent));

  const req = http.get(request.url, { agent: fresh ? false : request.agent, headers: request.headers }, (res) => {
    stats.firstByteAt = Math.max(performance.now(), stats.sentAt);
    request.onResponse?.(res.headers);
    const length = Number(res.headers["content-length"]);
    stats.totalBytes = Number.isFinite(length) ? length : undefined;
    if (Number.isFinite(policy.maxTimeToFirstByteMs)) {
      clearTimeout(timer);
      const left = policy.maxLoadTimeMs - (stats.firstByteAt - stats.sentAt);
      timer = setTimeout(timeOut(`not loaded within ${policy.maxLoadTimeMs} ms`), Math.max(0, left));
    }
    const status = res.statusCode ?? 0;
    res.on("data", (chunk: Buffer) => {
      stats.loadedBytes += chunk.length;
      if (request.keepBody && status >= 200 && status < 300) chunks.push(chunk);
    });
    res.on("end", () => {
      if (!res.complete) return; // cut short: reported by "close"
      stats.doneAt = Math.max(performance.now(), stats.firstByteAt ?? stats.sentAt);
      // Like XHR, an error status is known once its body has arrived (the socket stays reusable).
      if (status < 200 || status >= 300) settle(new HttpStatusFailure(status, { ...stats }));
      else settle({ stats: { ...stats }, body: request.keepBody ? Buffer.concat(chunks) : undefined });
    });
    res.on("close", () => {
      if (!res.complete) settle(new NetworkFailure("the response was cut short", { ...stats }));
    });
    res.on("error", () => {}); // "close" reports it
  });
  req.on("error", (err) => settle(err instanceof LoadFailure ? err : Object.assign(new NetworkFailure(err.message, { ...stats }), { code: (err as NodeJS.ErrnoException).code })));
  return () => {
    if (settled) return;
    req.destroy();
    settle(new AbortedLoad());
  };
}
