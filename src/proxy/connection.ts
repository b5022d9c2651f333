// One proxied TCP connection: the client's socket, a new one to the upstream, and a Link each
// way. Used alike by the proxy's main process and its relay processes, so a connection behaves
// the same wherever it is relayed.

import net, { type Socket } from "node:net";
import { Link } from "./link.js";
import { takeReadBuffer } from "./read-buffers.js";
import type { Stream } from "./toxics/types.js";

export interface RelayedConnection {
  client: Socket;
  upstream: Socket;
  links: Record<Stream, Link>;
}

/**
 * Connect to the upstream and relay both ways; `ended` runs once when either side closes or
 * fails (both sockets are destroyed by then). The client is read from only once the upstream
 * answers.
 */
export function relayConnection(client: Socket, upstreamAt: { host: string; port: number }, ended: () => void): RelayedConnection {
  client.pause();
  // The upstream's answers are the bulk of the bytes: they are read into pooled buffers.
  let downstream: Link | undefined;
  const upstream = net.connect({
    ...upstreamAt,
    allowHalfOpen: true,
    noDelay: true,
    onread: { buffer: takeReadBuffer, callback: (length, buffer) => downstream!.onPooledRead(buffer as Buffer, length) },
  });
  const controls = {
    // Politely, so limit_data's last bytes arrive; sockets that do not finish closing are destroyed shortly after.
    close: () => {
      client.end();
      upstream.end();
      setTimeout(() => {
        client.destroy();
        upstream.destroy();
      }, 1000).unref();
    },
    reset: () => {
      client.resetAndDestroy();
      upstream.destroy();
    },
  };
  downstream = new Link(upstream, client, controls, true);
  const connection: RelayedConnection = { client, upstream, links: { upstream: new Link(client, upstream, controls), downstream } };
  let done = false;
  const teardown = () => {
    if (done) return;
    done = true;
    connection.links.upstream.dispose();
    connection.links.downstream.dispose();
    client.destroy();
    upstream.destroy();
    ended();
  };
  const sides = [
    { socket: client, readBy: connection.links.upstream, other: upstream },
    { socket: upstream, readBy: connection.links.downstream, other: client },
  ];
  for (const { socket, readBy, other } of sides) {
    socket.on("error", teardown);
    // A socket can close cleanly while the last data it sent still waits in the toxics (a client
    // that half-closed, whose answer a latency toxic holds). That data is delivered first, as
    // Toxiproxy does: the link then ends the other socket, whose close ends the connection. A toxic
    // that holds data without end (bandwidth 0) holds the connection as long as it is in place.
    socket.on("close", (hadError) => {
      if (hadError || !readBy.delivering || other.destroyed) teardown();
    });
  }
  upstream.once("connect", () => client.resume());
  return connection;
}
