// Reading a chaoscast proxy's traffic stream: one NDJSON line of figures now and at each change,
// over a single long-lived request. Resolves when the caller's signal ends the stream; rejects when
// the proxy cannot be reached, refuses, or goes away, or when nothing arrives for too long.

import http from "node:http";
import { AdapterError } from "../../errors.js";

/** A line is a few hundred bytes: anything much longer is not what the proxy sends. */
const MAX_LINE = 64 * 1024;

export interface TrafficStreamOptions {
  /** host:port of the proxy's API. */
  api: string;
  /** Path and query, e.g. /proxies/edge/traffic?window=10s&stream=true */
  path: string;
  signal: AbortSignal;
  /** Give up when the first line, or the next one, is this late (the proxy sends one at least every second). */
  silenceMs: number;
  onLine(value: unknown): void;
}

export function readTrafficStream(options: TrafficStreamOptions): Promise<void> {
  const [host, port] = [options.api.slice(0, options.api.lastIndexOf(":")), Number(options.api.slice(options.api.lastIndexOf(":") + 1))];
  return new Promise((resolve, reject) => {
    let settled = false;
    let silence: NodeJS.Timeout | undefined;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(silence);
      options.signal.removeEventListener("abort", onAbort);
      req.destroy();
      if (err) reject(err);
      else resolve();
    };
    const onAbort = () => finish();
    const armSilence = () => {
      clearTimeout(silence);
      silence = setTimeout(() => finish(new AdapterError(`the fault proxy at ${options.api} sent nothing for ${options.silenceMs}ms on its traffic stream`)), options.silenceMs);
    };
    const req = http.get({ host, port, path: options.path, agent: false, headers: { "user-agent": "chaoscast", accept: "application/x-ndjson" } }, (res) => {
      if (res.statusCode !== 200) {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (body.length < 4096) body += chunk;
        });
        res.on("end", () => {
          let message = body.trim();
          try {
            message = (JSON.parse(message) as { error?: string }).error ?? message;
          } catch {
            // not JSON: the text as it came
          }
          finish(new AdapterError(`the fault proxy at ${options.api} answered ${res.statusCode} for its traffic stream: ${message.slice(0, 300) || "(no body)"}`));
        });
        return;
      }
      let pending = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        armSilence();
        pending += chunk;
        for (let newline = pending.indexOf("\n"); newline >= 0; newline = pending.indexOf("\n")) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          let value: unknown;
          try {
            value = JSON.parse(line);
          } catch {
            return finish(new AdapterError(`the fault proxy at ${options.api} sent a traffic line that is not JSON`));
          }
          options.onLine(value);
          if (settled) return;
        }
        if (pending.length > MAX_LINE) finish(new AdapterError(`the fault proxy at ${options.api} sent a traffic line over ${MAX_LINE} bytes`));
      });
      res.on("end", () => finish(new AdapterError(`the fault proxy at ${options.api} ended the traffic stream (was the link removed?)`)));
      res.on("error", (err) => finish(new AdapterError(`the traffic stream from ${options.api} broke: ${err.message}`)));
    });
    req.on("error", (err) => finish(new AdapterError(`no fault proxy answers at ${options.api} (${err.message})`)));
    armSilence();
    if (options.signal.aborted) finish();
    else options.signal.addEventListener("abort", onAbort, { once: true });
  });
}
