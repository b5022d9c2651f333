// The demo edge's origin failover (region A, then region B), against two small origins: a fetch
// that fails in region A is served from region B at once, region A is avoided for a while, and it
// is used again once that while is over and it answers.

import { afterAll, describe, expect, it } from "vitest";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { startEdge } from "../../src/demo/edge.js";
import { parseMetrics } from "../../src/adapters/metrics/parse.js";
import { pollUntil } from "../helpers/poll.js";

const servers: http.Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

async function origin(name: string, status: () => number): Promise<string> {
  const server = http.createServer((req, res) => {
    res.writeHead(status(), { "content-type": "text/plain", "cache-control": "max-age=0" }).end(`${name} ${req.url}`);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("the demo edge's region failover", () => {
  it("serves from region B when region A fails, avoids A for a while, then goes back to it", async () => {
    let aStatus = 503;
    const a = await origin("region-a", () => aStatus);
    const b = await origin("region-b", () => 200);
    const edge = await startEdge({ originUrl: a, failoverUrl: b, avoidFailedMs: 300, staleIfErrorMs: 0 });
    try {
      const body = async (p: string) => (await fetch(`${edge.url}${p}`)).text();
      expect(await body("/x")).toBe("region-b /x");
      aStatus = 200;
      // Within the avoid window region A is not asked, even though it would answer now.
      expect(await body("/y")).toBe("region-b /y");
      await pollUntil(async () => (await body("/z")) === "region-a /z", 5_000, "region A used again");
      const metrics = parseMetrics(await (await fetch(`${edge.url}/metrics`)).text());
      const count = (region: string, outcome: string) => metrics.filter((m) => m.name === "edge_origin_fetches_total" && m.labels.region === region && m.labels.outcome === outcome).reduce((n, m) => n + m.value, 0);
      expect(count("a", "error")).toBe(1);
      expect(count("b", "ok")).toBeGreaterThanOrEqual(2);
      expect(count("a", "ok")).toBeGreaterThanOrEqual(1);
    } finally {
      await edge.close();
    }
  });
});
