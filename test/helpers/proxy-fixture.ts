// A fault proxy server and an upstream test server for a test file, and a helper that puts a fresh
// proxy (optionally HTTP-aware, with toxics) in front of the upstream.

import { afterAll, beforeAll } from "vitest";
import { startProxyServer, type ProxyServer } from "../../src/proxy/server.js";
import type { FaultProxy } from "../../src/proxy/proxy.js";
import { startServer, type TestServer } from "./processes.js";

export interface LinkOptions {
  http?: boolean;
  toxics?: Record<string, unknown>[];
  listen?: string;
}

export interface TestLink {
  name: string;
  proxy: FaultProxy;
  /** http://host:port of the proxy's listen address. */
  base: string;
  port: number;
}

export function useProxyFixture() {
  let server: ProxyServer | undefined;
  let upstream: TestServer | undefined;
  let counter = 0;
  /** What the proxy server reported, in order: leases that ran out, and leases it could not honour yet. */
  const events = { expired: [] as { proxy: string; toxic: string }[], leaseErrors: [] as { proxy: string; message: string }[] };
  beforeAll(async () => {
    server = await startProxyServer({
      api: "127.0.0.1:0",
      events: {
        onToxicExpired(proxy, toxic) {
          events.expired.push({ proxy, toxic });
        },
        onLeaseError(proxy, message) {
          events.leaseErrors.push({ proxy, message });
        },
      },
    });
    upstream = await startServer();
  });
  afterAll(async () => {
    await server?.close();
    await upstream?.stop();
  });
  return {
    get server(): ProxyServer {
      return server!;
    },
    get upstream(): TestServer {
      return upstream!;
    },
    events,
    async link(options: LinkOptions = {}): Promise<TestLink> {
      const name = `link-${++counter}`;
      const proxy = await server!.collection.create({ name, upstream: `127.0.0.1:${upstream!.port}`, http: options.http ?? false, ...(options.listen ? { listen: options.listen } : {}) });
      for (const toxic of options.toxics ?? []) proxy.addToxic(toxic);
      return { name, proxy, base: `http://${proxy.listen}`, port: Number(proxy.listen.split(":").pop()) };
    },
  };
}
