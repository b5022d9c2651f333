import { describe, expect, it } from "vitest";
import net from "node:net";
import { freePort } from "../helpers/processes.js";
import { abandonDownload, fetchBytes } from "../helpers/http.js";
import { holdsFor, pollUntil } from "../helpers/poll.js";
import { useProxyFixture } from "../helpers/proxy-fixture.js";
import { openConnections } from "../helpers/sockets.js";

// Regressions found by trying to break the proxy: none of these may crash it or silently do nothing.

const fixture = useProxyFixture();
const link = (options: { http?: boolean; toxics?: Record<string, unknown>[]; listen?: string } = {}) => fixture.link(options);

/** How many /health requests the upstream test server has answered (from its own /metrics). */
async function healthAnswers(upstream: string): Promise<number> {
  const text = await (await fetch(`${upstream}/metrics`)).text();
  return Number(/^fixture_health_total\{[^}]*\} (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
}

const api = (method: string, path: string, body?: unknown) =>
  fetch(`${fixture.server.url}${path}`, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) }).then(async (r) => ({ status: r.status, text: await r.text() }));

describe("the proxy under clients that give up, and odd values", () => {
  it("survives clients abandoning delayed responses and many parallel aborted downloads", async () => {
    const crashes: unknown[] = [];
    const onCrash = (err: unknown) => crashes.push(err);
    process.on("unhandledRejection", onCrash);
    process.on("uncaughtException", onCrash);
    try {
      // A player cancels a slow segment while the fault still delays it; the delay ends later.
      const slow = await link({ http: true, toxics: [{ type: "http_latency", attributes: { latency: 1000 } }] });
      const cancelled = await Promise.all(Array.from({ length: 5 }, () => abandonDownload(`${slow.base}/bytes?n=2000000`, 300)));
      expect(cancelled.filter((d) => d.complete)).toEqual([]);
      // A request sent now waits out the same delay, begun after theirs: once it is answered, the
      // cancelled ones' delays have ended too (the moment a crash would come), and the link still works.
      expect((await fetchBytes(`${slow.base}/health`, 5000)).status).toBe(200);
      // Many viewers cancel big downloads at once.
      const plain = await link({ http: true });
      const upstreamHeld = openConnections(fixture.upstream.port);
      const abandoned = await Promise.all(Array.from({ length: 20 }, () => abandonDownload(`${plain.base}/bytes?n=50000000`, 150)));
      expect(abandoned.filter((d) => d.complete)).toEqual([]);
      // Until the proxy has let go of every abandoned download, on both sides of it (its link and
      // its connections to the upstream), the errors of their ends may still come.
      await pollUntil(() => openConnections(plain.port) === 0 && openConnections(fixture.upstream.port) <= upstreamHeld, 5000, "the abandoned downloads' connections closed");
    } finally {
      process.off("unhandledRejection", onCrash);
      process.off("uncaughtException", onCrash);
    }
    expect(crashes).toEqual([]);
    const slow = fixture.server.collection.all().find((p) => p.httpToxics().length > 0)!;
    expect((await fetchBytes(`http://${slow.listen}/health`, 3000)).status).toBe(200);
  });

  it("bandwidth 0 stops the data instead of letting it through", async () => {
    const stopped = await link({ toxics: [{ type: "bandwidth", attributes: { rate: 0 } }] });
    const result = await fetchBytes(`${stopped.base}/bytes?n=100000`, 500);
    expect(result.bytes).toBe(0);
  });

  it("a very large latency holds the data (no timer overflow)", async () => {
    const held = await link({ toxics: [{ type: "latency", attributes: { latency: 3_000_000_000 } }] });
    expect((await fetchBytes(`${held.base}/health`, 400)).status).toBeUndefined();
  });

  it("updating a timeout toxic to 0 cancels the pending close", async () => {
    const hung = await link({ toxics: [{ name: "t", type: "timeout", attributes: { timeout: 400 } }] });
    const [host, port] = hung.proxy.listen.split(":");
    const socket = net.connect(Number(port), host!);
    let closedAt = 0;
    socket.on("close", () => (closedAt = Date.now()));
    socket.on("error", () => {});
    await new Promise((r) => socket.once("connect", r));
    const answered = () => healthAnswers(fixture.upstream.url);
    const before = await answered();
    socket.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    // The upstream has answered through the proxy: the connection is live there, its close pending.
    await pollUntil(async () => (await answered()) > before, 3000, "the request through the proxy answered upstream");
    hung.proxy.updateToxic("t", { attributes: { timeout: 0 } });
    // Watched for 700 ms, well past the 400 ms at which the old timeout would have closed it.
    await holdsFor(() => expect(closedAt, "the connection's close").toBe(0), 700);
    socket.destroy();
  });

  it("truncate_body with 0 bytes still sends the headers", async () => {
    const cut = await link({ http: true, toxics: [{ type: "truncate_body", attributes: { bytes: 0 } }] });
    const result = await fetchBytes(`${cut.base}/bytes?n=1000`);
    expect(result.status).toBe(200);
    expect(result.bytes).toBe(0);
  });

  it("re-enables a proxy after a down-lease even if its port was taken for a while", async () => {
    const port = await freePort();
    const down = await link({ listen: `127.0.0.1:${port}` });
    expect((await api("POST", `/proxies/${down.name}`, { enabled: false, ttl: 200 })).status).toBe(200);
    const squatter = net.createServer().listen(port, "127.0.0.1");
    await new Promise((r) => squatter.once("listening", r));
    // The lease ran out while the port was taken: the proxy says it cannot re-enable the link yet.
    await pollUntil(() => fixture.events.leaseErrors.some((e) => e.proxy === down.name), 3000, "a lease error for the link");
    expect(fixture.events.leaseErrors.find((e) => e.proxy === down.name)!.message).toMatch(/address already in use/);
    expect(down.proxy.enabled).toBe(false);
    await new Promise<void>((r) => squatter.close(() => r()));
    await pollUntil(() => down.proxy.enabled, 3000);
    expect((await fetchBytes(`${down.base}/health`)).status).toBe(200);
  });
});

