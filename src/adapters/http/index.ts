// The `http` adapter: the `http` probe (status, latency, headers, body, JSON) and the
// `http.request` action (call an endpoint, optionally call another to undo it).

import { z } from "zod";
import { AdapterError } from "../../errors.js";
import { defineAction, defineProbe, defineRevert, revertWith, type Adapter, type RunContext } from "../../contract/adapter.js";
import { DurationSchema, HttpHeadersSchema, MatcherTextSchema, RecordedMsSchema } from "../../contract/common-schemas.js";
import { parseExpectation, judge } from "../../contract/expect.js";
import { httpRequest, HttpRequestError } from "../../util/http-request.js";

const UrlSchema = z
  .url({ protocol: /^https?$/, error: (iss) => `expected an http:// or https:// URL, found ${JSON.stringify(iss.input)}` })
  .meta({ description: "The URL to request (http:// or https://)." });
const MethodSchema = z.enum(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
const HeadersSchema = HttpHeadersSchema.default({}).meta({ description: "Request headers." });

const RequestShape = {
  url: UrlSchema,
  method: MethodSchema.default("GET").meta({ description: "HTTP method." }),
  headers: HeadersSchema,
  body: z.string().optional().meta({ description: "Request body (content-length is set for you; set content-type yourself)." }),
  insecure: z.boolean().default(false).meta({ description: "Accept any TLS certificate (test endpoints only)." }),
};

export const httpProbe = defineProbe({
  name: "http",
  description: "Request a URL on a fresh connection; observe status, latency, headers, body and JSON.",
  params: z
    .object({ ...RequestShape, timeout: DurationSchema.prefault("2s").meta({ description: "Give up after this long." }) })
    .strict(),
  example: { url: "http://127.0.0.1:8080/health", timeout: "2s" },
  primaryField: "status",
  fields: {
    status: "HTTP status code",
    latencyMs: "time to the end of the body, ms",
    ttfbMs: "time to the response headers, ms",
    headers: "response headers, lower-case names; repeated headers joined with \", \"",
    body: "response body as text (first 1 MiB)",
    json: "the body parsed as JSON, when the content type mentions json or the body starts with { or [; absent otherwise. Check inside it with paths such as data.items[0].id",
    bytes: "body size in bytes (all of it, not only the first 1 MiB)",
  },
  defaultExpect: { status: "200..399" },
  timeoutOf: (params) => params.timeout,
  async run(params, ctx) {
    try {
      const res = await httpRequest({ ...params, timeoutMs: Math.min(params.timeout, ctx.timeoutMs), signal: ctx.signal });
      let json: unknown;
      if (/json/i.test(res.headers["content-type"] ?? "") || /^\s*[[{]/.test(res.body)) {
        try {
          json = JSON.parse(res.body);
        } catch {
          json = undefined;
        }
      }
      return {
        fields: { status: res.status, latencyMs: res.latencyMs, ttfbMs: res.ttfbMs, headers: res.headers, body: res.body, json, bytes: res.bodyBytes },
        summary: `${res.status} in ${Math.round(res.latencyMs)}ms`,
      };
    } catch (err) {
      const message = err instanceof HttpRequestError ? err.message : (err as Error).message;
      return { fields: {}, error: message, summary: message };
    }
  },
});

interface Request {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string | undefined;
  insecure: boolean;
}

/** Send the request; throw an AdapterError unless it answers with an expected status. */
async function requestExpecting(request: Request, rule: { timeout: number; expectStatus: string }, what: string, signal: AbortSignal): Promise<void> {
  const expected = parseExpectation(rule.expectStatus);
  let status: number;
  try {
    status = (await httpRequest({ ...request, timeoutMs: rule.timeout, signal })).status;
  } catch (err) {
    throw new AdapterError(`${what}: ${request.method} ${request.url} failed: ${(err as Error).message}`, { action: "http.request" });
  }
  if (!(await judge(expected, { status }, "status", { deadlineMs: rule.timeout, signal })).ok) {
    throw new AdapterError(`${what}: ${request.method} ${request.url} answered ${status}, expected ${rule.expectStatus}`, { action: "http.request" });
  }
}

// The undo request answering with an expected status is its only check: an endpoint's effect is
// not something chaoscast can observe in general.
const requestRevert = defineRevert({
  kind: "http.request",
  // Held to the action's own rules: the data may come back from a state file.
  data: z.object({
    url: UrlSchema,
    method: MethodSchema,
    headers: HttpHeadersSchema,
    body: z.string().optional(),
    insecure: z.boolean(),
    timeout: RecordedMsSchema.min(1),
    expectStatus: MatcherTextSchema,
  }),
  describe: (data) => `${data.method} ${data.url}`,
  run: (data, ctx) => requestExpecting(data, data, "revert", ctx.signal),
});

export const httpRequestAction = defineAction({
  name: "http.request",
  description: "Call an HTTP endpoint (e.g. an admin switch or a feature flag); optionally call another to undo it.",
  target: null,
  reversible: "when-configured",
  revertConfigured: (params) => params.revert !== undefined,
  params: z
    .object({
      ...RequestShape,
      timeout: DurationSchema.prefault("10s").meta({ description: "Give up after this long." }),
      expectStatus: MatcherTextSchema.default("200..299").meta({ description: "Statuses that count as success, in expect syntax: \"200..299\", \"== 204\", \"< 500\"." }),
      revert: z
        .object({
          url: UrlSchema.optional().meta({ description: "Defaults to the same URL." }),
          method: MethodSchema.optional().meta({ description: "Defaults to the same method." }),
          headers: HttpHeadersSchema.optional().meta({ description: "Defaults to the same headers." }),
          body: z.string().optional().meta({ description: "Request body (never copied from the fault's request)." }),
        })
        .strict()
        .optional()
        .meta({ description: "A request that undoes this one, sent on rollback; url, method and headers default to the fault's." }),
    })
    .strict(),
  example: { url: "http://127.0.0.1:8080/admin/flags/recommendations", method: "PUT", body: '{"enabled":false}', revert: { method: "PUT", body: '{"enabled":true}' } },
  async prepare(params) {
    const apply = (ctx: RunContext) => requestExpecting(params, params, "http.request", ctx.signal);
    const revert = params.revert;
    if (!revert) return { revert: null, apply };
    const undo = {
      url: revert.url ?? params.url,
      method: revert.method ?? params.method,
      headers: revert.headers ?? params.headers,
      ...(revert.body !== undefined ? { body: revert.body } : {}),
      insecure: params.insecure,
    };
    return { apply, revert: revertWith(requestRevert, { ...undo, timeout: params.timeout, expectStatus: params.expectStatus }) };
  },
});

export const httpAdapter: Adapter = {
  kind: "http",
  description: "HTTP endpoints: the http probe and the http.request action.",
  actions: [httpRequestAction],
  probes: [httpProbe],
  reverts: [requestRevert],
};
