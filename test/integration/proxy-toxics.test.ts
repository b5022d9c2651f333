import { describe, expect, it } from "vitest";
import http from "node:http";
import net from "node:net";
import { holdsFor, pollUntil } from "../helpers/poll.js";
import { fetchBytes, median, timedGet } from "../helpers/http.js";
import { useProxyFixture } from "../helpers/proxy-fixture.js";

const fixture = useProxyFixture();
const link = (toxics: Record<string, unknown>[] = []) => fixture.link({ toxics });

/** Raw TCP exchange: send `request`, collect every byte and how the connection ended. */
function rawExchange(port: number, request: string, timeoutMs = 5000) {
  return new Promise<{ bytes: number; chunks: number; ending: string; ms: number; lastDataMs: number }>((resolve) => {
    const started = performance.now();
    let bytes = 0;
    let chunks = 0;
    let lastDataMs = 0;
    const socket = net.connect(port, "127.0.0.1", () => socket.write(request));
    const finish = (ending: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes, chunks, ending, ms: performance.now() - started, lastDataMs });
    };
    const timer = setTimeout(() => finish("still open"), timeoutMs);
    socket.on("data", (d: Buffer) => {
      bytes += d.length;
      chunks += 1;
      lastDataMs = performance.now() - started;
    });
    socket.on("end", () => finish("closed"));
    socket.on("error", (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
  });
}

const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;
// Keep-alive: the server leaves the connection open, so only the toxic can close it.
const GET_KEEPALIVE = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;

