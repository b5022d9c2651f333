// Toxiproxy's HTTP API over a ProxyCollection: same routes, JSON shapes, status codes and error
// bodies, so existing Toxiproxy clients work unchanged.

import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { chaoscastVersion } from "../version.js";
import type { ProxyCollection, ProxyInput } from "./collection.js";
import { apiErrors, ProxyApiError } from "./errors.js";
import { toxicJson, type ToxicInput } from "./proxy.js";
import { checkGlobs } from "./glob.js";
import { MAX_KEPT, MAX_WINDOW_MS, type TrafficFilter } from "./traffic.js";

const MAX_BODY = 1024 * 1024;
const KNOWN_PATHS = new Set(["/version", "/reset", "/proxies", "/populate", "/proxies/:", "/proxies/:/toxics", "/proxies/:/toxics/:", "/proxies/:/cmcd", "/proxies/:/traffic"]);
/** Streams open at once, over all links: each costs a little work per exchange relayed. */
const MAX_TRAFFIC_STREAMS = 64;
let trafficStreams = 0;

/** A duration in a query string: 30s, 500ms, 2m, or milliseconds. */
function queryMs(value: string | null, fallback: number, name: string, maxMs = 24 * 3_600_000): number {
  if (value === null || value === "") return fallback;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value);
  const ms = m ? Number(m[1]) * (m[2] === "s" ? 1000 : m[2] === "m" ? 60_000 : 1) : Number.NaN;
  if (!(ms > 0 && ms <= maxMs)) throw apiErrors.badRequest(`${name}=${value.slice(0, 40)}: expected a duration such as 30s, at most ${maxMs / 1000}s`);
  return ms;
}

/** The window a traffic query asks for: ?window=10s&last=100&cohort=experiment&paths=*.ts */
function trafficFilter(query: URLSearchParams): TrafficFilter {
  const filter: TrafficFilter = { windowMs: queryMs(query.get("window"), 10_000, "window", MAX_WINDOW_MS) };
  const last = query.get("last");
  if (last !== null && last !== "") {
    if (!/^\d{1,6}$/.test(last) || Number(last) < 1 || Number(last) > MAX_KEPT) throw apiErrors.badRequest(`last=${last.slice(0, 40)}: expected a whole number of requests from 1 to ${MAX_KEPT}`);
    filter.last = Number(last);
  }
  const cohort = query.get("cohort");
  if (cohort !== null && cohort !== "") {
    if (cohort !== "experiment" && cohort !== "control") throw apiErrors.badRequest(`cohort=${cohort.slice(0, 40)}: expected experiment or control`);
    filter.cohort = cohort;
  }
  const paths = query.get("paths");
  if (paths !== null && paths !== "") {
    if (paths.length > 2048) throw apiErrors.badRequest("paths: at most 2048 characters of globs");
    const problem = checkGlobs(paths);
    if (problem) throw apiErrors.badRequest(`paths: ${problem}`);
    filter.paths = paths;
  }
  return filter;
}

export function createApiServer(collection: ProxyCollection): http.Server {
  return http.createServer((req, res) => {
    handle(collection, req, res).catch((err: unknown) => sendError(res, err));
  });
}

