import { afterAll, describe, expect, it } from "vitest";
import http from "node:http";
import { setMaxListeners } from "node:events";
import { readTrafficStream } from "../../src/adapters/proxy/traffic-stream.js";
import { trafficProbe } from "../../src/adapters/proxy/traffic-probe.js";
import { parseExperiment } from "../../src/experiment/loader.js";
import { runExperiment } from "../../src/engine/runner.js";
import { registry } from "../../src/registry.js";
import type { RunEvent } from "../../src/contract/events.js";
import { eventually } from "../helpers/poll.js";
import { tempDir } from "../helpers/temp.js";
import { useProxyFixture } from "../helpers/proxy-fixture.js";

const fixture = useProxyFixture();
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
afterAll(() => agent.destroy());

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; bytes: number; complete: boolean }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, headers }, (res) => {
      let bytes = 0;
      res.on("data", (c: Buffer) => (bytes += c.length));
      res.on("end", () => resolve({ status: res.statusCode!, bytes, complete: res.complete }));
      res.on("error", () => resolve({ status: res.statusCode!, bytes, complete: false }));
    });
    req.on("error", () => resolve({ status: 0, bytes: 0, complete: false }));
  });
}

async function api(path: string): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  const res = await fetch(`${fixture.server.url}${path}`, { headers: { "user-agent": "test" } });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { status: res.status, json, text };
}

