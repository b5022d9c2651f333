// The business services of the embedded stack: payment (entitlements), recommendations (the home
// rail) and the playback API, which issues sessions and must keep working when payment is down.

import http from "node:http";
import { randomBytes } from "node:crypto";
import { Counter, Registry } from "prom-client";
import { startService, type Service } from "./http-service.js";

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
}

export async function startPayment(port = 0): Promise<Service> {
  const registry = new Registry();
  const requests = new Counter({ name: "payment_requests_total", help: "Entitlement lookups.", labelNames: ["outcome"], registers: [registry] });
  return startService("payment", port, registry, (_req, res, url) => {
    const user = /^\/entitlements\/([\w-]+)$/.exec(url.pathname)?.[1];
    if (!user) return json(res, 404, { error: "not found" });
    requests.inc({ outcome: "ok" });
    // Every demo viewer has a subscription; users named "lapsed-*" do not.
    json(res, 200, { user, entitled: !user.startsWith("lapsed-"), plan: "premium" });
  });
}

export async function startRecommendations(port = 0): Promise<Service> {
  const registry = new Registry();
  const requests = new Counter({ name: "recommendations_requests_total", help: "Home rail requests.", labelNames: ["outcome"], registers: [registry] });
  return startService("recommendations", port, registry, (_req, res, url) => {
    if (url.pathname !== "/rail") return json(res, 404, { error: "not found" });
    requests.inc({ outcome: "ok" });
    json(res, 200, { rail: [{ id: "demo", title: "Test Pattern: The Movie", kind: "vod" }, { id: "live", title: "Test Pattern Live", kind: "live" }] });
  });
}

export interface PlaybackApiOptions {
  port?: number;
  paymentUrl: string;
  /** Base URL viewers fetch manifests from (the edge). */
  cdnUrl: string;
  /** How long an entitlement stays cached. */
  cacheMs?: number;
  /** How long to wait for payment before falling back. */
  paymentTimeoutMs?: number;
}

export async function startPlaybackApi(options: PlaybackApiOptions): Promise<Service> {
  const registry = new Registry();
  const sessions = new Counter({ name: "playback_api_sessions_total", help: "Playback sessions by outcome.", labelNames: ["outcome"], registers: [registry] });
  const checks = new Counter({ name: "entitlement_checks_total", help: "Entitlement decisions by source: payment, cache, or fallback when payment failed.", labelNames: ["source"], registers: [registry] });
  const cache = new Map<string, { entitled: boolean; until: number }>();
  const cacheMs = options.cacheMs ?? 60_000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

  const askPayment = (user: string): Promise<boolean> =>
    new Promise((resolve, reject) => {
      const req = http.get(`${options.paymentUrl}/entitlements/${user}`, { agent, timeout: options.paymentTimeoutMs ?? 300 }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => {
          try {
            if (res.statusCode !== 200) throw new Error(`payment answered ${res.statusCode}`);
            resolve((JSON.parse(body) as { entitled: boolean }).entitled);
          } catch (err) {
            reject(err);
          }
        });
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error("payment timed out")));
      req.on("error", reject);
    });

  const entitled = async (user: string): Promise<boolean> => {
    const cached = cache.get(user);
    if (cached && cached.until > Date.now()) {
      checks.inc({ source: "cache" });
      return cached.entitled;
    }
    try {
      const answer = await askPayment(user);
      cache.set(user, { entitled: answer, until: Date.now() + cacheMs });
      checks.inc({ source: "payment" });
      return answer;
    } catch {
      // A payment outage must never block playback: use the last known answer, else let them watch.
      checks.inc({ source: "fallback" });
      return cached?.entitled ?? true;
    }
  };

  const service = await startService("playback-api", options.port ?? 0, registry, async (req, res, url) => {
    const match = /^\/session\/(vod|live)$/.exec(url.pathname);
    if (req.method !== "POST" || !match) return json(res, 404, { error: "not found" });
    const user = String(req.headers["x-viewer-id"] ?? "anonymous").replace(/[^\w-]/g, "");
    req.resume();
    if (!(await entitled(user))) {
      sessions.inc({ outcome: "not_entitled" });
      return json(res, 403, { error: "no subscription" });
    }
    sessions.inc({ outcome: "ok" });
    json(res, 200, { token: randomBytes(8).toString("hex"), manifestUrl: `${options.cdnUrl}/${match[1]}/demo/master.m3u8` });
  });
  const close = service.close;
  return { ...service, close: async () => { agent.destroy(); await close(); } };
}
