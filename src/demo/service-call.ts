// A viewer's call to the page's services (the home rail, the playback API): one request with a
// time limit, resolving with the body of a 200 and rejecting otherwise. As a browser does, a call
// that met a kept-alive connection the server had just closed is sent again on a fresh one.

import http from "node:http";
import { onceMoreIfStale, requestFailure } from "./stale-socket.js";

export interface ServiceCall {
  method?: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

export function callService(agent: http.Agent, url: string, options: ServiceCall): Promise<Buffer> {
  // A POST too, as browsers do: nothing of it reached the service, or the service had closed.
  return onceMoreIfStale(options.timeoutMs, (how) => send(how.fresh ? false : agent, url, options, how.timeoutMs));
}

function send(agent: http.Agent | false, url: string, options: ServiceCall, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(url, { method: options.method ?? "GET", agent, headers: options.headers, timeout: timeoutMs }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`${url} answered ${res.statusCode}`))));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${url}: no answer within ${options.timeoutMs} ms`)));
    req.on("error", (err) => reject(requestFailure(req, err, answered)));
    req.end();
  });
}
