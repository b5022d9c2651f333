import { describe, expect, it } from "vitest";
import { Toxiproxy, type ICreateProxyBody } from "toxiproxy-node-client";
import { timedGet, median } from "../helpers/http.js";
import { useProxyFixture } from "../helpers/proxy-fixture.js";

const fixture = useProxyFixture();

async function raw(method: string, path: string, body?: unknown) {
  const res = await fetch(`${fixture.server.url}${path}`, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}

describe("the proxy API, driven by toxiproxy-node-client (an unchanged Toxiproxy client)", () => {
  it("creates a proxy, adds and removes a latency toxic, and the latency through the link matches", async () => {
    const client = new Toxiproxy(fixture.server.url);
    const body: ICreateProxyBody = { name: "client-latency", listen: "127.0.0.1:0", upstream: `127.0.0.1:${fixture.upstream.port}` };
    const proxy = await client.createProxy(body);
    const port = Number(proxy.listen.split(":").pop());
    const url = `http://127.0.0.1:${port}/health`;

    const before = median(await Promise.all(Array.from({ length: 5 }, () => timedGet(url))));
    const toxic = await proxy.addToxic({ name: "lag", type: "latency", stream: "downstream", toxicity: 1, attributes: { latency: 200, jitter: 0 } });
    expect(toxic.attributes).toEqual({ latency: 200, jitter: 0 });
    const samples: number[] = [];
    for (let i = 0; i < 15; i++) samples.push(await timedGet(url));
    expect(median(samples)).toBeGreaterThanOrEqual(200);
    expect(median(samples)).toBeLessThanOrEqual(205 + before);

    await toxic.remove();
    expect(JSON.parse((await raw("GET", "/proxies/client-latency/toxics")).text)).toEqual([]);
    expect(await timedGet(url)).toBeLessThan(100);
    await proxy.remove();
  });

  it("lists, shows and resets proxies, and reports its version", async () => {
    const client = new Toxiproxy(fixture.server.url);
    const proxy = await client.createProxy({ name: "listed", listen: "127.0.0.1:0", upstream: `127.0.0.1:${fixture.upstream.port}` });
    await proxy.addToxic({ name: "slow", type: "latency", stream: "upstream", toxicity: 1, attributes: { latency: 10, jitter: 0 } });
    expect(Object.keys(await client.getAll())).toContain("listed");
    expect((await proxy.getToxic("slow")).name).toBe("slow");
    await client.reset();
    expect(JSON.parse((await raw("GET", "/proxies/listed/toxics")).text)).toEqual([]);
    expect(JSON.parse(await client.getVersion())).toHaveProperty("version");
    await proxy.remove();
  });

  it("populates proxies, keeping an unchanged one and its toxics", async () => {
    const client = new Toxiproxy(fixture.server.url);
    const first = await client.populate([{ name: "pop", listen: "127.0.0.1:0", upstream: `127.0.0.1:${fixture.upstream.port}` }]);
    await first.pop!.addToxic({ name: "keep", type: "latency", stream: "downstream", toxicity: 1, attributes: { latency: 1, jitter: 0 } });
    const again = await client.populate([{ name: "pop", listen: first.pop!.listen, upstream: `127.0.0.1:${fixture.upstream.port}` }]);
    expect(again.pop!.listen).toBe(first.pop!.listen);
    expect((await again.pop!.getToxic("keep")).name).toBe("keep");
    await first.pop!.remove();
  });
});

describe("the proxy API's exact responses (Toxiproxy's observable contract)", () => {
  it("answers 201 for a new proxy with its JSON, and 200 for a new toxic with defaults filled in", async () => {
    const created = await raw("POST", "/proxies", { name: "shape", upstream: `127.0.0.1:${fixture.upstream.port}` });
    expect(created.status).toBe(201);
    expect(created.type).toBe("application/json");
    expect(JSON.parse(created.text)).toMatchObject({ name: "shape", listen: expect.stringMatching(/^127\.0\.0\.1:\d+$/), upstream: `127.0.0.1:${fixture.upstream.port}`, enabled: true, toxics: [] });
    const toxic = await raw("POST", "/proxies/shape/toxics", { type: "bandwidth" });
    expect(toxic.status).toBe(200);
    expect(JSON.parse(toxic.text)).toEqual({ attributes: { rate: 0 }, name: "bandwidth_downstream", type: "bandwidth", stream: "downstream", toxicity: 1 });
    expect((await raw("DELETE", "/proxies/shape/toxics/bandwidth_downstream")).status).toBe(204);
    expect((await raw("DELETE", "/proxies/shape")).status).toBe(204);
  });

  it("uses Toxiproxy's error bodies and status codes", async () => {
    await raw("POST", "/proxies", { name: "errs", upstream: `127.0.0.1:${fixture.upstream.port}` });
    const cases: [string, string, unknown, number, string][] = [
      ["GET", "/proxies/nope", undefined, 404, "proxy not found"],
      ["POST", "/proxies", { name: "errs", upstream: "127.0.0.1:1" }, 409, "proxy already exists"],
      ["POST", "/proxies", { upstream: "127.0.0.1:1" }, 400, "missing required field: name"],
      ["POST", "/proxies/errs/toxics", { type: "nope" }, 400, "invalid toxic type"],
      ["POST", "/proxies/errs/toxics", { type: "latency", stream: "sideways" }, 400, "stream was invalid, can be either upstream or downstream"],
      ["GET", "/proxies/errs/toxics/nope", undefined, 404, "toxic not found"],
    ];
    for (const [method, path, body, status, error] of cases) {
      const res = await raw(method, path, body);
      expect({ path, status: res.status, type: res.type, body: res.text }).toEqual({ path, status, type: "text/plain; charset=utf-8", body: `${JSON.stringify({ error, status })}\n` });
    }
    await raw("POST", "/proxies/errs/toxics", { type: "latency" });
    expect((await raw("POST", "/proxies/errs/toxics", { type: "latency" })).status).toBe(409);
    await raw("DELETE", "/proxies/errs");
  });

  it("refuses to change the HTTP layer of a link that exists, and leaves the link as it was", async () => {
    await raw("POST", "/proxies", { name: "layered", upstream: `127.0.0.1:${fixture.upstream.port}` });
    const res = await raw("POST", "/proxies/layered", { http: true });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/a TCP link: \\"http\\" cannot be changed/);
    const after = JSON.parse((await raw("GET", "/proxies/layered")).text) as { http?: boolean; enabled: boolean };
    expect(after).toMatchObject({ enabled: true });
    expect(after.http).toBeUndefined();
    // Sending back what GET answered (as Toxiproxy clients do) is no change.
    expect((await raw("POST", "/proxies/layered", { ...after, enabled: true })).status).toBe(200);
    await raw("DELETE", "/proxies/layered");
  });

  it("refuses browsers, so a web page cannot drive it", async () => {
    const res = await fetch(`${fixture.server.url}/proxies`, { headers: { "user-agent": "Mozilla/5.0" } });
    expect(res.status).toBe(403);
  });

  it("stops accepting connections when disabled and accepts them again when enabled", async () => {
    const created = JSON.parse((await raw("POST", "/proxies", { name: "toggle", upstream: `127.0.0.1:${fixture.upstream.port}` })).text) as { listen: string };
    const url = `http://${created.listen}/health`;
    expect((await fetch(url)).status).toBe(200);
    expect(JSON.parse((await raw("POST", "/proxies/toggle", { enabled: false })).text)).toMatchObject({ enabled: false });
    await expect(fetch(url)).rejects.toThrow();
    await raw("PATCH", "/proxies/toggle", { enabled: true });
    expect((await fetch(url)).status).toBe(200);
    await raw("DELETE", "/proxies/toggle");
  });
});
