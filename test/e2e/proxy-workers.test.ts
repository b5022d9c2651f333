import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa, type ResultPromise } from "execa";
import http from "node:http";
import net from "node:net";
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { relayProcesses } from "../../src/cli/commands/proxy.js";
import { eventually } from "../helpers/poll.js";
import { CLI, freePort, pollUntil, processesMentioning, startServer, waitForOutput, workdir, type TestServer } from "../helpers/processes.js";
import { fetchStream, sha, STREAM_SIZE, startStreamServer, streamFor } from "../helpers/streams.js";

// `chaoscast proxy --workers 2`: TCP links relayed by two worker processes, with the API, the
// toxics and their leases kept by the main process. Every Toxiproxy behaviour must hold as it does
// in one process: toxics in effect on open and new connections when the API answers, removed as
// soon as the API says so, connections dropped when the proxy is disabled.

let upstream: TestServer;
let streams: Awaited<ReturnType<typeof startStreamServer>>;
let child: ResultPromise<{ reject: false; all: true }>;
let api = "";
const links = { health: 0, stream: 0 };

beforeAll(async () => {
  upstream = await startServer();
  streams = await startStreamServer();
  const dir = workdir();
  const [apiPort, healthPort, streamPort] = [await freePort(), await freePort(), await freePort()];
  api = `http://127.0.0.1:${apiPort}`;
  links.health = healthPort;
  links.stream = streamPort;
  const config = path.join(dir, "proxies.yaml");
  writeFileSync(config, `- { name: edge, listen: "127.0.0.1:${healthPort}", upstream: "127.0.0.1:${upstream.port}" }\n- { name: bulk, listen: "127.0.0.1:${streamPort}", upstream: "127.0.0.1:${streams.port}" }\n`);
  child = execa(process.execPath, [CLI, "proxy", "--api", `127.0.0.1:${apiPort}`, "--config", config, "--workers", "2"], { reject: false, all: true });
  await waitForOutput(child, "bulk:");
});

afterAll(async () => {
  child.kill("SIGTERM");
  await child;
  await upstream.stop();
  await streams.close();
});

const call = (method: string, route: string, body?: unknown) => fetch(`${api}${route}`, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });

/** Sequential requests on one keep-alive connection, each timed. */
function keptConnection(port: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return {
    get(): Promise<{ status: number; ms: number }> {
      const started = performance.now();
      return new Promise((resolve, reject) => {
        http
          .get(`http://127.0.0.1:${port}/health`, { agent }, (res) => {
            res.resume();
            res.on("end", () => resolve({ status: res.statusCode!, ms: performance.now() - started }));
          })
          .on("error", reject);
      });
    },
    close: () => agent.destroy(),
  };
}

