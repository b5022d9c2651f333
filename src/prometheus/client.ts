// A client for the Prometheus HTTP query API (/api/v1/query and /api/v1/query_range), as served by
// Prometheus, Thanos, Mimir and VictoriaMetrics. Queries are POSTed as a form, so a long PromQL
// expression never meets a URL length limit. Answers are size-capped and checked for shape: what a
// server says is data, never trusted to be well formed.

import { readFile } from "node:fs/promises";
import type { PrometheusConnection } from "../contract/prometheus-connection.js";
import { httpRequest, HttpRequestError } from "../util/http-request.js";

export type Labels = Record<string, string>;

export type QueryResult =
  | { kind: "scalar"; value: number }
  | { kind: "vector"; series: { labels: Labels; value: number }[] }
  | { kind: "matrix"; series: { labels: Labels; values: [number, number][] }[] }
  | { kind: "string"; value: string };

/**
 * Why a query gave no answer. unreachable/timeout/unavailable say nothing about the system
 * measured (an inconclusive gate); bad-query is the user's to fix; auth names the missing right.
 */
export type PrometheusFailure = "unreachable" | "timeout" | "unavailable" | "auth" | "bad-query" | "bad-response";

export class PrometheusError extends Error {
  constructor(
    readonly failure: PrometheusFailure,
    message: string,
  ) {
    super(message);
    this.name = "PrometheusError";
  }
}

const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

export class PrometheusClient {
  private tls: Promise<{ ca?: string; cert?: string; key?: string } | undefined> | undefined;

  /** The URL as messages show it: without a user name or password written into it. */
  readonly shownUrl: string;

  constructor(readonly connection: PrometheusConnection) {
    this.shownUrl = withoutCredentials(connection.url);
  }

  /** An instant query, evaluated at `time` (default: now). */
  async query(promql: string, options: { signal: AbortSignal; time?: Date; timeoutMs?: number }): Promise<QueryResult> {
    const form: Record<string, string> = { query: promql };
    if (options.time) form.time = String(options.time.getTime() / 1000);
    return this.post("/api/v1/query", form, options.signal, options.timeoutMs);
  }

  /** A range query: one value per `stepSeconds` from start to end. */
  async queryRange(promql: string, options: { signal: AbortSignal; start: Date; end: Date; stepSeconds: number; timeoutMs?: number }): Promise<QueryResult> {
    return this.post("/api/v1/query_range", { query: promql, start: String(options.start.getTime() / 1000), end: String(options.end.getTime() / 1000), step: String(options.stepSeconds) }, options.signal, options.timeoutMs);
  }

  private async post(path: string, form: Record<string, string>, signal: AbortSignal, timeoutMs?: number): Promise<QueryResult> {
    const { headers, auth, tls } = this.connection;
    const url = this.shownUrl;
    const timeout = Math.min(this.connection.timeout, timeoutMs ?? Number.POSITIVE_INFINITY);
    const endpoint = `${url.replace(/\/+$/, "")}${path}`;
    const target = `${this.connection.url.replace(/\/+$/, "")}${path}`;
    // The server gets the timeout too, so it stops evaluating when chaoscast stops waiting.
    const body = new URLSearchParams({ ...form, timeout: `${Math.max(1, Math.floor(timeout / 1000))}s` }).toString();
    const authHeader = auth ? ("bearer" in auth ? `Bearer ${auth.bearer}` : `Basic ${Buffer.from(`${auth.basic.username}:${auth.basic.password}`).toString("base64")}`) : undefined;
    let answer;
    try {
      answer = await httpRequest({
        url: target,
        method: "POST",
        headers: { ...headers, "content-type": "application/x-www-form-urlencoded", accept: "application/json", ...(authHeader ? { authorization: authHeader } : {}) },
        body,
        timeoutMs: timeout,
        signal,
        maxBodyBytes: MAX_ANSWER_BYTES,
        insecure: tls?.insecureSkipVerify ?? false,
        ...(tls ? { tls: await this.tlsFiles() } : {}),
      });
    } catch (err) {
      const message = err instanceof HttpRequestError ? err.message : (err as Error).message;
      throw new PrometheusError(/timed out/.test(message) ? "timeout" : "unreachable", `Prometheus at ${url} did not answer: ${message}`);
    }
    if (answer.bodyBytes > MAX_ANSWER_BYTES) throw new PrometheusError("bad-response", `Prometheus at ${url} answered with more than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB; narrow the query`);
    if (answer.status === 401 || answer.status === 403) {
      throw new PrometheusError("auth", `Prometheus at ${url} answered ${answer.status} (${answer.status === 401 ? "not authenticated: check auth" : "not allowed: the credentials lack read access"})`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.body);
    } catch {
      const failure = answer.status >= 500 ? "unavailable" : "bad-response";
      throw new PrometheusError(failure, `${endpoint} answered ${answer.status} with something that is not the Prometheus API's JSON${answer.status === 404 ? " (is the URL the API's base, e.g. http://host:9090?)" : ""}`);
    }
    const envelope = parsed as { status?: unknown; errorType?: unknown; error?: unknown; data?: unknown };
    if (envelope?.status === "error") {
      const why = typeof envelope.error === "string" ? envelope.error.slice(0, 500) : "no reason given";
      const type = typeof envelope.errorType === "string" ? envelope.errorType : "";
      // bad_data is a query Prometheus cannot parse; timeout/unavailable/canceled say nothing about the system.
      const failure: PrometheusFailure = type === "bad_data" ? "bad-query" : type === "timeout" || type === "canceled" ? "timeout" : answer.status >= 500 || type === "unavailable" ? "unavailable" : "bad-query";
      throw new PrometheusError(failure, `Prometheus refused the query (${type || answer.status}): ${why}`);
    }
    if (answer.status !== 200 || envelope?.status !== "success") {
      throw new PrometheusError(answer.status >= 500 ? "unavailable" : "bad-response", `${endpoint} answered ${answer.status} without a result`);
    }
    return readResult(envelope.data, endpoint);
  }

