// Measuring an SLO in Prometheus: the SLI and error ratio over its period, the budget left, and
// the burn rate of each multiwindow pair, with the verdict a release gate needs. Windows marked
// as excluded (chaos runs whose owners chose not to charge them) are subtracted event by event.

import type { PrometheusClient, QueryResult } from "../prometheus/client.js";
import { PrometheusError } from "../prometheus/client.js";
import { budgetRemaining, burnPairs, burnRate, type BurnPair } from "./burn.js";
import { promDuration, renderQuery, type Slo, type SloQuery } from "./model.js";
import { mapLimit } from "../util/map-limit.js";

export interface BurnVerdict extends BurnPair {
  long: number | undefined;
  short: number | undefined;
  /** Both windows burn faster than the pair's rate; undefined when a window had no data. */
  firing: boolean | undefined;
}

/** go: releases (and chaos runs) may go on. halt: the budget says stop. inconclusive: no answer. */
export type BudgetVerdict = "go" | "halt" | "inconclusive";

export interface SloReport {
  name: string;
  service: string | undefined;
  source: string;
  objective: number;
  periodMs: number;
  /** The SLI over the period (good / total), undefined without data. */
  sli: number | undefined;
  errorRatio: number | undefined;
  /** Events counted over the period (after exclusions). */
  total: number | undefined;
  /** Share of the period's budget left: 1 untouched, 0 spent, negative overspent. */
  remaining: number | undefined;
  burns: BurnVerdict[];
  verdict: BudgetVerdict;
  reasons: string[];
  /** Windows left out of the measurement, as [from, to] ISO times. */
  excluded: [string, string][];
}

export interface EvaluateOptions {
  signal: AbortSignal;
  /** The gate halts when less than this share of the budget remains (0 = only when spent). */
  minRemaining: number;
  now?: Date;
  /** Windows whose events do not count (chaos runs marked chaosWindow: excluded). */
  exclude?: { from: Date; to: Date }[];
}

interface Counts {
  events: number;
  total: number;
}

function sumOf(result: QueryResult): number | undefined {
  if (result.kind === "scalar") return Number.isNaN(result.value) ? undefined : result.value;
  if (result.kind === "vector") {
    const values = result.series.map((s) => s.value).filter((v) => !Number.isNaN(v));
    return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0);
  }
  throw new PrometheusError("bad-query", `an SLO query should give a number or a vector; it gives a ${result.kind}`);
}

/** The events and total counted over [end − window, end]. */
async function countOver(client: PrometheusClient, slo: Slo, windowMs: number, end: Date, signal: AbortSignal): Promise<Counts | undefined> {
  const ask = async (query: SloQuery) => sumOf(await client.query(renderQuery(query, windowMs), { signal, time: end }));
  const [events, total] = await Promise.all([ask(slo.ratio.events), ask(slo.ratio.total)]);
  if (total === undefined) return undefined;
  return { events: events ?? 0, total };
}

/** Error ratio from counts: bad/total, or 1 − good/total. Undefined with no events at all. */
function errorRatioOf(slo: Slo, counts: Counts | undefined): number | undefined {
  if (!counts || counts.total <= 0) return undefined;
  const ratio = slo.ratio.counts === "bad" ? counts.events / counts.total : 1 - counts.events / counts.total;
  return Math.min(1, Math.max(0, ratio));
}

/** Counts over a window, minus what fell inside excluded windows. */
async function countExcluding(client: PrometheusClient, slo: Slo, windowMs: number, now: Date, exclude: { from: Date; to: Date }[], signal: AbortSignal): Promise<Counts | undefined> {
  const whole = await countOver(client, slo, windowMs, now, signal);
  if (!whole) return undefined;
  const start = now.getTime() - windowMs;
  for (const { from, to } of exclude) {
    const s = Math.max(from.getTime(), start);
    const e = Math.min(to.getTime(), now.getTime());
    // PromQL ranges are whole seconds at least; a sliver shorter than that holds no scrape.
    if (e - s < 1000) continue;
    const part = await countOver(client, slo, Math.round((e - s) / 1000) * 1000, new Date(e), signal);
    if (!part) continue;
    whole.events = Math.max(0, whole.events - part.events);
    whole.total = Math.max(0, whole.total - part.total);
  }
  return whole;
}

