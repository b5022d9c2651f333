// Timed HTTP requests on fresh connections, for measuring what a fault does to a link.

import http from "node:http";

/** Milliseconds for one GET on a new connection, body included. */
export function timedGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    http
      .get(url, { agent: false }, (res) => {
        res.resume();
        res.on("end", () => resolve(performance.now() - started));
      })
      .on("error", reject);
  });
}

/** Status and body bytes of one GET on a new connection, or the error code. */
export function fetchBytes(url: string, timeoutMs = 5000): Promise<{ status?: number; bytes: number; error?: string; ms: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    let bytes = 0;
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.on("data", (chunk: Buffer) => (bytes += chunk.length));
      res.on("end", () => resolve({ status: res.statusCode!, bytes, ms: performance.now() - started }));
      res.on("error", (err: NodeJS.ErrnoException) => resolve({ status: res.statusCode!, bytes, error: err.code ?? err.message, ms: performance.now() - started }));
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
    req.on("error", (err: NodeJS.ErrnoException) => resolve({ bytes, error: err.code ?? err.message, ms: performance.now() - started }));
  });
}

/** Starts a GET and gives up after `afterMs` whatever has arrived, as a player cancelling a download. */
export function abandonDownload(url: string, afterMs: number): Promise<{ bytes: number; complete: boolean }> {
  return new Promise((resolve) => {
    let bytes = 0;
    const req = http.get(url, { agent: false, signal: AbortSignal.timeout(afterMs) }, (res) => {
      res.on("data", (chunk: Buffer) => (bytes += chunk.length));
      res.on("end", () => resolve({ bytes, complete: true }));
      res.on("error", () => resolve({ bytes, complete: false }));
    });
    req.on("error", () => resolve({ bytes, complete: false }));
  });
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
