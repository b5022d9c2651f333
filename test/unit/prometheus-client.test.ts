// The Prometheus query client (src/prometheus/client.ts) against a small node:http server on
// 127.0.0.1 that plays Prometheus: what it sends (a form POSTed to /api/v1/query, the timeout, the
// time, the auth header), how it reads vector, scalar and matrix answers (NaN and ±Inf included),
// and which failure each way of going wrong is reported as.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { PrometheusConnection } from "../../src/contract/prometheus-connection.js";
import { PrometheusClient, PrometheusError, type PrometheusFailure } from "../../src/prometheus/client.js";

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Reply {
  status: number;
  body: string;
  contentType?: string;
}

const received: Received[] = [];
let reply: Reply = { status: 200, body: "{}" };
let server: http.Server;
let baseUrl: string;

/** A server that accepts connections and never answers, for the timeout. */
let silent: http.Server;
let silentUrl: string;

const listen = async (s: http.Server): Promise<string> => {
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
};

const close = (s: http.Server) =>
  new Promise<void>((resolve) => {
    s.closeAllConnections();
    s.close(() => resolve());
  });

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(reply.status, { "content-type": reply.contentType ?? "application/json" }).end(reply.body);
    });
  });
  baseUrl = await listen(server);
  silent = http.createServer(() => {
    // Never answers.
  });
  silentUrl = await listen(silent);
});

afterAll(async () => {
  await close(server);
  await close(silent);
});

afterEach(() => {
  received.length = 0;
  reply = { status: 200, body: "{}" };
});

const connection = (overrides: Partial<PrometheusConnection> = {}): PrometheusConnection => ({ url: baseUrl, headers: {}, timeout: 10_000, ...overrides });
const signal = () => new AbortController().signal;
const success = (data: unknown) => JSON.stringify({ status: "success", data });
const form = (r: Received) => Object.fromEntries(new URLSearchParams(r.body));

async function failure(promise: Promise<unknown>): Promise<PrometheusError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(PrometheusError);
  return error as PrometheusError;
}

async function failsWith(promise: Promise<unknown>, expected: PrometheusFailure): Promise<PrometheusError> {
  const error = await failure(promise);
  expect(error.failure, error.message).toBe(expected);
  return error;
}

