// A running fault proxy: the API server plus its proxies. Used by `chaoscast proxy` and by tests.

import type { AddressInfo } from "node:net";
import { createApiServer } from "./api.js";
import { ProxyCollection, type ProxyInput } from "./collection.js";
import type { ProxyEvents } from "./proxy.js";
import { splitHostPort } from "./address.js";

export interface ProxyServer {
  /** Base URL of the API, e.g. http://127.0.0.1:8474 */
  url: string;
  collection: ProxyCollection;
  close(): Promise<void>;
}

export interface ProxyServerOptions {
  api: string;
  proxies?: ProxyInput[];
  events?: ProxyEvents & { onRelayExit?(message: string): void };
  /** Relay processes for TCP links (0 or absent: every link is relayed in this process). */
  relayProcesses?: number;
}

export async function startProxyServer(options: ProxyServerOptions): Promise<ProxyServer> {
  const pool = options.relayProcesses ? await (await import("./relay-pool.js")).RelayPool.start(options.relayProcesses, options.events?.onRelayExit) : undefined;
  const collection = new ProxyCollection(options.events, pool);
  const server = createApiServer(collection);
  try {
    if (options.proxies?.length) await collection.populate(options.proxies);
    const { host, port } = splitHostPort(options.api);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
  } catch (err) {
    await collection.closeAll();
    await pool?.close();
    throw err;
  }
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`,
    collection,
    async close() {
      await collection.closeAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool?.close();
    },
  };
}
