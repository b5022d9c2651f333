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

export async function startProxyServer(options: { api: string; proxies?: ProxyInput[]; events?: ProxyEvents }): Promise<ProxyServer> {
  const collection = new ProxyCollection(options.events);
  if (options.proxies?.length) await collection.populate(options.proxies);
  const server = createApiServer(collection);
  const { host, port } = splitHostPort(options.api);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`,
    collection,
    async close() {
      await collection.closeAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
