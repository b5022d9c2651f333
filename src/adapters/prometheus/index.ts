// The `prometheus` probe: a PromQL query against a Prometheus-compatible API, judged by `expect`.
// An instant query by default; with `range`, a range query whose series are each reduced over
// time. A vector's series are judged all together (every one must pass), any (one suffices), or
// folded into one number first (sum, avg, min, max, count). "No data" is the user's call.

import { z } from "zod";
import { defineProbe, type Adapter, type Observation, type ProbeContext } from "../../contract/adapter.js";
import { PositiveDurationSchema } from "../../contract/common-schemas.js";
import { PrometheusConnectionSchema } from "../../contract/prometheus-connection.js";
import { formatLabels, PrometheusClient, PrometheusError, type Labels } from "../../prometheus/client.js";

const SERIES_MODES = ["all", "any", "sum", "avg", "min", "max", "count"] as const;
const OVER_TIME = ["avg", "min", "max", "last", "sum"] as const;

const Params = PrometheusConnectionSchema.extend({
  query: z.string().min(1, { error: "expected a PromQL expression" }).max(64 * 1024).meta({ description: 'The PromQL expression, e.g. sum(rate(http_requests_total{code=~"5.."}[1m])) / sum(rate(http_requests_total[1m])).' }),
  series: z
    .enum(SERIES_MODES)
    .default("all")
    .meta({ description: "For a vector: all (every series must pass), any (one is enough), or one number from sum, avg, min, max or count of the series." }),
  range: z
    .object({
      last: PositiveDurationSchema.meta({ description: "How far back the range query reaches, e.g. 10m." }),
      step: PositiveDurationSchema.prefault("15s").meta({ description: "Resolution of the range query." }),
      over: z.enum(OVER_TIME).default("avg").meta({ description: "How each series' values over the range become one: avg, min, max, last or sum." }),
    })
    .strict()
    .optional()
    .meta({ description: "Run a range query instead of an instant one, and reduce each series over time." }),
  noData: z
    .enum(["breach", "pass", "inconclusive"])
    .default("breach")
    .meta({ description: "What an empty result (or NaN, e.g. a ratio with no traffic) means: breach (the default), pass, or inconclusive (neither; a run does not start on it)." }),
}).refine((p) => !p.range || p.range.step <= p.range.last, { message: "range.step must not be longer than range.last", path: ["range", "step"] });

type PrometheusParams = z.output<typeof Params>;

/** Kept per compiled probe: one client (and its TLS files) for the whole run. */
const clients = new WeakMap<object, PrometheusClient>();

interface Series {
  labels: Labels;
  value: number;
}

async function observe(params: PrometheusParams, ctx: ProbeContext): Promise<Series[] | number> {
  let client = clients.get(params);
  if (!client) {
    client = new PrometheusClient(params);
    clients.set(params, client);
  }
  if (!params.range) {
    const result = await client.query(params.query, { signal: ctx.signal, timeoutMs: ctx.timeoutMs });
    if (result.kind === "scalar") return result.value;
    if (result.kind === "vector") return result.series;
    throw new PrometheusError("bad-query", `an instant query should give a number or a vector; this one gives a ${result.kind}`);
  }
  const end = new Date();
  const result = await client.queryRange(params.query, { signal: ctx.signal, start: new Date(end.getTime() - params.range.last), end, stepSeconds: params.range.step / 1000, timeoutMs: ctx.timeoutMs });
  if (result.kind !== "matrix") throw new PrometheusError("bad-query", `a range query should give series; this one gives a ${result.kind}`);
  const over = params.range.over;
  return result.series.flatMap((s) => {
    const values = s.values.map(([, v]) => v).filter((v) => !Number.isNaN(v));
    if (values.length === 0) return [];
    const value =
      over === "last" ? values[values.length - 1]! : over === "min" ? Math.min(...values) : over === "max" ? Math.max(...values) : over === "sum" ? values.reduce((a, b) => a + b, 0) : values.reduce((a, b) => a + b, 0) / values.length;
    return [{ labels: s.labels, value }];
  });
}

function round(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return Number.isInteger(n) ? String(n) : Number(n.toPrecision(6)).toString();
}

function noData(params: PrometheusParams, reason: string): Observation {
  if (params.noData === "breach") return { fields: { series: 0 }, error: `${reason} (noData: breach)`, summary: "no data" };
  return { fields: { series: 0 }, noVerdict: { as: params.noData, reason }, summary: `no data (${params.noData})` };
}

export const prometheusProbe = defineProbe({
  name: "prometheus",
  description: "Query a Prometheus-compatible API with PromQL (instant, or a range reduced over time) and judge a scalar or a vector's series.",
  params: Params,
  example: {
    url: "http://127.0.0.1:9090",
    query: 'sum(rate(http_requests_total{code=~"5.."}[1m])) / sum(rate(http_requests_total[1m]))',
    noData: "breach",
  },
  primaryField: "value",
  fields: {
    value: "the number judged: the scalar, the deciding series (all: the first failing one, any: the first passing one), or the folded value",
    series: "how many series the query returned",
    failing: "with series all or any: how many series fail the expectation",
    labels: "the deciding series' labels",
  },
  defaultExpect: undefined,
  timeoutOf: (params) => params.timeout,
  async run(params, ctx): Promise<Observation> {
    let seen: Series[] | number;
    try {
      seen = await observe(params, ctx);
    } catch (err) {
      return { fields: {}, error: err instanceof PrometheusError ? err.message : (err as Error).message, summary: err instanceof PrometheusError ? err.failure : "query failed" };
    }
    if (typeof seen === "number") {
      if (Number.isNaN(seen)) return noData(params, "the query returned NaN");
      return { fields: { value: seen, series: 1 }, summary: `= ${round(seen)}` };
    }
    const series = seen.filter((s) => !Number.isNaN(s.value));
    if (series.length === 0) return noData(params, seen.length === 0 ? "the query returned no series" : `every series (${seen.length}) is NaN`);
    const mode = params.series;
    if (mode === "all" || mode === "any") {
      if (series.length === 1 || !ctx.judgeFields) {
        const only = series[0]!;
        return { fields: { value: only.value, series: series.length, failing: 0, labels: only.labels }, summary: `${formatLabels(only.labels)} = ${round(only.value)}` };
      }
      const verdicts = await Promise.all(series.map(async (s) => ({ s, ok: await ctx.judgeFields!({ value: s.value, series: series.length, labels: s.labels }) })));
      const failing = verdicts.filter((v) => !v.ok);
      const deciding = mode === "all" ? (failing[0]?.s ?? series[0]!) : (verdicts.find((v) => v.ok)?.s ?? series[0]!);
      return {
        fields: { value: deciding.value, series: series.length, failing: failing.length, labels: deciding.labels },
        summary: `${series.length - failing.length}/${series.length} series pass (${mode}); ${formatLabels(deciding.labels)} = ${round(deciding.value)}`,
      };
    }
    const values = series.map((s) => s.value);
    const value =
      mode === "count" ? values.length : mode === "sum" ? values.reduce((a, b) => a + b, 0) : mode === "avg" ? values.reduce((a, b) => a + b, 0) / values.length : mode === "min" ? Math.min(...values) : Math.max(...values);
    return { fields: { value, series: series.length }, summary: `${mode} of ${series.length} series = ${round(value)}` };
  },
});

export const prometheusAdapter: Adapter = {
  kind: "prometheus",
  description: "Prometheus-compatible query APIs (Prometheus, Thanos, Mimir, VictoriaMetrics): the prometheus probe.",
  actions: [],
  probes: [prometheusProbe],
};