describe("PrometheusClient sending a query", () => {
  it("POSTs the query as a form to /api/v1/query, with the connection's timeout in whole seconds", async () => {
    reply = { status: 200, body: success({ resultType: "vector", result: [] }) };
    await new PrometheusClient(connection()).query('sum(rate(http_requests_total{code=~"5.."}[5m]))', { signal: signal() });
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request!.method).toBe("POST");
    expect(request!.url).toBe("/api/v1/query");
    expect(request!.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(request!.headers.accept).toBe("application/json");
    expect(form(request!)).toEqual({ query: 'sum(rate(http_requests_total{code=~"5.."}[5m]))', timeout: "10s" });
    expect(request!.headers.authorization).toBeUndefined();
  });

  it("sends the evaluation time in seconds when one is given", async () => {
    reply = { status: 200, body: success({ resultType: "vector", result: [] }) };
    await new PrometheusClient(connection()).query("up", { signal: signal(), time: new Date(1_700_000_000_500) });
    expect(form(received[0]!)).toEqual({ query: "up", time: "1700000000.5", timeout: "10s" });
  });

  it("sends the shorter of the connection's timeout and the query's, rounded down to a second but never 0s", async () => {
    reply = { status: 200, body: success({ resultType: "vector", result: [] }) };
    const client = new PrometheusClient(connection());
    await client.query("up", { signal: signal(), timeoutMs: 2_500 });
    await client.query("up", { signal: signal(), timeoutMs: 300 });
    expect(received.map((r) => form(r).timeout)).toEqual(["2s", "1s"]);
  });

  it("appends the API path to a base URL with a path prefix and a trailing slash", async () => {
    reply = { status: 200, body: success({ resultType: "vector", result: [] }) };
    await new PrometheusClient(connection({ url: `${baseUrl}/prometheus/` })).query("up", { signal: signal() });
    expect(received[0]!.url).toBe("/prometheus/api/v1/query");
  });

  it("sends a bearer token as an Authorization header", async () => {
    reply = { status: 200, body: success({ resultType: "vector", result: [] }) };
    await new PrometheusClient(connection({ auth: { bearer: "s3cr3t-token" } })).query("up", { signal: signal() });
    expect(received[0]!.headers.authorization).toBe("Bearer s3cr3t-token");
  });

  it("sends basic auth as base64 of username:password", async () => {
    reply = { status: 200, body: success({ resultType: "vector", result: [] }) };
    await new PrometheusClient(connection({ auth: { basic: { username: "grafana", password: "pa:ss" } } })).query("up", { signal: signal() });
    // base64("grafana:pa:ss")
    expect(received[0]!.headers.authorization).toBe(`Basic ${Buffer.from("grafana:pa:ss").toString("base64")}`);
    expect(received[0]!.headers.authorization).toBe("Basic Z3JhZmFuYTpwYTpzcw==");
  });

  it("sends the connection's extra headers, such as a Mimir tenant", async () => {
    reply = { status: 200, body: success({ resultType: "vector", result: [] }) };
    await new PrometheusClient(connection({ headers: { "X-Scope-OrgID": "tenant-1" } })).query("up", { signal: signal() });
    expect(received[0]!.headers["x-scope-orgid"]).toBe("tenant-1");
  });

  it("POSTs a range query to /api/v1/query_range with start, end and step", async () => {
    reply = { status: 200, body: success({ resultType: "matrix", result: [] }) };
    await new PrometheusClient(connection()).queryRange("up", { signal: signal(), start: new Date(1_700_000_000_000), end: new Date(1_700_000_060_000), stepSeconds: 15 });
    expect(received[0]!.url).toBe("/api/v1/query_range");
    expect(form(received[0]!)).toEqual({ query: "up", start: "1700000000", end: "1700000060", step: "15", timeout: "10s" });
  });
});

describe("PrometheusClient reading an answer", () => {
  it("reads a vector, with NaN, +Inf and -Inf values and the labels of each series", async () => {
    reply = {
      status: 200,
      body: success({
        resultType: "vector",
        result: [
          { metric: { __name__: "up", job: "api" }, value: [1_700_000_000.123, "1"] },
          { metric: { job: "edge" }, value: [1_700_000_000.123, "NaN"] },
          { metric: {}, value: [1_700_000_000.123, "+Inf"] },
          { value: [1_700_000_000.123, "-Inf"] },
          { metric: { job: "origin" }, value: [1_700_000_000.123, "0.25"] },
        ],
      }),
    };
    const result = await new PrometheusClient(connection()).query("up", { signal: signal() });
    expect(result).toEqual({
      kind: "vector",
      series: [
        { labels: { __name__: "up", job: "api" }, value: 1 },
        { labels: { job: "edge" }, value: Number.NaN },
        { labels: {}, value: Number.POSITIVE_INFINITY },
        { labels: {}, value: Number.NEGATIVE_INFINITY },
        { labels: { job: "origin" }, value: 0.25 },
      ],
    });
  });

  it("reads a scalar", async () => {
    reply = { status: 200, body: success({ resultType: "scalar", result: [1_700_000_000, "0.999"] }) };
    expect(await new PrometheusClient(connection()).query("0.999", { signal: signal() })).toEqual({ kind: "scalar", value: 0.999 });
  });

  it("reads a scalar that is NaN", async () => {
    reply = { status: 200, body: success({ resultType: "scalar", result: [1_700_000_000, "NaN"] }) };
    const result = await new PrometheusClient(connection()).query("0/0", { signal: signal() });
    expect(result.kind).toBe("scalar");
    expect(result.kind === "scalar" && Number.isNaN(result.value)).toBe(true);
  });

  it("reads a matrix, every [time, value] pair of every series, with NaN and ±Inf", async () => {
    reply = {
      status: 200,
      body: success({
        resultType: "matrix",
        result: [
          { metric: { job: "api" }, values: [[1_700_000_000, "1"], [1_700_000_015, "NaN"], [1_700_000_030, "+Inf"]] },
          { metric: { job: "edge" }, values: [[1_700_000_000, "-Inf"], [1_700_000_015, "2.5e-3"]] },
        ],
      }),
    };
    const result = await new PrometheusClient(connection()).query("up[30s]", { signal: signal() });
    expect(result).toEqual({
      kind: "matrix",
      series: [
        { labels: { job: "api" }, values: [[1_700_000_000, 1], [1_700_000_015, Number.NaN], [1_700_000_030, Number.POSITIVE_INFINITY]] },
        { labels: { job: "edge" }, values: [[1_700_000_000, Number.NEGATIVE_INFINITY], [1_700_000_015, 0.0025]] },
      ],
    });
  });

  it("reads a string result", async () => {
    reply = { status: 200, body: success({ resultType: "string", result: [1_700_000_000, "hello"] }) };
    expect(await new PrometheusClient(connection()).query('"hello"', { signal: signal() })).toEqual({ kind: "string", value: "hello" });
  });
});

