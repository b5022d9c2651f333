// The `metrics` probe: scrape a Prometheus/OpenMetrics text endpoint and observe an instant value,
// a counter's per-second rate, or a good/total ratio, the last two over a sliding window of
// successive scrapes (counter resets handled).

import { z } from "zod";
import { defineProbe, type Adapter, type Observation } from "../../contract/adapter.js";
import { DurationSchema } from "../../contract/common-schemas.js";
import { sleep } from "../../util/abortable.js";
import { didYouMean } from "../../util/did-you-mean.js";
import { httpRequest } from "../../util/http-request.js";
import { matchesLabels, MetricsParseError, parseMetrics, seriesKey, type Sample } from "./parse.js";
import { increase, trimToWindow, type Scrape } from "./window.js";

const Params = z
  .object({
    url: z.url({ protocol: /^https?$/ }).meta({ description: "The metrics endpoint, e.g. http://127.0.0.1:9464/metrics." }),
    metric: z.string().optional().meta({ description: "Observe this metric's current value (summed over matching series)." }),
    rate: z.string().optional().meta({ description: "Observe this counter's increase per second over the window." }),
    ratio: z
      .object({ good: z.string().meta({ description: "Counter of good events." }), total: z.string().meta({ description: "Counter of all events." }) })
      .strict()
      .optional()
      .meta({ description: "Observe increase(good) / increase(total) over the window: a success ratio." }),
    labels: z.record(z.string(), z.string()).default({}).meta({ description: "Only series with these label values." }),
    window: DurationSchema.prefault("30s").meta({ description: "Window for rate and ratio." }),
    timeout: DurationSchema.prefault("2s").meta({ description: "Give up on a scrape after this long." }),
  })
  .strict()
  .refine((p) => [p.metric, p.rate, p.ratio].filter((v) => v !== undefined).length === 1, {
    message: "give exactly one of metric, rate or ratio",
  });

type MetricsParams = z.output<typeof Params>;

/** Scrape history per compiled probe, so the window spans the run's phases. */
const histories = new WeakMap<object, Scrape[]>();

async function scrape(params: MetricsParams, names: string[], timeoutMs: number, signal: AbortSignal): Promise<{ scrape: Scrape; all: Sample[] }> {
  const res = await httpRequest({ url: params.url, method: "GET", headers: { accept: "text/plain;version=0.0.4" }, timeoutMs, signal, maxBodyBytes: 16 * 1024 * 1024 });
  if (res.status !== 200) throw new Error(`${params.url} answered ${res.status}`);
  const all = parseMetrics(res.body);
  const series = new Map<string, number>();
  for (const sample of all) if (names.includes(sample.name) && matchesLabels(sample, params.labels)) series.set(seriesKey(sample), sample.value);
  return { scrape: { at: performance.now(), series }, all };
}

function missing(all: Sample[], name: string, url: string): string | undefined {
  if (all.some((s) => s.name === name)) return undefined;
  const names = [...new Set(all.map((s) => s.name))];
  return `metric ${name} not found at ${url}${didYouMean(name, names)} (${names.length} metrics there)`;
}

const sumOf = (scrape: Scrape, name: string) => [...scrape.series].filter(([k]) => k.startsWith(`${name}{`)).reduce((sum, [, v]) => sum + v, 0);

export const metricsProbe = defineProbe({
  name: "metrics",
  description: "Scrape a Prometheus/OpenMetrics endpoint: a value, a counter rate, or a good/total ratio over a window.",
  params: Params,
  example: { url: "http://127.0.0.1:9464/metrics", ratio: { good: "playback_start_success_total", total: "playback_start_attempts_total" }, window: "30s" },
  primaryField: "value",
  fields: {
    value: "the metric value, rate per second, or ratio",
    good: "for ratio: increase of the good counter in the window",
    total: "for ratio: increase of the total counter in the window",
    series: "how many series matched",
    scrapes: "scrapes in the window",
  },
  defaultExpect: undefined,
  timeoutOf: (params) => params.timeout,
  async run(params, ctx): Promise<Observation> {
    const names = params.metric ? [params.metric] : params.rate ? [params.rate] : [params.ratio!.good, params.ratio!.total];
    try {
      let history = histories.get(params) ?? [];
      let { scrape: latest, all } = await scrape(params, names, ctx.timeoutMs, ctx.signal);
      for (const name of names) {
        const problem = missing(all, name, params.url);
        if (problem) return { fields: {}, error: problem, summary: "metric missing" };
      }
      if (params.metric) {
        const value = sumOf(latest, params.metric);
        return { fields: { value, series: latest.series.size, scrapes: 1 }, summary: `${params.metric} = ${round(value)}` };
      }
      history.push(latest);
      // A window needs two scrapes, and a ratio needs events: the first check of a run keeps
      // scraping (within its timeout) until the counters have moved.
      const deadline = performance.now() + ctx.timeoutMs * 0.8;
      const totalName = params.ratio?.total;
      const quiet = () => totalName !== undefined && increase(history, (k) => k.startsWith(`${totalName}{`)) === 0;
      while (history.length < 2 || (quiet() && history.length < 400 && performance.now() + 250 < deadline && history[history.length - 1]!.at - history[0]!.at < params.window)) {
        await sleep(Math.min(250, ctx.timeoutMs / 3), ctx.signal);
        if (ctx.signal.aborted) break;
        ({ scrape: latest, all } = await scrape(params, names, ctx.timeoutMs, ctx.signal));
        history.push(latest);
      }
      history = trimToWindow(history, latest.at, params.window);
      histories.set(params, history);
      const seconds = (latest.at - history[0]!.at) / 1000;
      if (params.rate) {
        const value = increase(history, (k) => k.startsWith(`${params.rate}{`)) / seconds;
        return { fields: { value, series: latest.series.size, scrapes: history.length }, summary: `${params.rate} ${round(value)}/s` };
      }
      const good = increase(history, (k) => k.startsWith(`${params.ratio!.good}{`));
      const total = increase(history, (k) => k.startsWith(`${params.ratio!.total}{`));
      if (total === 0) return { fields: { good, total, scrapes: history.length }, error: `no events counted in the window (${params.ratio!.total} did not increase)`, summary: "no traffic" };
      const value = good / total;
      return { fields: { value, good, total, series: latest.series.size, scrapes: history.length }, summary: `${round(value)} (${good}/${total})` };
    } catch (err) {
      const message = err instanceof MetricsParseError ? `${params.url} is not Prometheus text: ${err.message}` : (err as Error).message;
      return { fields: {}, error: message, summary: "scrape failed" };
    }
  },
});

function round(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(4).replace(/0+$/, "");
}

export const metricsAdapter: Adapter = {
  kind: "metrics",
  description: "Prometheus/OpenMetrics text endpoints: the metrics probe.",
  actions: [],
  probes: [metricsProbe],
};