export async function evaluateSlo(slo: Slo, client: PrometheusClient, options: EvaluateOptions): Promise<SloReport> {
  const now = options.now ?? new Date();
  const exclude = (options.exclude ?? []).filter(({ from, to }) => to.getTime() > now.getTime() - slo.periodMs && from.getTime() < now.getTime());
  const base = {
    name: slo.name,
    service: slo.service,
    source: slo.source,
    objective: slo.objective,
    periodMs: slo.periodMs,
    excluded: exclude.map(({ from, to }) => [from.toISOString(), to.toISOString()] as [string, string]),
  };
  const pairs = burnPairs(slo.periodMs);
  const windows = [...new Set([slo.periodMs, ...pairs.flatMap((p) => [p.longMs, p.shortMs])])];
  let ratios: Map<number, number | undefined>;
  let periodCounts: Counts | undefined;
  try {
    // A few windows at a time: two queries each, and a Prometheus is shared with everyone else.
    const measured = await mapLimit(
      windows,
      3,
      async (w) => {
        const counts = await countExcluding(client, slo, w, now, exclude, options.signal);
        return [w, counts] as const;
      },
    );
    periodCounts = measured.find(([w]) => w === slo.periodMs)?.[1];
    ratios = new Map(measured.map(([w, counts]) => [w, errorRatioOf(slo, counts)]));
  } catch (err) {
    if (!(err instanceof PrometheusError)) throw err;
    return { ...base, sli: undefined, errorRatio: undefined, total: undefined, remaining: undefined, burns: pairs.map((p) => ({ ...p, long: undefined, short: undefined, firing: undefined })), verdict: "inconclusive", reasons: [err.message] };
  }
  const burnOf = (w: number) => {
    const ratio = ratios.get(w);
    return ratio === undefined ? undefined : burnRate(ratio, slo.objective);
  };
  const burns: BurnVerdict[] = pairs.map((p) => {
    const long = burnOf(p.longMs);
    const short = burnOf(p.shortMs);
    return { ...p, long, short, firing: long === undefined || short === undefined ? undefined : long > p.rate && short > p.rate };
  });
  const errorRatio = ratios.get(slo.periodMs);
  if (errorRatio === undefined) {
    return {
      ...base,
      sli: undefined,
      errorRatio: undefined,
      total: periodCounts?.total,
      remaining: undefined,
      burns,
      verdict: "inconclusive",
      reasons: [`no events counted over ${promDuration(slo.periodMs)} (${periodCounts ? "the total is 0" : "the total query returned no data"}): nothing to judge the budget by`],
    };
  }
  const remaining = budgetRemaining(errorRatio, slo.objective);
  const reasons: string[] = [];
  if (remaining <= 0) reasons.push(`the error budget is spent (${formatShare(remaining)} left)`);
  else if (remaining < options.minRemaining) reasons.push(`${formatShare(remaining)} of the error budget left, under the minimum of ${formatShare(options.minRemaining)}`);
  for (const b of burns) {
    if (b.firing && b.severity === "page") reasons.push(`burning ${round(b.long!)}× over ${promDuration(b.longMs)} and ${round(b.short!)}× over ${promDuration(b.shortMs)}, above the page threshold of ${b.rate}×`);
  }
  return { ...base, sli: 1 - errorRatio, errorRatio, total: periodCounts?.total, remaining, burns, verdict: reasons.length > 0 ? "halt" : "go", reasons };
}

export function formatShare(fraction: number): string {
  return `${round(fraction * 100)}%`;
}

export function round(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  return String(Number(n.toFixed(abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 4)));
}