async function handle(collection: ProxyCollection, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // Like Toxiproxy: refuse browsers, so a web page cannot drive the proxy through the user (CSRF).
  if ((req.headers["user-agent"] ?? "").startsWith("Mozilla/")) {
    res.writeHead(403, { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" }).end("User agent not allowed\n");
    return;
  }
  const url = new URL(req.url ?? "/", "http://localhost");
  let parts: string[];
  try {
    parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    parts = ["\u0000"]; // a malformed %-escape names nothing: 404 below
  }
  const method = req.method ?? "GET";
  const route = `${method} /${parts.map((p, i) => (i % 2 === 1 ? ":" : p)).join("/")}`;

  switch (route) {
    case "GET /version":
      res.writeHead(200, { "content-type": "application/json;charset=utf-8" }).end(`{"version": "${chaoscastVersion()}"}\n`);
      return;
    case "POST /reset":
      await collection.reset();
      await collection.synced();
      res.writeHead(204).end();
      return;
    case "GET /proxies":
      return sendJson(res, 200, Object.fromEntries(collection.all().map((p) => [p.name, p.toJSON()])));
    case "POST /proxies": {
      const proxy = await collection.create(asObject(await readJson(req)) as ProxyInput);
      await collection.synced();
      return sendJson(res, 201, proxy.toJSON());
    }
    case "POST /populate": {
      const body = await readJson(req);
      if (!Array.isArray(body)) throw apiErrors.badBody("expected a list of proxies");
      try {
        const proxies = await collection.populate(body as ProxyInput[]);
        await collection.synced();
        return sendJson(res, 201, { proxies: proxies.map((p) => p.toJSON()) });
      } catch (err) {
        // Toxiproxy answers populate errors as JSON with the error fields and the proxies list.
        if (!(err instanceof ProxyApiError)) throw err;
        return sendJson(res, err.status, { error: err.message, status: err.status, proxies: null });
      }
    }
    case "GET /proxies/:":
      return sendJson(res, 200, collection.get(parts[1]!).toJSON());
    case "POST /proxies/:":
    case "PATCH /proxies/:": {
      collection.get(parts[1]!);
      const proxy = await collection.update(parts[1]!, asObject(await readJson(req)) as ProxyInput);
      // Disabled or moved: its connections in the relay processes are gone before the answer.
      await collection.synced();
      return sendJson(res, 200, proxy.toJSON());
    }
    case "DELETE /proxies/:":
      await collection.remove(parts[1]!);
      await collection.synced();
      res.writeHead(204).end();
      return;
    case "GET /proxies/:/cmcd": {
      // chaoscast extension: the QoE players report in CMCD on an HTTP link.
      const cmcd = collection.get(parts[1]!).cmcd();
      if (!cmcd) throw apiErrors.badRequest(`proxy ${parts[1]} is not an HTTP link: CMCD is read from the requests an HTTP link relays (create it with "http": true)`);
      const windowMs = queryMs(url.searchParams.get("window"), 30_000, "window");
      const deadlineMs = queryMs(url.searchParams.get("startDeadline"), 5_000, "startDeadline");
      return sendJson(res, 200, cmcd.summary(windowMs, deadlineMs));
    }
    case "GET /proxies/:/traffic": {
      // chaoscast extension: what an HTTP link relayed, over a window; with stream=true, an NDJSON
      // line now and at each change, until the client goes away.
      const traffic = collection.get(parts[1]!).traffic();
      if (!traffic) throw apiErrors.badRequest(`proxy ${parts[1]} is not an HTTP link: its traffic is read from the requests an HTTP link relays (create it with "http": true)`);
      const filter = trafficFilter(url.searchParams);
      const stream = url.searchParams.get("stream");
      if (stream !== null && stream !== "true" && stream !== "false") throw apiErrors.badRequest(`stream=${stream.slice(0, 40)}: expected true or false`);
      if (stream !== "true") return sendJson(res, 200, traffic.snapshot(filter));
      if (trafficStreams >= MAX_TRAFFIC_STREAMS) throw new ProxyApiError(`too many traffic streams open (${MAX_TRAFFIC_STREAMS})`, 429);
      trafficStreams += 1;
      res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
      res.flushHeaders();
      // Nagle would hold a small line back for the peer's ack: every line is sent as it is written.
      res.socket?.setNoDelay(true);
      // A client that does not read is not sent more: figures that change meanwhile are skipped,
      // and the next push after it drains carries the latest.
      let blocked = false;
      const unsubscribe = traffic.subscribe(
        filter,
        (stats) => {
          // The client may have gone in this very turn, before "close" unsubscribed it.
          if (blocked || res.destroyed || res.writableEnded) return;
          if (!res.write(`${JSON.stringify(stats)}\n`)) {
            blocked = true;
            res.once("drain", () => (blocked = false));
          }
        },
        () => res.end(),
      );
      res.once("close", () => {
        trafficStreams -= 1;
        unsubscribe();
      });
      return;
    }
    case "GET /proxies/:/toxics":
      return sendJson(res, 200, collection.get(parts[1]!).listToxics().map(toxicJson));
    case "POST /proxies/:/toxics": {
      const proxy = collection.get(parts[1]!);
      const toxic = proxy.addToxic(asObject(await readJson(req)) as ToxicInput);
      // In effect on every connection, the relay processes' included, before the answer.
      await collection.synced();
      return sendJson(res, 200, toxicJson(toxic));
    }
    case "GET /proxies/:/toxics/:":
      return sendJson(res, 200, toxicJson(collection.get(parts[1]!).getToxic(parts[3]!)));
    case "POST /proxies/:/toxics/:":
    case "PATCH /proxies/:/toxics/:": {
      const proxy = collection.get(parts[1]!);
      const toxic = proxy.updateToxic(parts[3]!, asObject(await readJson(req)) as ToxicInput);
      await collection.synced();
      return sendJson(res, 200, toxicJson(toxic));
    }
    case "DELETE /proxies/:/toxics/:":
      collection.get(parts[1]!).removeToxic(parts[3]!);
      await collection.synced();
      res.writeHead(204).end();
      return;
    default:
      // A known path with another method: 405, as Toxiproxy's router answers.
      if (KNOWN_PATHS.has(route.slice(route.indexOf(" ") + 1))) {
        res.writeHead(405).end();
        return;
      }
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" }).end("404 page not found\n");
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw apiErrors.badBody("body too large");
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") throw apiErrors.badBody("EOF");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw apiErrors.badBody((err as Error).message);
  }
}

function asObject(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw apiErrors.badBody("expected a JSON object");
  return value as Record<string, unknown>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

function sendError(res: ServerResponse, err: unknown): void {
  const error = err instanceof ProxyApiError ? err : new ProxyApiError(err instanceof Error ? err.message : String(err), 500);
  if (res.headersSent) return void res.destroy();
  // Toxiproxy answers errors through Go's http.Error: a JSON text body served as text/plain.
  res
    .writeHead(error.status, { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" })
    .end(`${JSON.stringify({ error: error.message, status: error.status })}\n`);
}
