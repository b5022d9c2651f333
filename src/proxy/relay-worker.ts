// A relay process of the fault proxy: it relays the TCP connections the main process hands it,
// each through the TCP toxics of its proxy, exactly as the main process would relay it itself.
// Started by RelayPool with an IPC channel; it exits when that channel closes.

import type { Socket } from "node:net";
import { relayConnection, type RelayedConnection } from "./connection.js";
import { findToxicType } from "./toxics/index.js";
import type { TcpToxicType } from "./toxics/types.js";
import type { FromRelay, ToRelay, ToxicSettings } from "./relay-messages.js";
import { splitHostPort } from "./address.js";

interface Relayed extends RelayedConnection {
  /** Per-toxic state that survives updates (limit_data's byte count). */
  states: Map<string, Record<string, unknown>>;
}

/** Each proxy's toxics, in the order they were added, and its connections here. */
const proxies = new Map<string, { toxics: ToxicSettings[]; connections: Set<Relayed> }>();

function proxyNamed(name: string) {
  let proxy = proxies.get(name);
  if (!proxy) {
    proxy = { toxics: [], connections: new Set() };
    proxies.set(name, proxy);
  }
  return proxy;
}

function send(message: FromRelay): void {
  process.send?.(message);
}

function instance(relayed: Relayed, toxic: ToxicSettings) {
  const def = findToxicType(toxic.type) as TcpToxicType | undefined;
  if (def?.layer !== "tcp") return undefined;
  let state = relayed.states.get(toxic.name);
  if (!state) {
    state = {};
    relayed.states.set(toxic.name, state);
  }
  return def.create(toxic.attributes, state);
}

function relay(proxyName: string, upstreamAddress: string, toxics: ToxicSettings[], client: Socket): void {
  const proxy = proxyNamed(proxyName);
  proxy.toxics = toxics;
  // A handed-over socket is rebuilt without the listener's options: a client that half-closes
  // (sends FIN, waits for the answer) must still get the answer, as on the main process.
  client.allowHalfOpen = true;
  client.setNoDelay(true);
  const relayed: Relayed = { ...relayConnection(client, splitHostPort(upstreamAddress), () => proxy.connections.delete(relayed)), states: new Map() };
  proxy.connections.add(relayed);
  for (const toxic of toxics) {
    const created = instance(relayed, toxic);
    if (created) relayed.links[toxic.stream].addToxic(toxic.name, created, toxic.toxicity);
  }
}

function handle(message: ToRelay, socket: Socket | undefined): void {
  switch (message.type) {
    case "relay":
      if (socket) relay(message.proxy, message.upstream, message.toxics, socket);
      return;
    case "toxic-set": {
      const proxy = proxyNamed(message.proxy);
      const index = proxy.toxics.findIndex((t) => t.name === message.toxic.name);
      if (index >= 0) proxy.toxics[index] = message.toxic;
      else proxy.toxics.push(message.toxic);
      for (const relayed of proxy.connections) {
        const created = instance(relayed, message.toxic);
        if (created) relayed.links[message.toxic.stream].replaceToxic(message.toxic.name, created, message.toxic.toxicity);
      }
      return;
    }
    case "toxic-remove": {
      const proxy = proxyNamed(message.proxy);
      const removed = proxy.toxics.find((t) => t.name === message.name);
      proxy.toxics = proxy.toxics.filter((t) => t.name !== message.name);
      if (!removed) return;
      for (const relayed of proxy.connections) {
        relayed.links[removed.stream].removeToxic(message.name);
        relayed.states.delete(message.name);
      }
      return;
    }
    case "drop": {
      const proxy = proxies.get(message.proxy);
      if (!proxy) return;
      for (const relayed of proxy.connections) {
        relayed.client.destroy();
        relayed.upstream.destroy();
      }
      proxies.delete(message.proxy);
      return;
    }
    case "sync":
      send({ type: "synced", seq: message.seq });
      return;
  }
}

process.on("message", (message: ToRelay, socket: Socket | undefined) => handle(message, socket));
// One connection's unforeseen error must not close every other connection of this process.
process.on("uncaughtException", (err) => process.stderr.write(`chaoscast relay process: unexpected error, still relaying: ${err.stack ?? err.message}\n`));
// The main process is gone: nothing can hand out work or remove toxics any more.
process.on("disconnect", () => process.exit(0));
send({ type: "ready" });
