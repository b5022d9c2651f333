// The whole embedded OTT stack on 127.0.0.1: origin (region A, and a standby in region B), CDN
// edge, playback API, payment, recommendations and synthetic viewers, with every link between them
// on the fault proxy so that experiments can fault each one.

import { startProxyServer, type ProxyServer } from "../proxy/server.js";
import { startEdge } from "./edge.js";
import type { Service } from "./http-service.js";
import { startOrigin } from "./origin.js";
import { startPayment, startPlaybackApi, startRecommendations } from "./services.js";
import { startViewers } from "./viewers.js";
import type { ContainerRole } from "./containers.js";

export interface Stack {
  proxy: ProxyServer;
  services: Record<"origin" | "originB" | "edge" | "payment" | "recommendations" | "playbackApi" | "viewers", Service>;
  /** Values for experiments' ${vars.*}: URLs and the proxy API. */
  vars: Record<string, string>;
  stop(): Promise<void>;
}

export interface StackOptions {
  viewers?: number;
  /** Run these services as Docker containers (labelled ott.role=<service>) instead of in-process. */
  containers?: readonly ContainerRole[];
  /** Fixed ports (0 or absent: free ones). */
  proxyApiPort?: number;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const started: { close(): Promise<void> }[] = [];
  try {
    const inContainer = async (role: ContainerRole, inProcess: () => Promise<Service>, args: string[] = []) => {
      if (!options.containers?.includes(role)) return inProcess();
      const { startInContainer, freePort } = await import("./containers.js");
      return startInContainer(role, await freePort(), args);
    };
    const origin = await inContainer("origin", () => startOrigin());
    started.push(origin);
    // Region B: a second origin serving the same ladder, the edge's failover.
    const originB = await startOrigin();
    started.push(originB);
    const payment = await inContainer("payment", () => startPayment());
    started.push(payment);
    const recommendations = await inContainer("recommendations", () => startRecommendations());
    started.push(recommendations);
    const proxy = await startProxyServer({
      api: `127.0.0.1:${options.proxyApiPort ?? 0}`,
      proxies: [
        { name: "edge-origin", upstream: `127.0.0.1:${origin.port}`, http: true },
        { name: "edge-origin-b", upstream: `127.0.0.1:${originB.port}`, http: true },
        { name: "api-payment", upstream: `127.0.0.1:${payment.port}` },
        { name: "recommendations", upstream: `127.0.0.1:${recommendations.port}` },
      ],
    });
    started.push(proxy);
    const link = (name: string) => `http://${proxy.collection.get(name).listen}`;
    const edge = await inContainer("edge", () => startEdge({ originUrl: link("edge-origin"), failoverUrl: link("edge-origin-b") }), ["--upstream", link("edge-origin"), "--failover", link("edge-origin-b")]);
    started.push(edge);
    // Viewers reach the edge through a link of its own, so faults can be scoped to viewers.
    await proxy.collection.create({ name: "player-edge", upstream: `127.0.0.1:${edge.port}`, http: true });
    const playbackApi = await startPlaybackApi({ paymentUrl: link("api-payment"), cdnUrl: link("player-edge") });
    started.push(playbackApi);
    const viewers = await startViewers({ count: options.viewers ?? 160, playbackApiUrl: playbackApi.url, recommendationsUrl: link("recommendations") });
    started.push({ close: () => viewers.stop() });
    const vars = {
      proxy_api: proxy.url.replace("http://", ""),
      viewers_metrics: `${viewers.url}/metrics`,
      api_metrics: `${playbackApi.url}/metrics`,
      cdn: link("player-edge"),
      edge_metrics: `${edge.url}/metrics`,
      playback_api: playbackApi.url,
    };
    return {
      proxy,
      services: { origin, originB, edge, payment, recommendations, playbackApi, viewers },
      vars,
      async stop() {
        for (const s of started.reverse()) await s.close().catch(() => {});
      },
    };
  } catch (err) {
    for (const s of started.reverse()) await s.close().catch(() => {});
    throw err;
  }
}
