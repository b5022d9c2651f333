import { afterAll, describe, expect, it } from "vitest";
import http from "node:http";
import net from "node:net";
import { fetchBytes, median, timedGet } from "../helpers/http.js";
import { holdsFor } from "../helpers/poll.js";
import { useProxyFixture } from "../helpers/proxy-fixture.js";

const fixture = useProxyFixture();
const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
afterAll(() => agent.destroy());

const httpLink = (toxics: Record<string, unknown>[] = []) => fixture.link({ http: true, toxics });

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode!, body, headers: res.headers }));
      })
      .on("error", reject);
  });
}

async function inBatches<T>(n: number, size: number, work: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += size) out.push(...(await Promise.all(Array.from({ length: Math.min(size, n - i) }, (_, j) => work(i + j)))));
  return out;
}

/** The 99% interval of a binomial count: mean ± 2.576 standard deviations. */
function binomial99(n: number, p: number): [number, number] {
  const sd = Math.sqrt(n * p * (1 - p));
  return [n * p - 2.576 * sd, n * p + 2.576 * sd];
}

describe("HTTP-aware toxics", () => {
  it("http_error at 10% fails a share of 2,000 requests inside the 99% binomial interval", async () => {
    const link = await httpLink([{ type: "http_error", attributes: { status: 503, percent: 10 } }]);
    const statuses = await inBatches(2000, 50, () => get(`${link.base}/health`).then((r) => r.status));
    const failed = statuses.filter((s) => s === 503).length;
    const [low, high] = binomial99(2000, 0.1);
    expect(failed).toBeGreaterThanOrEqual(low);
    expect(failed).toBeLessThanOrEqual(high);
    expect(statuses.filter((s) => s !== 503 && s !== 200)).toEqual([]);
  });

  it("viewer_percent picks a consistent 10% of viewers: the same viewer is always in or always out", async () => {
    const link = await httpLink([{ type: "http_error", attributes: { status: 500, viewer_percent: 10 } }]);
    const viewers = Array.from({ length: 1000 }, (_, i) => `viewer-${i}`);
    const first = await inBatches(1000, 50, (i) => get(`${link.base}/health`, { "x-viewer-id": viewers[i]! }).then((r) => r.status === 500));
    const second = await inBatches(1000, 50, (i) => get(`${link.base}/health`, { "x-viewer-id": viewers[i]! }).then((r) => r.status === 500));
    expect(second).toEqual(first);
    const [low, high] = binomial99(1000, 0.1);
    const failing = first.filter(Boolean).length;
    expect(failing).toBeGreaterThanOrEqual(low);
    expect(failing).toBeLessThanOrEqual(high);
  });

  it("takes the viewer from a cookie when the header is absent", async () => {
    const link = await httpLink([{ type: "http_error", attributes: { viewer_percent: 50, viewer_cookie: "vid" } }]);
    const outcomes = await inBatches(40, 20, (i) => get(`${link.base}/health`, { cookie: `a=1; vid=v${i % 4}` }).then((r) => r.status));
    for (let v = 0; v < 4; v++) expect(new Set(outcomes.filter((_, i) => i % 4 === v)).size).toBe(1);
  });

  it("matches by path glob and method: segments fail, playlists and other methods do not", async () => {
    const link = await httpLink([{ type: "http_error", attributes: { path: "**/*.ts", method: "GET", status: 502 } }]);
    expect((await get(`${link.base}/live/seg-1.ts`)).status).toBe(502);
    expect((await get(`${link.base}/live/media.m3u8`)).status).toBe(200);
    const head = await new Promise<number>((resolve) => http.request(`${link.base}/live/seg-1.ts`, { method: "HEAD", agent }, (res) => { res.resume(); resolve(res.statusCode!); }).end());
    expect(head).toBe(200);
  });

  it("http_latency delays only matching responses", async () => {
    const link = await httpLink([{ type: "http_latency", attributes: { path: "**/*.ts", latency: 200 } }]);
    const segment = median(await inBatches(5, 1, () => timedGet(`${link.base}/live/seg-1.ts`)));
    const playlist = median(await inBatches(5, 1, () => timedGet(`${link.base}/live/master.m3u8`)));
    expect(segment).toBeGreaterThanOrEqual(195);
    expect(playlist).toBeLessThan(100);
  });

  it("http_bandwidth throttles matching bodies to the rate and leaves others alone", async () => {
    const link = await httpLink([{ type: "http_bandwidth", attributes: { path: "/bytes", rate: 125 } }]);
    const slow = await fetchBytes(`${link.base}/bytes?n=250000`, 10_000);
    const mbit = (slow.bytes * 8) / 1e6 / (slow.ms / 1000);
    expect(mbit).toBeGreaterThan(0.95);
    expect(mbit).toBeLessThan(1.05);
    expect((await fetchBytes(`${link.base}/health`)).ms).toBeLessThan(100);
  });

  it("segment_drop answers 404 for segments, and in hang mode never answers until it is removed", async () => {
    const link = await httpLink([{ name: "drop", type: "segment_drop" }]);
    expect((await get(`${link.base}/live/seg-7.ts`)).status).toBe(404);
    expect((await get(`${link.base}/live/media.m3u8`)).status).toBe(200);
    link.proxy.removeToxic("drop");
    link.proxy.addToxic({ name: "hang", type: "segment_drop", attributes: { mode: "hang" } });
    let answered = false;
    const pending = fetchBytes(`${link.base}/live/seg-7.ts`, 5000).finally(() => {
      answered = true;
    });
    // Held for 300 ms (the scenario: a viewer left waiting), watched all the while: no answer comes.
    await holdsFor(() => expect(answered, "the segment request, while the toxic hangs it").toBe(false), 300);
    link.proxy.removeToxic("hang");
    const result = await pending;
    expect(result.status).toBeUndefined();
    expect(result.ms).toBeGreaterThanOrEqual(290);
  });

  it("truncate_body sends only the first bytes of the body, then closes", async () => {
    const link = await httpLink([{ type: "truncate_body", attributes: { path: "/bytes", bytes: 1000 } }]);
    const result = await fetchBytes(`${link.base}/bytes?n=100000`);
    expect(result.bytes).toBe(1000);
    expect(result.error).toBeDefined();
  });

  it("hls_stale_playlist freezes media playlists (the live edge stops) but not the master", async () => {
    const link = await httpLink();
    const advancing = [await get(`${link.base}/live/media.m3u8`), await get(`${link.base}/live/media.m3u8`)];
    expect(advancing[0]!.body).not.toBe(advancing[1]!.body);
    link.proxy.addToxic({ name: "stale", type: "hls_stale_playlist" });
    const frozen = [await get(`${link.base}/live/media.m3u8`), await get(`${link.base}/live/media.m3u8`), await get(`${link.base}/live/media.m3u8`)];
    expect(new Set(frozen.map((r) => r.body)).size).toBe(1);
    expect((await get(`${link.base}/live/master.m3u8`)).body).toMatch(/EXT-X-STREAM-INF/);
    link.proxy.removeToxic("stale");
    expect((await get(`${link.base}/live/media.m3u8`)).body).not.toBe(frozen[0]!.body);
  });

  it("answers pipelined requests in order, with the faulted one in its place", async () => {
    const link = await httpLink([{ type: "http_error", attributes: { path: "/live/master.m3u8", status: 503 } }]);
    const [host, port] = link.proxy.listen.split(":");
    const text = await new Promise<string>((resolve) => {
      let data = "";
      const socket = net.connect(Number(port), host!, () => {
        socket.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /live/master.m3u8 HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      });
      socket.on("data", (d: Buffer) => (data += d.toString()));
      socket.on("end", () => resolve(data));
    });
    expect([...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => m[1])).toEqual(["200", "503", "200"]);
  });

  it("refuses an HTTP toxic on a plain TCP proxy, saying how to fix it", async () => {
    await fixture.server.collection.create({ name: "plain-tcp", upstream: `127.0.0.1:${fixture.upstream.port}` });
    const res = await fetch(`${fixture.server.url}/proxies/plain-tcp/toxics`, { method: "POST", body: JSON.stringify({ type: "http_error" }) });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('http_error is an HTTP toxic: create the proxy with \\"http\\": true');
  });
});