describe("a link's own view of its traffic", () => {
  it("reports the error ratio, 4xx, latency and throughput of what it relayed", async () => {
    const link = await fixture.link({ http: true });
    for (let i = 0; i < 15; i++) expect((await get(`${link.base}/bytes?n=1000`)).status).toBe(200);
    await get(`${link.base}/no-such-path`);
    link.proxy.addToxic({ name: "fail", type: "http_error", attributes: { status: 503 } });
    for (let i = 0; i < 4; i++) expect((await get(`${link.base}/bytes?n=1000`)).status).toBe(503);
    const { status, json } = await api(`/proxies/${link.name}/traffic?window=30s`);
    expect(status).toBe(200);
    expect(json).toMatchObject({ requests: 20, errors: 4, errorRatio: 0.2, clientErrors: 1, incomplete: 0 });
    expect(json.latencyP50Ms).toBeGreaterThan(0);
    expect(json.bytesPerSecond).toBeGreaterThan(0);
    // Only the last 5 exchanges: four of them failed.
    expect((await api(`/proxies/${link.name}/traffic?last=5`)).json).toMatchObject({ requests: 5, errors: 4 });
    expect((await api(`/proxies/${link.name}/traffic?paths=/bytes`)).json).toMatchObject({ requests: 19 });
  });

  it("counts an answer cut short as an error, not as a success", async () => {
    const link = await fixture.link({ http: true, toxics: [{ type: "truncate_body", attributes: { bytes: 100 } }] });
    const answer = await get(`${link.base}/bytes?n=100000`);
    expect(answer.complete).toBe(false);
    const stats = await eventually(() => api(`/proxies/${link.name}/traffic`).then((r) => r.json), (j) => j.requests === 1);
    expect(stats).toMatchObject({ requests: 1, errors: 1, incomplete: 1 });
  });

  it("counts a client that leaves before the answer as cancelled, not as an error", async () => {
    const link = await fixture.link({ http: true });
    await new Promise<void>((resolve) => {
      const req = http.get(`${link.base}/slow?ms=2000`, { agent: false });
      req.on("error", () => resolve());
      setTimeout(() => req.destroy(), 100);
    });
    const stats = await eventually(() => api(`/proxies/${link.name}/traffic?minRequests=0`).then((r) => r.json), (j) => j.requests === 1);
    expect(stats).toMatchObject({ requests: 1, errors: 0, cancelled: 1, incomplete: 0 });
  });

  it("shows a stalled upstream in the latency percentiles while its requests still hang", async () => {
    const link = await fixture.link({ http: true });
    for (let i = 0; i < 5; i++) await get(`${link.base}/health`);
    link.proxy.addToxic({ name: "stall", type: "http_latency", attributes: { latency: 60_000 } });
    const hanging = get(`${link.base}/health`);
    const stats = await eventually(() => api(`/proxies/${link.name}/traffic`).then((r) => r.json), (j) => (j.oldestInFlightMs as number) >= 500);
    expect(stats).toMatchObject({ requests: 5, inFlight: 1 });
    expect(stats.latencyP99Ms).toBeGreaterThanOrEqual(500);
    link.proxy.removeToxic("stall");
    expect((await hanging).status).toBe(200);
  });

  it("leaves LL-HLS blocking playlist reloads out of the latency, held or answered, and counts them", async () => {
    const link = await fixture.link({ http: true });
    for (let i = 0; i < 5; i++) await get(`${link.base}/health`);
    // The origin holds a reload asking for a segment not yet published (_HLS_msn): here for 3 s,
    // next to an ordinary request that takes 1.5 s.
    const reload = get(`${link.base}/slow?ms=3000&_HLS_msn=42&_HLS_part=1`);
    const ordinary = get(`${link.base}/slow?ms=1500`);
    const during = await eventually(() => api(`/proxies/${link.name}/traffic`).then((r) => r.json), (j) => (j.oldestInFlightMs as number) >= 200 && j.oldestBlockingReloadMs !== null);
    expect(during).toMatchObject({ requests: 5, inFlight: 1 });
    expect(during.oldestBlockingReloadMs).toBeGreaterThanOrEqual(150);
    expect([(await reload).status, (await ordinary).status]).toEqual([200, 200]);
    const after = await eventually(() => api(`/proxies/${link.name}/traffic`).then((r) => r.json), (j) => j.requests === 7);
    expect(after).toMatchObject({ blockingReloads: 1, errors: 0, oldestBlockingReloadMs: null });
    expect(after.latencyP99Ms).toBeGreaterThanOrEqual(1500);
    expect(after.latencyP99Ms).toBeLessThan(3000);
  });

  it("splits the figures by the cohort the link tagged each viewer with", async () => {
    const link = await fixture.link({ http: true, toxics: [{ name: "tag", type: "cohort_tag", attributes: { cohort_percent: 50 } }] });
    const cohorts = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      await new Promise<void>((resolve) =>
        http.get(`${link.base}/health`, { agent, headers: { "x-viewer-id": `v${i}` } }, (res) => {
          const c = String(res.headers["x-chaoscast-cohort"]);
          cohorts.set(c, (cohorts.get(c) ?? 0) + 1);
          res.resume().on("end", resolve);
        }),
      );
    }
    expect((await api(`/proxies/${link.name}/traffic?cohort=experiment`)).json.requests).toBe(cohorts.get("experiment"));
    expect((await api(`/proxies/${link.name}/traffic?cohort=control`)).json.requests).toBe(cohorts.get("control"));
  });

  it("pushes new figures on its stream when an answer fails, without being asked again", async () => {
    const link = await fixture.link({ http: true });
    for (let i = 0; i < 5; i++) await get(`${link.base}/health`);
    const lines: Record<string, number>[] = [];
    const stop = new AbortController();
    const reading = readTrafficStream({ api: fixture.server.url.replace("http://", ""), path: `/proxies/${link.name}/traffic?last=10&stream=true`, signal: stop.signal, silenceMs: 5_000, onLine: (l) => lines.push(l as Record<string, number>) });
    await eventually(() => lines.length, (n) => n >= 1);
    expect(lines[0]).toMatchObject({ requests: 5, errors: 0 });
    link.proxy.addToxic({ name: "fail", type: "http_error", attributes: { status: 500 } });
    expect((await get(`${link.base}/health`)).status).toBe(500);
    const seen = await eventually(() => lines.at(-1), (l) => l?.errors === 1);
    expect(seen).toMatchObject({ requests: 6, errors: 1 });
    stop.abort();
    await reading;
    await eventually(() => link.proxy.traffic()!.subscribers, (n) => n === 0);
    expect(link.proxy.traffic()!.subscribers).toBe(0);
  });

  it("ends its streams when the link is removed", async () => {
    const link = await fixture.link({ http: true });
    const reading = readTrafficStream({ api: fixture.server.url.replace("http://", ""), path: `/proxies/${link.name}/traffic?stream=true`, signal: new AbortController().signal, silenceMs: 5_000, onLine: () => {} });
    await eventually(() => link.proxy.traffic()!.subscribers, (n) => n === 1);
    await fixture.server.collection.remove(link.name);
    await expect(reading).rejects.toThrow(/ended the traffic stream/);
  });

  it("the probe lets a silent link pass with minRequests 0, and fails it otherwise", async () => {
    const link = await fixture.link({ http: true });
    const apiAddress = fixture.server.url.replace("http://", "");
    const run = (extra: Record<string, unknown>) => trafficProbe.run(trafficProbe.params.parse({ api: apiAddress, proxy: link.name, ...extra }), { signal: new AbortController().signal, timeoutMs: 2_000 });
    expect((await run({ minRequests: 0 })).noVerdict).toMatchObject({ as: "pass" });
    expect((await run({})).error).toMatch(/0 request\(s\) on link-\d+ in the window, fewer than minRequests 10/);
    expect((await run({ cohort: "experiment" })).error).toMatch(/is the link tagging cohorts/);
    expect(trafficProbe.params.safeParse({ proxy: "x", last: 5 }).success).toBe(false);
  });

  it("an experiment whose traffic probe has a glob that can never match is refused where it is written", () => {
    const text = ["version: 1", "title: t", "steadyState:", "  - name: segments", "    probe: traffic", '    with: { proxy: edge, paths: "v/*.ts" }', "faults: []", ""].join("\n");
    expect(() => parseExperiment(text, "t.yaml", { registry, vars: { cli: {}, env: {} } })).toThrow(/t\.yaml:6:\d+.*can never match/s);
  });

  it("refuses bad windows, TCP links and unknown links with a clear answer", async () => {
    const httpLink = await fixture.link({ http: true });
    const tcpLink = await fixture.link();
    expect(await api(`/proxies/${httpLink.name}/traffic?window=11m`)).toMatchObject({ status: 400 });
    expect((await api(`/proxies/${httpLink.name}/traffic?last=0`)).text).toMatch(/last=0: expected a whole number/);
    expect((await api(`/proxies/${httpLink.name}/traffic?cohort=everyone`)).text).toMatch(/expected experiment or control/);
    expect((await api(`/proxies/${httpLink.name}/traffic?paths=v/*.ts`)).json.error).toMatch(/can never match.*did you mean "\*\*\/v\/\*\.ts"/);
    expect((await api(`/proxies/${httpLink.name}/traffic?paths=${encodeURIComponent(`/${"*a".repeat(20)}`)}`)).json.error).toMatch(/20 wildcards; at most 16/);
    expect((await api(`/proxies/${httpLink.name}/traffic?stream=yes`)).json.error).toMatch(/stream=yes: expected true or false/);
    expect((await api(`/proxies/${tcpLink.name}/traffic`)).text).toMatch(/not an HTTP link/);
    expect(await api("/proxies/nope/traffic")).toMatchObject({ status: 404 });
  });
});

