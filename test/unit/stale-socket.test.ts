// The demo's viewers meet kept-alive connections the server closed just as they were reused, as
// browsers do, and ask again on a fresh one. The server here answers the first request on each
// connection and drops the connection, unanswered, when a second request arrives on it: the
// moment a keep-alive timeout and a reuse cross.

import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callService } from "../../src/demo/service-call.js";
import { load } from "../../src/demo/hls-viewer-loader.js";
import { startEdge } from "../../src/demo/edge.js";

let server: http.Server;
let base = "";
let received = 0;

beforeAll(async () => {
  const served = new WeakMap<Socket, number>();
  server = http.createServer((req, res) => {
    received += 1;
    const count = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, count);
    // Every request on a fresh connection here is dropped: a failure that is not a stale socket.
    if (req.url === "/always-drop") return void req.socket.destroy();
    // A reused connection dropped late, and a fresh one answered late: the retry must fit in what is left.
    if (req.url!.startsWith("/late")) {
      if (count > 1) return void setTimeout(() => req.socket.destroy(), 400);
      if (req.url === "/late/slow") return void setTimeout(() => res.writeHead(200).end("ok"), 300);
      return void res.writeHead(200).end("ok");
    }
    if (count > 1) return void req.socket.destroy();
    res.writeHead(200, { "content-type": "text/plain" }).end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const keptAlive = () => new http.Agent({ keepAlive: true, maxSockets: 1 });

describe("a viewer's calls to the page's services", () => {
  it("are sent again on a fresh connection when the reused one was closed before any answer", async () => {
    const agent = keptAlive();
    expect((await callService(agent, `${base}/session`, { method: "POST", headers: {}, timeoutMs: 2000 })).toString()).toBe("ok");
    // The agent reuses the connection; the server drops it; the call is asked again and answered.
    expect((await callService(agent, `${base}/session`, { method: "POST", headers: {}, timeoutMs: 2000 })).toString()).toBe("ok");
    agent.destroy();
  });

  it("ask again outside the pool, so not on another of its dropped connections", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    // Two connections in the pool, both of which the server drops at their next request.
    await Promise.all([1, 2].map(() => callService(agent, `${base}/rail`, { headers: {}, timeoutMs: 2000 })));
    expect(agent.freeSockets[Object.keys(agent.freeSockets)[0]!]).toHaveLength(2);
    expect((await callService(agent, `${base}/rail`, { headers: {}, timeoutMs: 2000 })).toString()).toBe("ok");
    agent.destroy();
  });

  it("ask again only within the time the call had left", async () => {
    const agent = keptAlive();
    await callService(agent, `${base}/late/warm`, { headers: {}, timeoutMs: 2000 });
    // Dropped after 400 of 500 ms; the fresh connection would answer after 300 ms more: too late.
    await expect(callService(agent, `${base}/late/slow`, { headers: {}, timeoutMs: 500 })).rejects.toThrow(/no answer within 500 ms/);
    agent.destroy();
  });

  it("fail, without asking again, when a fresh connection is dropped", async () => {
    const agent = keptAlive();
    const before = received;
    await expect(callService(agent, `${base}/always-drop`, { headers: {}, timeoutMs: 2000 })).rejects.toThrow(/socket hang up/);
    expect(received - before).toBe(1);
    agent.destroy();
  });
});

describe("a player's loads", () => {
  const policy = { maxTimeToFirstByteMs: 2000, maxLoadTimeMs: 5000 };

  it("are sent again on a fresh connection when the reused one was closed before any answer", async () => {
    const agent = keptAlive();
    const first = await load({ url: `${base}/seg.ts`, agent, headers: {}, policy, keepBody: true }).done;
    expect(first.body?.toString()).toBe("ok");
    const second = await load({ url: `${base}/seg.ts`, agent, headers: {}, policy, keepBody: true }).done;
    expect(second.body?.toString()).toBe("ok");
    agent.destroy();
  });

  it("fail, without asking again, when a fresh connection is dropped", async () => {
    const agent = keptAlive();
    const before = received;
    await expect(load({ url: `${base}/always-drop`, agent, headers: {}, policy, keepBody: true }).done).rejects.toThrow();
    expect(received - before).toBe(1);
    agent.destroy();
  });
});

describe("the demo edge's fetches from the origin", () => {
  it("are sent again on a fresh connection when the reused one was closed before any answer", async () => {
    const edge = await startEdge({ port: 0, originUrl: base });
    try {
      // The origin's answers carry no max-age: every request to the edge is a fetch from the origin.
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${edge.url}/vod/demo/seg-${i}.ts`);
        expect(res.status).toBe(200);
        expect(await res.text()).toBe("ok");
      }
    } finally {
      await edge.close();
    }
  });
});