  private tlsFiles(): Promise<{ ca?: string; cert?: string; key?: string } | undefined> {
    const tls = this.connection.tls;
    this.tls ??= (async () => {
      if (!tls) return undefined;
      const read = async (file: string | undefined, what: string) => {
        if (file === undefined) return undefined;
        try {
          return await readFile(file, "utf8");
        } catch (err) {
          throw new PrometheusError("unreachable", `cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
      };
      const [ca, cert, key] = await Promise.all([read(tls.caFile, "CA file"), read(tls.certFile, "client certificate"), read(tls.keyFile, "client key")]);
      return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
    })();
    return this.tls;
  }
}

export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = "";
    parsed.password = "";
    return parsed.toString().replace(/\/$/, url.endsWith("/") ? "/" : "");
  } catch {
    return url;
  }
}

/** Prometheus writes sample values as strings, including "NaN", "+Inf" and "-Inf". */
export function sampleValue(raw: unknown): number {
  if (raw === "+Inf" || raw === "Inf") return Number.POSITIVE_INFINITY;
  if (raw === "-Inf") return Number.NEGATIVE_INFINITY;
  if (raw === "NaN") return Number.NaN;
  if (typeof raw === "string" && raw.trim() !== "") {
    const n = Number(raw);
    if (!Number.isNaN(n)) return n;
  }
  throw new Error(`not a sample value: ${JSON.stringify(raw)?.slice(0, 40)}`);
}

function readPair(pair: unknown): [number, number] {
  if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "number") throw new Error("expected [time, value]");
  return [pair[0], sampleValue(pair[1])];
}

function readLabels(metric: unknown): Labels {
  if (metric === undefined || metric === null) return {};
  if (typeof metric !== "object" || Array.isArray(metric)) throw new Error("expected a label set");
  const labels: Labels = {};
  for (const [k, v] of Object.entries(metric)) if (typeof v === "string") labels[k] = v;
  return labels;
}

function readResult(data: unknown, endpoint: string): QueryResult {
  try {
    const { resultType, result } = (data ?? {}) as { resultType?: unknown; result?: unknown };
    switch (resultType) {
      case "scalar":
        return { kind: "scalar", value: readPair(result)[1] };
      case "string":
        if (!Array.isArray(result) || typeof result[1] !== "string") throw new Error("expected [time, text]");
        return { kind: "string", value: result[1] };
      case "vector":
        if (!Array.isArray(result)) throw new Error("expected a list of series");
        return { kind: "vector", series: result.map((s: { metric?: unknown; value?: unknown }) => ({ labels: readLabels(s?.metric), value: readPair(s?.value)[1] })) };
      case "matrix":
        if (!Array.isArray(result)) throw new Error("expected a list of series");
        return {
          kind: "matrix",
          series: result.map((s: { metric?: unknown; values?: unknown }) => {
            if (!Array.isArray(s?.values)) throw new Error("expected values");
            return { labels: readLabels(s.metric), values: s.values.map(readPair) };
          }),
        };
      default:
        throw new Error(`unknown resultType ${JSON.stringify(resultType)?.slice(0, 40)}`);
    }
  } catch (err) {
    throw new PrometheusError("bad-response", `${endpoint} answered with a result chaoscast cannot read: ${(err as Error).message}`);
  }
}

/** Labels as PromQL writes them: {code="500", service="api"}. */
export function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels).filter(([k]) => k !== "__name__");
  return `${labels.__name__ ?? ""}{${entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")}}`;
}