describe("in-band breach detection", () => {
  /** About 100 requests a second through the link, until stopped: the traffic the probe judges. */
  function steadyLoad(url: string): { stop(): Promise<void> } {
    let running = true;
    const loop = (async () => {
      while (running) {
        await get(url);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    return {
      async stop() {
        running = false;
        await loop;
      },
    };
  }

  async function run(faultAt: string, stateDir: string, abort = "{ interval: 10s, after: 1 }") {
    const api = fixture.server.url.replace("http://", "");
    const link = await fixture.link({ http: true });
    const load = steadyLoad(`${link.base}/health`);
    try {
      await eventually(() => link.proxy.traffic()!.snapshot({ windowMs: 10_000 }).requests, (n) => n >= 10);
      const experiment = parseExperiment(
        `version: 1
title: in-band
duration: 3s
targets:
  edge: { proxy: { name: ${link.name}, api: "${api}" } }
steadyState:
  - name: edge error ratio
    probe: traffic
    with: { api: "${api}", proxy: ${link.name}, last: 20, minRequests: 5 }
    expect: { errorRatio: "< 0.1" }
# Rounds this far apart could not see the fault in time: only the pushed figures can abort the run early.
abort: ${abort}
recovery: { timeout: 5s, interval: 100ms }
faults:
  - { name: edge 503, action: proxy.http-error, target: edge, at: ${faultAt}, with: { status: 503 } }
`,
        "in-band.yaml",
        { registry, vars: { cli: {}, env: {} } },
      );
      const events: RunEvent[] = [];
      const result = await runExperiment(experiment, { registry, runId: `in-band-${link.name}`, seed: "s", sink: (e) => events.push(e), interrupt: new AbortController().signal, stateDir });
      return { result, events, link };
    } finally {
      await load.stop();
    }
  }

  it("aborts on the link's own failing answers between probe rounds, and removes the fault", async () => {
    const { result, events, link } = await run("500ms", tempDir());
    expect(result.outcome).toBe("aborted");
    expect(result.reason).toMatch(/breached in-band \(edge error ratio: /);
    expect(events.find((e) => e.type === "breach")).toMatchObject({ inBand: true, probes: ["edge error ratio"] });
    expect(link.proxy.listToxics()).toEqual([]);
    expect((await get(`${link.base}/health`)).status).toBe(200);
  });

  it("says when its stream is refused, and the rounds poll the probe instead", async () => {
    // Every stream the proxy allows is taken by someone else.
    const others = new AbortController();
    setMaxListeners(100, others.signal);
    const held = await fixture.link({ http: true });
    const streams = Array.from({ length: 64 }, () =>
      readTrafficStream({ api: fixture.server.url.replace("http://", ""), path: `/proxies/${held.name}/traffic?stream=true`, signal: others.signal, silenceMs: 60_000, onLine: () => {} }).catch(() => {}),
    );
    try {
      // Only the status: a stream that is let in never ends, and is let go at once.
      const streamStatus = async () => {
        const asking = new AbortController();
        const res = await fetch(`${fixture.server.url}/proxies/${held.name}/traffic?stream=true`, { headers: { "user-agent": "test" }, signal: asking.signal });
        asking.abort();
        return res.status;
      };
      await eventually(streamStatus, (status) => status === 429);
      const { result, events } = await run("500ms", tempDir(), "{ interval: 300ms, after: 1 }");
      const notes = events.filter((e) => e.type === "note").map((e) => (e as { message: string }).message);
      expect(notes.some((m) => /in-band stream of "edge error ratio" is down \(.*429.*\): the probe is polled every round/.test(m)), JSON.stringify(notes)).toBe(true);
      expect(result.outcome).toBe("aborted");
      expect(events.find((e) => e.type === "breach")).not.toMatchObject({ inBand: true });
    } finally {
      others.abort();
      await Promise.all(streams);
    }
  });
});