describe("chaoscast proxy --workers 2", () => {
  it("starts two worker processes", () => {
    expect(workersOf(child.pid!)).toHaveLength(2);
  });

  it("relays 8 streams at once byte for byte, from the worker processes", async () => {
    const workers = workersOf(child.pid!).map((line) => Number(line.split(":")[0]));
    const before = workers.map(openSockets);
    const seeds = Array.from({ length: 8 }, (_, i) => i + 200);
    const transfers = Promise.all(seeds.map((seed) => fetchStream(links.stream, seed, true)));
    // Each relayed connection is two sockets (client and upstream) in the worker relaying it.
    const during = await eventually(() => workers.map(openSockets), (now) => now.reduce((a, b) => a + b, 0) - before.reduce((a, b) => a + b, 0) >= 8);
    expect(during.every((n, i) => n > before[i]!)).toBe(true);
    const received = await transfers;
    for (const [i, data] of received.entries()) {
      expect(data.length).toBe(STREAM_SIZE);
      expect(sha(data)).toBe(sha(streamFor(seeds[i]!)));
    }
  });

  it("puts a toxic in effect on a connection already open by the time the API answers, and takes it off the same way", async () => {
    const connection = keptConnection(links.health);
    try {
      expect((await connection.get()).status).toBe(200);
      expect((await call("POST", "/proxies/edge/toxics", { name: "slow", type: "latency", attributes: { latency: 1_500 } })).status).toBe(200);
      expect((await connection.get()).ms).toBeGreaterThanOrEqual(1_500);
      // A connection opened now gets it too.
      const fresh = keptConnection(links.health);
      expect((await fresh.get()).ms).toBeGreaterThanOrEqual(1_500);
      fresh.close();
      expect((await call("DELETE", "/proxies/edge/toxics/slow")).status).toBe(204);
      // Far below the toxic's 1.5 s, whatever a loaded machine adds.
      expect((await connection.get()).ms).toBeLessThan(1_500);
    } finally {
      connection.close();
    }
  });

  it("removes a toxic from the workers when its lease runs out", async () => {
    expect((await call("POST", "/proxies/edge/toxics", { name: "leased", type: "timeout", attributes: { timeout: 0 }, ttl: 300 })).status).toBe(200);
    await expect(fetch(`http://127.0.0.1:${links.health}/health`, { signal: AbortSignal.timeout(200) })).rejects.toThrow();
    await pollUntil(async () => (await call("GET", "/proxies/edge/toxics/leased")).status === 404, 5_000, "the lease to expire");
    expect((await fetch(`http://127.0.0.1:${links.health}/health`, { signal: AbortSignal.timeout(2_000) })).status).toBe(200);
  });

  it("answers a client that half-closes its side first, as one process does", async () => {
    // The stream server answers once it has read its line; the client sends it and its FIN at once.
    const received = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = net.connect({ port: links.stream, host: "127.0.0.1", allowHalfOpen: true }, () => socket.end("9\n"));
      socket.on("data", (c: Buffer) => chunks.push(c));
      socket.on("end", () => resolve(Buffer.concat(chunks)));
      socket.on("error", reject);
    });
    expect(sha(received)).toBe(sha(streamFor(9)));
  });

  it("keeps limit_data's count per connection across an update, as one process does", async () => {
    expect((await call("POST", "/proxies/bulk/toxics", { name: "cap", type: "limit_data", attributes: { bytes: 100_000 } })).status).toBe(200);
    const cut = await fetchStream(links.stream, 7, false);
    expect(cut.length).toBe(100_000);
    expect(sha(cut)).toBe(sha(streamFor(7).subarray(0, 100_000)));
    expect((await call("DELETE", "/proxies/bulk/toxics/cap")).status).toBe(204);
  });

  it("drops the workers' connections when the proxy is disabled, and relays again when enabled", async () => {
    const connection = keptConnection(links.health);
    try {
      expect((await connection.get()).status).toBe(200);
      expect((await call("POST", "/proxies/edge", { enabled: false })).status).toBe(200);
      await expect(connection.get()).rejects.toThrow();
    } finally {
      connection.close();
    }
    expect((await call("POST", "/proxies/edge", { enabled: true })).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${links.health}/health`)).status).toBe(200);
  });
});

describe("stopping", () => {
  it("ends the worker processes with the proxy", async () => {
    const pid = child.pid!;
    child.kill("SIGTERM");
    const result = await child;
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toMatch(/relayed by 2 worker process\(es\)/);
    await pollUntil(() => workersOf(pid).length === 0, 5_000, "the worker processes to exit");
  });
});

/** Sockets a process has open. */
function openSockets(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:");
    } catch {
      return false;
    }
  }).length;
}

/** The relay processes whose parent is `pid`. */
function workersOf(pid: number): string[] {
  return processesMentioning("relay-worker.js").filter((line) => {
    try {
      const stat = readFileSync(`/proc/${line.split(":")[0]}/stat`, "utf8");
      return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid;
    } catch {
      return false;
    }
  });
}

describe("--workers", () => {
  it("uses the cores beyond two, up to 8, and none on two cores", () => {
    expect(relayProcesses("auto", 2)).toBe(0);
    expect(relayProcesses("auto", 4)).toBe(3);
    expect(relayProcesses("auto", 32)).toBe(8);
    expect(relayProcesses("3", 2)).toBe(3);
    expect(() => relayProcesses("-1", 4)).toThrow(/expected auto or a whole number/);
    expect(() => relayProcesses("999", 4)).toThrow(/expected auto or a whole number/);
  });
});