describe("toxics do what they say, measured on real connections", () => {
  it("latency: a 200 ms toxic adds 200 ms ± 5 ms at the median", async () => {
    const plain = await link();
    const slow = await link([{ type: "latency", attributes: { latency: 200 } }]);
    // Pairs of requests, plain then slow: load from other tests shifts both alike and cancels out.
    const added = median(await sequential(20, async () => (await timedGet(`${slow.base}/health`)) - (await timedGet(`${plain.base}/health`))));
    expect(added).toBeGreaterThanOrEqual(195);
    expect(added).toBeLessThanOrEqual(205);
  });

  it("bandwidth: 125 KB/s delivers 1 Mbit/s, never 5% more, and not far less even on a loaded machine", async () => {
    const slow = await link([{ type: "bandwidth", attributes: { rate: 125 } }]);
    const result = await fetchBytes(`${slow.base}/bytes?n=250000`, 10_000);
    expect(result.bytes).toBe(250_000);
    const mbitPerSecond = (result.bytes * 8) / 1e6 / (result.ms / 1000);
    // The cap is the toxic's promise; below it, a CI machine running three test files on two cores
    // has been seen to deliver 0.88 of the rate (the client's own reads come late): bench/ measures.
    expect(mbitPerSecond).toBeLessThan(1.05);
    expect(mbitPerSecond).toBeGreaterThan(0.8);
  });

  it("timeout: data stops and the connection closes after the timeout", async () => {
    const stuck = await link([{ type: "timeout", attributes: { timeout: 300 } }]);
    const result = await rawExchange(stuck.port, GET_KEEPALIVE("/health"));
    expect(result.bytes).toBe(0);
    expect(result.ending).toBe("closed");
    expect(result.ms).toBeGreaterThanOrEqual(290);
  });

  it("timeout 0: data stops and the connection stays open", async () => {
    const stuck = await link([{ type: "timeout", attributes: { timeout: 0 } }]);
    // Watched for 600 ms: data or a close at any moment in them ends the exchange early.
    const result = await rawExchange(stuck.port, GET_KEEPALIVE("/health"), 600);
    expect(result).toMatchObject({ bytes: 0, ending: "still open" });
  });

  it("limit_data: exactly the given number of bytes pass, then the connection closes", async () => {
    const limited = await link([{ type: "limit_data", attributes: { bytes: 1000 } }]);
    const result = await rawExchange(limited.port, GET("/bytes?n=100000"));
    expect(result.bytes).toBe(1000);
    expect(result.ending).toBe("closed");
  });

  it("reset_peer: the client sees a connection reset after the timeout", async () => {
    const reset = await link([{ type: "reset_peer", stream: "upstream", attributes: { timeout: 100 } }]);
    const result = await rawExchange(reset.port, GET("/health"));
    expect(result.ending).toBe("ECONNRESET");
    expect(result.ms).toBeGreaterThanOrEqual(95);
  });

  it("slicer: the body arrives whole, in many small pieces", async () => {
    const sliced = await link([{ type: "slicer", attributes: { average_size: 100, size_variation: 50, delay: 200 } }]);
    const result = await rawExchange(sliced.port, GET("/bytes?n=20000"));
    expect(result.bytes).toBeGreaterThan(20_000);
    expect(result.chunks).toBeGreaterThan(20);
  });

  it("slow_close: the close reaches the client only after the delay", async () => {
    const slow = await link([{ type: "slow_close", attributes: { delay: 400 } }]);
    const result = await rawExchange(slow.port, GET("/health"));
    expect(result.ending).toBe("closed");
    expect(result.ms - result.lastDataMs).toBeGreaterThanOrEqual(390);
  });

  it("toxicity: 0 never applies, 0.5 applies to some connections and not others", async () => {
    const never = await link([{ type: "latency", toxicity: 0, attributes: { latency: 300 } }]);
    // Under the 300 ms the toxic would add, with room for a loaded CI machine's slow answer.
    expect(Math.max(...(await sequential(5, () => timedGet(`${never.base}/health`))))).toBeLessThan(250);
    const half = await link([{ type: "latency", toxicity: 0.5, attributes: { latency: 150 } }]);
    // One at a time: 40 at once on a loaded machine make undelayed answers as slow as delayed ones.
    const times = await sequential(40, () => timedGet(`${half.base}/health`));
    const delayed = times.filter((t) => t >= 150).length;
    expect(delayed).toBeGreaterThan(5);
    expect(delayed).toBeLessThan(35);
  });

  it("a client that half-closes still gets the whole answer held back by a latency toxic", async () => {
    // The client sends its request and its FIN at once; the upstream answers and closes at once,
    // while the toxic still holds the answer for 300 ms. Toxiproxy delivers it, then closes.
    const slow = await link([{ type: "latency", attributes: { latency: 300 } }]);
    const answer = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = net.connect({ port: slow.port, host: "127.0.0.1", allowHalfOpen: true }, () => socket.end(GET("/health")));
      socket.on("data", (c: Buffer) => chunks.push(c));
      socket.on("end", () => resolve(Buffer.concat(chunks).toString()));
      socket.on("error", reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain(`"status":"ok"`);
  });

  it("applies a toxic to a connection that was already open", async () => {
    const live = await link();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = () => new Promise<number>((resolve, reject) => {
      const started = performance.now();
      http.get(`${live.base}/health`, { agent }, (res) => {
        res.resume();
        res.on("end", () => resolve(performance.now() - started));
      }).on("error", reject);
    });
    expect(await get()).toBeLessThan(100);
    fixture.server.collection.get(live.name).addToxic({ type: "latency", attributes: { latency: 200 } });
    expect(await get()).toBeGreaterThanOrEqual(195);
    fixture.server.collection.get(live.name).removeToxic("latency_downstream");
    expect(await get()).toBeLessThan(100);
    agent.destroy();
  });
});

describe("leases", () => {
  it("a toxic with a ttl removes itself when the ttl passes", async () => {
    const leased = await link();
    const proxy = fixture.server.collection.get(leased.name);
    // A latency far above any stall of a loaded machine: a request under it had no toxic in its way.
    proxy.addToxic({ name: "lease", type: "latency", attributes: { latency: 2_000 }, ttl: 300 });
    expect(proxy.listToxics().map((t) => t.name)).toEqual(["lease"]);
    await pollUntil(() => proxy.listToxics().length === 0, 2000);
    expect(await timedGet(`${leased.base}/health`)).toBeLessThan(2_000);
  });

  it("refreshing the ttl keeps the toxic past its first expiry", async () => {
    const leased = await link();
    const names = () => fixture.server.collection.get(leased.name).listToxics().map((t) => t.name);
    // A lease long enough that a loaded CI machine still refreshes it in time (at 400 ms, a slow
    // answer once let it lapse before the refresh arrived).
    const res = await fetch(`${fixture.server.url}/proxies/${leased.name}/toxics`, { method: "POST", body: JSON.stringify({ name: "lease", type: "latency", attributes: { latency: 10 }, ttl: 1500 }) });
    // The toxic exists by the time the answer is here: its first lease ends at most 1500 ms from now.
    const firstExpiry = performance.now() + 1500;
    expect(await res.json()).toMatchObject({ name: "lease", ttl: 1500 });
    // Refreshed part-way through its lease (the wait is the scenario: a keeper refreshing early).
    await new Promise((r) => setTimeout(r, 250));
    const refreshed = await fetch(`${fixture.server.url}/proxies/${leased.name}/toxics/lease`, { method: "POST", body: JSON.stringify({ ttl: 1500 }) });
    expect(refreshed.status).toBe(200);
    // Watched from the refresh until 100 ms past the first expiry (the new one is at least 150 ms later still).
    await holdsFor(() => expect(names(), "the toxics, after the refresh").toEqual(["lease"]), firstExpiry + 100 - performance.now());
    await pollUntil(() => names().length === 0, 5000, "the refreshed lease running out");
  });
});

async function sequential<T>(n: number, work: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(await work());
  return out;
}
