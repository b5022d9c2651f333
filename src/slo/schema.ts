// The two ways an SLO may be written: an OpenSLO v1 `SLO` document (with its indicator inline, or
// referenced as a `kind: SLI` document in the same file), or chaoscast's short form.

import { z } from "zod";
import { parsePercent } from "../contract/percent.js";
import { hasWindowPlaceholder, isCounterSelector } from "./model.js";

/** OpenSLO durations: a number and a unit, m (minutes), h, d or w. */
export const OPENSLO_DURATION = /^(\d+)(m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

export function parseSloDuration(text: string): number | undefined {
  const m = OPENSLO_DURATION.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : undefined;
}

const MIN_PERIOD_MS = 3_600_000;
const MAX_PERIOD_MS = 400 * 86_400_000;

const PeriodSchema = z
  .string({ error: 'expected a rolling period such as 28d, 30d or 4w' })
  .transform((text, ctx) => {
    const ms = parseSloDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: "custom", message: `expected a rolling period such as 28d, 30d, 4w or 24h (a number and m, h, d or w), found "${text}"` });
      return z.NEVER;
    }
    if (ms < MIN_PERIOD_MS || ms > MAX_PERIOD_MS) {
      ctx.addIssue({ code: "custom", message: `expected a period between 1h and 400d, found "${text}"` });
      return z.NEVER;
    }
    return ms;
  });

const QuerySchema = z
  .string({ error: "expected a PromQL query" })
  .min(1, { error: "expected a PromQL query" })
  .max(16 * 1024, { error: "a query of more than 16 KiB is not an SLI" })
  .transform((text, ctx) => {
    if (hasWindowPlaceholder(text)) return { text, form: "placeholder" as const };
    if (isCounterSelector(text)) return { text, form: "selector" as const };
    ctx.addIssue({
      code: "custom",
      message: `expected a counter selector such as http_requests_total{code=~"5.."} (measured as sum(increase(…[window]))) or an expression holding {{.window}}, found "${text.length > 80 ? `${text.slice(0, 80)}…` : text}"`,
    });
    return z.NEVER;
  });

/**
 * An objective: a fraction (0.999, or "0.999") or a percentage written with its sign ("99.9%").
 * A bare number is never guessed to be a percentage: 1.5 could be either, and reading 0.999 as
 * 0.999% would accept a budget of almost every event.
 */
const ObjectiveSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const text = typeof value === "string" ? value.trim() : undefined;
  const fraction = text?.endsWith("%") ? (parsePercent(text) ?? Number.NaN) / 100 : Number(text ?? value);
  if (!(fraction > 0 && fraction < 1) || (text !== undefined && text === "")) {
    ctx.addIssue({ code: "custom", message: `expected an objective as a fraction between 0 and 1 (0.999) or a percentage (99.9%), found ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return fraction;
});

const TargetPercentSchema = z.number({ error: "expected targetPercent as a number such as 99.9" }).transform((value, ctx) => {
  if (!(value > 0 && value < 100)) {
    ctx.addIssue({ code: "custom", message: `expected targetPercent between 0 and 100 (exclusive), such as 99.9, found ${value}` });
    return z.NEVER;
  }
  return value / 100;
});

const MetricSourceSchema = z
  .object({
    metricSourceRef: z.string().optional(),
    type: z.string({ error: "expected metricSource.type: Prometheus" }).refine((t) => t.toLowerCase() === "prometheus", { message: "chaoscast reads Prometheus metric sources only (type: Prometheus)" }),
    spec: z.object({ query: QuerySchema }).loose(),
  })
  .loose();

const RatioPartSchema = z.object({ metricSource: MetricSourceSchema }).loose();

export const RatioMetricSchema = z
  .object({
    counter: z.literal(true, { error: "chaoscast measures counters: set counter: true (gauges are not events)" }),
    good: RatioPartSchema.optional(),
    bad: RatioPartSchema.optional(),
    total: RatioPartSchema,
    rawType: z.never({ error: "raw ratios (rawType) are not supported: give good or bad and total counters" }).optional(),
  })
  .loose()
  .refine((r) => (r.good === undefined) !== (r.bad === undefined), { message: "give exactly one of good or bad, with total" });

const SliSpecSchema = z
  .object({
    ratioMetric: RatioMetricSchema.optional(),
    thresholdMetric: z.never({ error: "threshold SLIs are not supported: chaoscast measures ratioMetric (good or bad over total)" }).optional(),
  })
  .loose()
  .refine((s) => s.ratioMetric !== undefined, { message: "expected spec.ratioMetric (good or bad over total)" });

const MetadataSchema = z.object({ name: z.string().min(1).max(253), displayName: z.string().optional() }).loose();

export const OpenSloSliSchema = z.object({ apiVersion: z.literal("openslo/v1"), kind: z.literal("SLI"), metadata: MetadataSchema, spec: SliSpecSchema }).loose();

const ObjectiveEntrySchema = z
  .object({
    displayName: z.string().optional(),
    target: ObjectiveSchema.optional(),
    targetPercent: TargetPercentSchema.optional(),
  })
  .loose()
  .refine((o) => (o.target === undefined) !== (o.targetPercent === undefined), { message: "give target (0.999) or targetPercent (99.9)" });

export const OpenSloSchema = z
  .object({
    apiVersion: z.literal("openslo/v1", { error: "expected apiVersion: openslo/v1" }),
    kind: z.literal("SLO"),
    metadata: MetadataSchema,
    spec: z
      .object({
        service: z.string().optional(),
        description: z.string().optional(),
        indicator: z.object({ metadata: MetadataSchema.optional(), spec: SliSpecSchema }).loose().optional(),
        indicatorRef: z.string().optional(),
        budgetingMethod: z.enum(["Occurrences"], { error: "chaoscast measures budgetingMethod: Occurrences (events); Timeslices are not supported" }).optional(),
        timeWindow: z
          .array(
            z
              .object({
                duration: PeriodSchema,
                isRolling: z.literal(true, { error: "chaoscast measures rolling windows (isRolling: true); calendar windows are not supported" }),
                calendar: z.unknown().optional(),
              })
              .loose(),
          )
          .length(1, { error: "expected one timeWindow" }),
        objectives: z.array(ObjectiveEntrySchema).min(1, { error: "expected at least one objective" }),
      })
      .loose()
      .refine((s) => (s.indicator === undefined) !== (s.indicatorRef === undefined), { message: "give indicator or indicatorRef" }),
  })
  .loose();

/** chaoscast's short form: one SLO, one ratio, one objective. */
export const ShortSloSchema = z
  .object({
    slo: z.string().min(1).max(253).meta({ description: "The SLO's name." }),
    service: z.string().optional(),
    objective: ObjectiveSchema.meta({ description: "0.999 or 99.9%." }),
    window: PeriodSchema.meta({ description: "The rolling period, e.g. 30d." }),
    good: QuerySchema.optional(),
    bad: QuerySchema.optional(),
    total: QuerySchema,
  })
  .strict()
  .refine((s) => (s.good === undefined) !== (s.bad === undefined), { message: "give exactly one of good or bad, with total" });
