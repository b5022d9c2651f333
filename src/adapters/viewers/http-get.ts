// GET for the crowd: keep-alive connections (a real player keeps its connection, and thousands of
// fresh connections a second would exhaust the ephemeral ports), a deadline per request, and the
// body kept only when it is a playlist to read.

import http from "node:http";
import https from "node:https";

export interface GetResult {
  status: number;
  /** The body as text, when asked for (capped); else empty. */
  text: string;
  bytes: number;
  /** The Location header of a redirect. */
  location: string | undefined;
}

const MAX_TEXT_BYTES = 2 * 1024 * 1024;

export function makeAgents(): { http: http.Agent; https: https.Agent; destroy(): void } {
  const options = { keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, maxFreeSockets: 8_192, scheduling: "lifo" as const };
  const agents = { http: new http.Agent(options), https: new https.Agent(options) };
  return {
    ...agents,
    destroy() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

export function get(
  url: string,
  options: { agents: { http: http.Agent; https: https.Agent }; headers: Record<string, string>; timeoutMs: number; signal: AbortSignal; keepText: boolean },
): Promise<GetResult> {
  return new Promise((resolve, reject) => {
    if (options.signal.aborted) return reject(new Error("stopped"));
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return reject(new Error(`not a valid URL: ${url}`));
    }
    const secure = parsed.protocol === "https:";
    if (!secure && parsed.protocol !== "http:") return reject(new Error(`only http: and https: URLs are requested, not ${parsed.protocol}`));
    let settled = false;
    const finish = (err: Error | null, result?: GetResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener("abort", onAbort);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(result!);
    };
    const onAbort = () => finish(new Error("stopped"));
    const timer = setTimeout(() => finish(new Error(`timed out after ${options.timeoutMs} ms`)), options.timeoutMs);
    const req = (secure ? https : http).request(parsed, { method: "GET", headers: options.headers, agent: secure ? options.agents.https : options.agents.http }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
        if (options.keepText && bytes <= MAX_TEXT_BYTES) chunks.push(chunk);
      });
      res.on("end", () => {
        // A playlist cut short would be read as if whole (a live one would lose its live edge).
        if (options.keepText && bytes > MAX_TEXT_BYTES) return finish(new Error(`${url} is over ${MAX_TEXT_BYTES / 1024 / 1024} MB: too big a playlist to read`));
        finish(null, { status: res.statusCode ?? 0, text: options.keepText ? Buffer.concat(chunks).toString("utf8") : "", bytes, location: res.headers.location });
      });
      res.on("error", (err) => finish(err));
      res.on("aborted", () => finish(new Error("the response was cut short")));
    });
    req.on("error", (err) => finish(err));
    options.signal.addEventListener("abort", onAbort, { once: true });
    req.end();
  });
}