describe("the proxy API refuses what Toxiproxy's decoder refuses", () => {
  it("refuses wrong JSON types instead of ignoring them", async () => {
    const p = await link();
    expect(await api("POST", `/proxies/${p.name}`, { enabled: "false" })).toMatchObject({ status: 400, text: expect.stringContaining("enabled must be true or false") });
    expect(p.proxy.enabled).toBe(true);
    expect((await api("POST", "/proxies", { name: "n", upstream: "127.0.0.1:1", listen: 18713 })).status).toBe(400);
  });

  it("checks a whole /populate list before creating anything", async () => {
    const res = await api("POST", "/populate", [{ name: "would-be-created", upstream: `127.0.0.1:${fixture.upstream.port}` }, { upstream: "127.0.0.1:1" }]);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toEqual({ error: "missing required field: name at proxy 2", status: 400, proxies: null });
    expect((await api("GET", "/proxies/would-be-created")).status).toBe(404);
  });

  it("treats null attributes and toxicity as absent, refuses an oversized ttl, and 404s a malformed path", async () => {
    const p = await link();
    expect((await api("POST", `/proxies/${p.name}/toxics`, { type: "latency", attributes: null, toxicity: null })).status).toBe(200);
    expect((await api("POST", `/proxies/${p.name}/toxics`, { name: "big", type: "latency", ttl: 3_000_000_000 })).status).toBe(400);
    expect((await api("GET", "/proxies/%E0%A4%A")).status).toBe(404);
    expect((await api("PUT", `/proxies/${p.name}`)).status).toBe(405);
    expect((await api("GET", "/nothing-here")).status).toBe(404);
  });
});
