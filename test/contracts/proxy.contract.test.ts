// The adapter contract for fault-proxy links: every proxy action, with the example its docs show,
// on a running chaoscast proxy in front of a real upstream, observed through the proxy's API.

import { afterAll, beforeAll } from "vitest";
import { registry } from "../../src/registry.js";
import { ProxyApiClient } from "../../src/adapters/proxy/client.js";
import { startProxyServer, type ProxyServer } from "../../src/proxy/server.js";
import type { RunContext } from "../../src/contract/adapter.js";
import { startServer, type TestServer } from "../helpers/processes.js";
import { adapterContract, failingCase, runAdapterContract, type Arranged } from "./adapter-contract.js";

const ctx: RunContext = { signal: new AbortController().signal, runId: "proxy-contract", note: () => {}, defer: () => {} };
let upstream: TestServer;
let proxy: ProxyServer;
let links = 0;

beforeAll(async () => {
  upstream = await startServer();
  proxy = await startProxyServer({ api: "127.0.0.1:0" });
});
afterAll(async () => {
  await proxy.close();
  await upstream.stop();
});

/** What the proxy's API shows of the link: up or down, and the toxics on it. */
interface Seen {
  enabled: boolean;
  toxics: string[];
}

/** A link of its own for each case (HTTP-aware for the HTTP faults), as a target. */
async function aLink(http: boolean, prepare: (client: ProxyApiClient, name: string) => Promise<void> = async () => {}): Promise<Arranged<Seen>> {
  const name = `contract-${++links}`;
  await proxy.collection.populate([{ name, upstream: `127.0.0.1:${upstream.port}`, http }]);
  const api = proxy.url.replace("http://", "");
  const client = new ProxyApiClient(api);
  await prepare(client, name);
  const def = registry.targetKinds.get("proxy")!;
  const [target] = await def.resolve(def.selector.parse({ name, api }), ctx);
  if (!target) throw new Error(`link ${name} was not found as a target`);
  const observe = async () => {
    const state = (await client.getProxy(name))!;
    return { enabled: state.enabled, toxics: state.toxics.map((t) => `${t.type}:${t.name}`).sort() };
  };
  return { target, observe };
}

const HTTP_ONLY = new Set(["proxy.http-error", "proxy.http-latency", "proxy.http-bandwidth", "proxy.segment-drop", "proxy.truncate-body", "proxy.stale-playlist", "proxy.tag-cohorts"]);
const proxyActions = [...registry.actions.values()].filter((a) => a.target === "proxy");

runAdapterContract({
  adapter: "proxy",
  skip: false,
  cases: proxyActions.map((action) =>
    adapterContract<Seen>({
      action: action.name,
      params: action.example,
      does: action.name === "proxy.down" ? "takes the link down" : "adds its toxic to the link",
      arrange: () => aLink(HTTP_ONLY.has(action.name)),
      showsFault: (now, before) => (action.name === "proxy.down" ? !now.enabled : now.toxics.length === before.toxics.length + 1),
    }),
  ),
  failing: [
    failingCase<Seen>({
      action: "proxy.down",
      params: {},
      when: "someone else took the link down",
      arrange: () => aLink(false, (client, name) => client.setEnabled(name, false)),
      error: /is already down; chaoscast will not take over an outage it did not make/,
    }),
    failingCase<Seen>({
      action: "proxy.segment-drop",
      params: {},
      when: "the link relays TCP, not HTTP",
      arrange: () => aLink(false),
      error: /segment_drop is an HTTP toxic: create the proxy with "http": true/,
    }),
  ],
});
