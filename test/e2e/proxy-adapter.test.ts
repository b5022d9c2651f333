import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startProxyServer, type ProxyServer } from "../../src/proxy/server.js";
import { freePort, pollUntil, readJournals, runCli, startServer, waitForOutput, workdir, writeExperiment, type TestServer } from "../helpers/processes.js";

let upstream: TestServer;
let proxy: ProxyServer;
let dir: string;
let api: string;
let link: string;

beforeEach(async () => {
  upstream = await startServer();
  proxy = await startProxyServer({
    api: "127.0.0.1:0",
    proxies: [
      { name: "edge", upstream: `127.0.0.1:${upstream.port}` },
      { name: "edge-http", upstream: `127.0.0.1:${upstream.port}`, http: true },
    ],
  });
  api = proxy.url.replace("http://", "");
  link = proxy.collection.get("edge").listen;
  dir = workdir();
});
afterEach(async () => {
  await proxy.close();
  await upstream.stop();
});

const experiment = (fault: string, options: { latencyBudget?: number; lease?: string; duration?: string } = {}) => `version: 1
title: through the edge proxy
duration: ${options.duration ?? "2s"}
targets:
  edge: { proxy: { name: edge, api: "${api}"${options.lease ? `, lease: ${options.lease}` : ""} } }
steadyState:
  - name: health through the edge
    probe: http
    with: { url: "http://${link}/health", timeout: 2s }
    expect: { status: 200, latencyMs: "< ${options.latencyBudget ?? 300}" }
abort: { interval: 400ms, after: 2 }
faults:
  - { name: edge fault, target: edge, ${fault} }
recovery: { timeout: 5s }
`;

const toxicsOnEdge = () => proxy.collection.get("edge").listToxics();

describe("the proxy adapter against a running fault proxy", () => {
  it("aborts when added latency breaks the hypothesis, and leaves no toxic behind", async () => {
    const file = writeExperiment(dir, "lat.yaml", experiment('action: proxy.latency, with: { latency: 800ms }', { duration: "20s" }));
    const result = await runCli(["run", file], { cwd: dir });
    expect(result.exitCode, result.all).toBe(2);
    expect(toxicsOnEdge()).toEqual([]);
    expect(readJournals(dir)[0]).toMatchObject({ outcome: "aborted", faults: [{ action: "proxy.latency", status: "reverted" }] });
  });

  it("passes when the latency stays inside the budget, and removes exactly its own toxic", async () => {
    proxy.collection.get("edge").addToxic({ name: "someone-elses", type: "latency", stream: "upstream", attributes: { latency: 1 } });
    const file = writeExperiment(dir, "ok.yaml", experiment('action: proxy.latency, with: { latency: 50ms }'));
    const result = await runCli(["run", file], { cwd: dir });
    expect(result.exitCode, result.all).toBe(0);
    expect(toxicsOnEdge().map((t) => t.name)).toEqual(["someone-elses"]);
  });

  it("takes the link down and brings it back up", async () => {
    const file = writeExperiment(dir, "down.yaml", experiment("action: proxy.down", { duration: "20s" }));
    const result = await runCli(["run", file], { cwd: dir });
    expect(result.exitCode, result.all).toBe(2);
    expect(proxy.collection.get("edge").enabled).toBe(true);
    expect((await fetch(`http://${link}/health`)).status).toBe(200);
  });

  it("skips with a suggestion when the proxy name is wrong", async () => {
    const file = writeExperiment(dir, "typo.yaml", experiment("action: proxy.down").replace("name: edge", "name: egde"));
    const result = await runCli(["run", file], { cwd: dir });
    expect(result.exitCode).toBe(5);
    expect(result.all).toMatch(/has no proxy "egde" \(did you mean "edge"\?\)/);
  });

  it("fails segments for a consistent 10% of viewers (inside the 99% binomial bound) and leaves no toxic", async () => {
    const httpLink = proxy.collection.get("edge-http").listen;
    const file = writeExperiment(
      dir,
      "viewers.yaml",
      `version: 1
title: a 10% viewer cohort loses its segments
duration: 60s
targets:
  edge: { proxy: { name: edge-http, api: "${api}" } }
faults:
  - name: segment errors for 10% of viewers
    target: edge
    action: proxy.http-error
    with: { status: 503, match: { path: "**/*.ts" }, viewerPercent: 10% }
`,
    );
    const child = runCli(["run", file, "--output", "jsonl"], { cwd: dir });
    await waitForOutput(child, '"fault-injected"');
    const viewerFails = async (i: number) => {
      const res = await fetch(`http://${httpLink}/live/seg-${i}.ts`, { headers: { "x-viewer-id": `viewer-${i}` } });
      await res.arrayBuffer();
      return res.status === 503;
    };
    const outcomes: boolean[] = [];
    for (let i = 0; i < 1000; i += 50) outcomes.push(...(await Promise.all(Array.from({ length: 50 }, (_, j) => viewerFails(i + j)))));
    const playlist = await fetch(`http://${httpLink}/live/master.m3u8`, { headers: { "x-viewer-id": "viewer-0" } });
    expect(playlist.status).toBe(200);
    child.kill("SIGINT");
    await child;
    const failing = outcomes.filter(Boolean).length;
    const sd = Math.sqrt(1000 * 0.1 * 0.9);
    expect(failing).toBeGreaterThanOrEqual(100 - 2.576 * sd);
    expect(failing).toBeLessThanOrEqual(100 + 2.576 * sd);
    expect(proxy.collection.get("edge-http").listToxics()).toEqual([]);
  });

  it("starts its own link for listen/upstream, faults it, and closes it when the run is over", async () => {
    const port = await freePort();
    const file = writeExperiment(
      dir,
      "embedded.yaml",
      `version: 1
title: an embedded link
duration: 20s
targets:
  link: { proxy: { listen: "127.0.0.1:${port}", upstream: "127.0.0.1:${upstream.port}" } }
steadyState:
  - name: health through the link
    probe: http
    with: { url: "http://127.0.0.1:${port}/health", timeout: 2s }
    expect: { status: 200, latencyMs: "< 300" }
abort: { interval: 400ms, after: 2 }
faults:
  - { name: slow link, target: link, action: proxy.latency, with: { latency: 800ms } }
`,
    );
    const result = await runCli(["run", file], { cwd: dir });
    expect(result.exitCode, result.all).toBe(2);
    expect(result.all).toMatch(/embedded link 127\.0\.0\.1:\d+ → 127\.0\.0\.1:\d+/);
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  });

  it("leaves toxics that vanish within their lease when the run is killed with SIGKILL", async () => {
    const file = writeExperiment(dir, "killed.yaml", experiment("action: proxy.latency, with: { latency: 10ms }", { lease: "2s", duration: "60s", latencyBudget: 1000 }));
    // Without its watchdog, so what removes the toxics is the lease alone.
    const child = runCli(["run", file, "--watchdog", "off"], { cwd: dir });
    await waitForOutput(child, "injected edge fault", 15_000);
    // Past the first refresh, so the lease is being kept alive by the run: a refresh sets the
    // toxic's lease timer anew.
    const [injected] = toxicsOnEdge();
    expect(injected?.ttl).toBe(2000);
    const firstLease = injected!.leaseTimer;
    await pollUntil(() => injected!.leaseTimer !== firstLease, 3000, "the run's first lease refresh");
    expect(toxicsOnEdge()).toEqual([injected]);
    child.kill("SIGKILL");
    await child;
    const killedAt = Date.now();
    await pollUntil(() => toxicsOnEdge().length === 0, 4000);
    expect(Date.now() - killedAt).toBeLessThanOrEqual(2500);
  });
});