describe("the cohort_tag toxic", () => {
  /** A GET that also returns the response's cohort header and the headers the upstream was sent. */
  async function tagged(url: string, headers: Record<string, string>): Promise<{ status: number; cohort: string | undefined; sent: Record<string, string> | undefined }> {
    const res = await get(url, headers);
    const cohort = res.headers["x-chaoscast-cohort"];
    return { status: res.status, cohort: typeof cohort === "string" ? cohort : undefined, sent: res.status === 200 && url.endsWith("/echo-headers") ? (JSON.parse(res.body) as Record<string, string>) : undefined };
  }

  it("splits viewers into equal experiment and control cohorts, named on the response and to the upstream", async () => {
    const link = await httpLink([{ type: "cohort_tag", attributes: { cohort_percent: 10 } }]);
    const answers = await inBatches(2000, 50, (i) => tagged(`${link.base}/echo-headers`, { "x-viewer-id": `v-${i}` }));
    const experiment = answers.filter((a) => a.cohort === "experiment").length;
    const control = answers.filter((a) => a.cohort === "control").length;
    const [low, high] = binomial99(2000, 0.1);
    for (const size of [experiment, control]) {
      expect(size).toBeGreaterThanOrEqual(low);
      expect(size).toBeLessThanOrEqual(high);
    }
    // The upstream is told the same cohort the viewer is; viewers in neither cohort carry no header.
    for (const a of answers) expect(a.sent?.["x-chaoscast-cohort"]).toBe(a.cohort);
  });

  it("keeps each viewer in its cohort, and puts the experiment cohort exactly where a fault of the same viewer_percent lands", async () => {
    const link = await httpLink([
      { type: "cohort_tag", attributes: { cohort_percent: 20 } },
      { type: "http_error", attributes: { status: 503, viewer_percent: 20, path: "**/*.ts" } },
    ]);
    for (let i = 0; i < 200; i++) {
      const headers = { "x-viewer-id": `viewer-${i}` };
      const segment = await tagged(`${link.base}/live/seg-1.ts`, headers);
      const again = await tagged(`${link.base}/echo-headers`, headers);
      expect(again.cohort).toBe(segment.cohort);
      // The proxy's own error answer is tagged too, so a failure is counted in its cohort.
      expect(segment.status === 503).toBe(segment.cohort === "experiment");
    }
  });

  it("drops a cohort header the client sent itself", async () => {
    const link = await httpLink([{ type: "cohort_tag", attributes: { cohort_percent: 1 } }]);
    // Find a viewer outside both cohorts, then have it claim to be in one.
    let outside = -1;
    for (let i = 0; outside < 0; i++) if ((await tagged(`${link.base}/echo-headers`, { "x-viewer-id": `w-${i}` })).cohort === undefined) outside = i;
    const forged = await tagged(`${link.base}/echo-headers`, { "x-viewer-id": `w-${outside}`, "x-chaoscast-cohort": "control" });
    expect(forged.cohort).toBeUndefined();
    expect(forged.sent?.["x-chaoscast-cohort"]).toBeUndefined();
  });

  it("identifies a player by its CMCD session id when asked, and only then", async () => {
    const withCmcd = await httpLink([{ type: "cohort_tag", attributes: { cohort_percent: 50, viewer_cmcd: true } }]);
    const without = await httpLink([{ type: "cohort_tag", attributes: { cohort_percent: 50 } }]);
    const cmcd = (sid: string) => `CMCD=${encodeURIComponent(`sid="${sid}"`)}`;
    const sids = Array.from({ length: 40 }, (_, i) => `session-${i}`);
    const first = await inBatches(40, 20, (i) => tagged(`${withCmcd.base}/live/seg-1.ts?${cmcd(sids[i]!)}`, {}));
    const again = await inBatches(40, 20, (i) => tagged(`${withCmcd.base}/live/seg-2.ts?${cmcd(sids[i]!)}`, {}));
    expect(again.map((a) => a.cohort)).toEqual(first.map((a) => a.cohort));
    // 50% + 50%: every session is in one cohort or the other.
    expect(first.filter((a) => a.cohort === undefined)).toEqual([]);
    expect(new Set(first.map((a) => a.cohort))).toEqual(new Set(["experiment", "control"]));
    const plain = await tagged(`${without.base}/live/seg-1.ts?${cmcd("session-1")}`, {});
    expect(plain.cohort).toBeUndefined();
  });

  it("faults only identified viewers when viewer_required, never a request without a viewer id", async () => {
    const link = await httpLink([{ type: "http_error", attributes: { status: 503, viewer_percent: 50, viewer_required: true } }]);
    const anonymous = await inBatches(40, 20, () => get(`${link.base}/health`));
    expect(anonymous.filter((a) => a.status === 503)).toEqual([]);
  });

  it("puts a viewer on the cohorts' boundary in the same cohort the fault reaches, whatever the size's decimals", async () => {
    // 1.1% is 110 buckets; a viewer in bucket 110 is the first of control, and is not faulted.
    const { viewerBucket } = await import("../../src/proxy/toxics/http.js");
    const boundary = Array.from({ length: 200_000 }, (_, i) => `b-${i}`).filter((k) => [109, 110].includes(viewerBucket(k)));
    expect(boundary.length).toBeGreaterThan(1);
    const link = await httpLink([
      { type: "cohort_tag", attributes: { cohort_percent: 1.1 } },
      { type: "http_error", attributes: { status: 503, viewer_percent: 1.1, viewer_required: true } },
    ]);
    for (const key of boundary) {
      const answer = await tagged(`${link.base}/health`, { "x-viewer-id": key });
      expect(answer.cohort).toBe(viewerBucket(key) === 109 ? "experiment" : "control");
      expect(answer.status === 503).toBe(answer.cohort === "experiment");
    }
  });

  it("with a salt picks other cohorts, and a fault with the same salt still lands on exactly its experiment cohort", async () => {
    const plain = await httpLink([{ type: "cohort_tag", attributes: { cohort_percent: 20 } }]);
    const salted = await httpLink([
      { type: "cohort_tag", attributes: { cohort_percent: 20, viewer_salt: "game-day-7" } },
      { type: "http_error", attributes: { status: 503, viewer_percent: 20, viewer_required: true, viewer_salt: "game-day-7" } },
    ]);
    let moved = 0;
    for (let i = 0; i < 200; i++) {
      const headers = { "x-viewer-id": `viewer-${i}` };
      const before = await tagged(`${plain.base}/health`, headers);
      const after = await tagged(`${salted.base}/health`, headers);
      if (before.cohort !== after.cohort) moved += 1;
      expect(after.status === 503).toBe(after.cohort === "experiment");
    }
    expect(moved).toBeGreaterThan(20);
  });

  it("tags nobody without a viewer key", async () => {
    const link = await httpLink([{ type: "cohort_tag", attributes: { cohort_percent: 50 } }]);
    const answers = await inBatches(20, 10, () => tagged(`${link.base}/echo-headers`, {}));
    expect(answers.map((a) => a.cohort).filter(Boolean)).toEqual([]);
  });
});