describe("PrometheusClient failing", () => {
  it("reports a query Prometheus cannot parse (400, bad_data) as bad-query, with Prometheus's reason", async () => {
    reply = { status: 400, body: JSON.stringify({ status: "error", errorType: "bad_data", error: "parse error" }) };
    const error = await failsWith(new PrometheusClient(connection()).query("sum(", { signal: signal() }), "bad-query");
    expect(error.message).toBe("Prometheus refused the query (bad_data): parse error");
  });

  it("reports Prometheus's own timeout (503, errorType timeout) as timeout", async () => {
    reply = { status: 503, body: JSON.stringify({ status: "error", errorType: "timeout", error: "query timed out in expression evaluation" }) };
    const error = await failsWith(new PrometheusClient(connection()).query("up", { signal: signal() }), "timeout");
    expect(error.message).toMatch(/timeout.*query timed out/);
  });

  it("reports a 503 with errorType unavailable as unavailable", async () => {
    reply = { status: 503, body: JSON.stringify({ status: "error", errorType: "unavailable", error: "shutting down" }) };
    await failsWith(new PrometheusClient(connection()).query("up", { signal: signal() }), "unavailable");
  });

  it("reports 401 as auth, saying to check auth", async () => {
    reply = { status: 401, body: "Unauthorized", contentType: "text/plain" };
    const error = await failsWith(new PrometheusClient(connection()).query("up", { signal: signal() }), "auth");
    expect(error.message).toMatch(/answered 401 \(not authenticated: check auth\)/);
  });

  it("reports 403 as auth, saying the credentials lack read access", async () => {
    reply = { status: 403, body: "Forbidden", contentType: "text/plain" };
    const error = await failsWith(new PrometheusClient(connection()).query("up", { signal: signal() }), "auth");
    expect(error.message).toMatch(/lack read access/);
  });

  it("reports a non-JSON 404 as bad-response, asking whether the URL is the API's base", async () => {
    reply = { status: 404, body: "404 page not found", contentType: "text/plain" };
    const error = await failsWith(new PrometheusClient(connection({ url: `${baseUrl}/api/v1` })).query("up", { signal: signal() }), "bad-response");
    expect(error.message).toContain(`${baseUrl}/api/v1/api/v1/query answered 404`);
    expect(error.message).toMatch(/is the URL the API's base, e\.g\. http:\/\/host:9090\?/);
  });

  it("reports a non-JSON 502 from a proxy in front of Prometheus as unavailable", async () => {
    reply = { status: 502, body: "<html>Bad Gateway</html>", contentType: "text/html" };
    await failsWith(new PrometheusClient(connection()).query("up", { signal: signal() }), "unavailable");
  });

  it("reports a port nobody listens on (connection refused) as unreachable", async () => {
    const closed = http.createServer();
    const url = await listen(closed);
    await close(closed);
    const error = await failsWith(new PrometheusClient(connection({ url })).query("up", { signal: signal() }), "unreachable");
    expect(error.message).toMatch(new RegExp(`Prometheus at ${url.replace(/\./g, "\\.")} did not answer: ECONNREFUSED`));
  });

  it("reports a server that never answers as timeout, after the connection's 300 ms", async () => {
    const started = performance.now();
    const error = await failsWith(new PrometheusClient(connection({ url: silentUrl, timeout: 300 })).query("up", { signal: signal() }), "timeout");
    const elapsed = performance.now() - started;
    expect(error.message).toMatch(/timed out after 300ms/);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(5_000);
  });

  it.each([
    ["a value that is a number, not a string", { resultType: "vector", result: [{ metric: {}, value: [1, 5] }] }],
    ["a value that is not a [time, value] pair", { resultType: "vector", result: [{ metric: {}, value: "1" }] }],
    ["a pair with three elements", { resultType: "vector", result: [{ metric: {}, value: [1, "1", "2"] }] }],
    ["a pair whose time is a string", { resultType: "scalar", result: ["1", "1"] }],
    ["a value that is not a number", { resultType: "scalar", result: [1, "lots"] }],
    ["a matrix series without values", { resultType: "matrix", result: [{ metric: {} }] }],
    ["labels that are a list", { resultType: "vector", result: [{ metric: ["job"], value: [1, "1"] }] }],
    ["a vector result that is not a list", { resultType: "vector", result: {} }],
    ["an unknown resultType", { resultType: "histogram", result: [] }],
    ["no data at all", undefined],
  ])("reports a malformed result (%s) as bad-response", async (_name, data) => {
    reply = { status: 200, body: success(data) };
    const error = await failsWith(new PrometheusClient(connection()).query("up", { signal: signal() }), "bad-response");
    expect(error.message).toMatch(/answered with a result chaoscast cannot read/);
  });

  it("reports a 200 whose status is not success as bad-response", async () => {
    reply = { status: 200, body: JSON.stringify({ status: "pending" }) };
    await failsWith(new PrometheusClient(connection()).query("up", { signal: signal() }), "bad-response");
  });

  it("never shows a user name or password written into the URL", async () => {
    reply = { status: 404, body: "404 page not found", contentType: "text/plain" };
    const url = baseUrl.replace("http://", "http://admin:hunter2@");
    const client = new PrometheusClient(connection({ url }));
    expect(client.shownUrl).toBe(baseUrl);
    const error = await failsWith(client.query("up", { signal: signal() }), "bad-response");
    expect(error.message).not.toMatch(/hunter2|admin/);
    // The credentials still reach the server, as basic auth taken from the URL.
    expect(received[0]!.headers.authorization).toBe(`Basic ${Buffer.from("admin:hunter2").toString("base64")}`);
  });

  it("stops waiting when the caller aborts, as unreachable (cancelled): no answer, nothing said of the system", async () => {
    const controller = new AbortController();
    const pending = new PrometheusClient(connection({ url: silentUrl })).query("up", { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const error = await failsWith(pending, "unreachable");
    expect(error.message).toMatch(/did not answer: cancelled$/);
  });

  it("reports a caller's AbortSignal.timeout as timeout", async () => {
    const started = performance.now();
    const error = await failsWith(new PrometheusClient(connection({ url: silentUrl })).query("up", { signal: AbortSignal.timeout(50) }), "timeout");
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(error.message).toMatch(/timed out after/);
  });
});
