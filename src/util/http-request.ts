// One HTTP request on a fresh connection (as a new viewer would make it), timed to the first byte
// and to the end of the body. No pooling: a stalled server must show up as a stalled request.

import http from "node:http";
import https from "node:https";
import { abortMessage } from "./abortable.js";

export interface HttpRequestOptions {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string | undefined;
  timeoutMs: number;
  signal: AbortSignal;
  /** Keep at most this many bytes of the body (the rest is read and discarded). */
  maxBodyBytes?: number;
  insecure?: boolean;
  /** PEM contents: a CA to trust, and a client certificate and key for servers that ask for one. */
  tls?: { ca?: string; cert?: string; key?: string };
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  bodyBytes: number;
  ttfbMs: number;
  latencyMs: number;
}

export class HttpRequestError extends Error {
  constructor(message: string, readonly elapsedMs: number) {
    super(message);
  }
}

export function httpRequest(options: HttpRequestOptions): Promise<HttpResponse> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  return new Promise((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let req: http.ClientRequest | undefined;
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener("abort", onAbort);
      req?.destroy();
      reject(new HttpRequestError(message, elapsed()));
    };
    const onAbort = () => fail(abortMessage(options.signal, options.timeoutMs));
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      return fail("not a valid URL");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return fail(`${url.protocol} URLs are not requested; only http: and https:`);
    // A timeout Node cannot hold (over ~24.8 days, or not a positive number) is refused, not wrapped to 1 ms.
    if (!(options.timeoutMs > 0 && options.timeoutMs <= 2 ** 31 - 1)) return fail(`a timeout of ${options.timeoutMs} ms is out of range`);
    const client = url.protocol === "https:" ? https : http;
    timer = setTimeout(() => fail(`timed out after ${options.timeoutMs}ms`), options.timeoutMs);
    try {
      req = client.request(
        url,
        {
          method: options.method,
          headers: options.body !== undefined ? { "content-length": String(Buffer.byteLength(options.body)), ...options.headers } : options.headers,
          agent: false,
          rejectUnauthorized: !options.insecure,
          ...(url.protocol === "https:" && options.tls ? options.tls : {}),
        },
        (res) => {
          const ttfbMs = elapsed();
          const chunks: Buffer[] = [];
          let kept = 0;
          let total = 0;
          res.on("data", (chunk: Buffer) => {
            total += chunk.length;
            if (kept < maxBody) {
              chunks.push(chunk.subarray(0, maxBody - kept));
              kept += Math.min(chunk.length, maxBody - kept);
            }
          });
          res.on("error", (err) => fail(err.message));
          res.on("end", () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            options.signal.removeEventListener("abort", onAbort);
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(res.headers)) {
              if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
            }
            resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString("utf8"), bodyBytes: total, ttfbMs, latencyMs: elapsed() });
          });
        },
      );
    } catch (err) {
      // Node checks the method and header names and values before sending: an invalid one throws here.
      return fail((err as Error).message);
    }
    req.on("error", (err: NodeJS.ErrnoException) => fail(err.code ? `${err.code} ${err.message.replace(new RegExp(`^.*${err.code}\\s*`), "")}`.trim() : err.message));
    if (options.signal.aborted) return onAbort();
    options.signal.addEventListener("abort", onAbort, { once: true });
    req.end(options.body);
  });
}
