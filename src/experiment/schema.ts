// The experiment format v1 as one zod schema, built from the registry of adapters and probes. It is
// the single source of truth for validation, TypeScript types, `chaoscast list` and the JSON Schema.

import { z } from "zod";
import { PrometheusConnectionSchema } from "../contract/prometheus-connection.js";
import type { ActionDef, ProbeDef } from "../contract/adapter.js";
import type { RegistryView } from "../contract/registry-view.js";
import { SelectionSchema } from "../contract/selection.js";
import { ScheduleSchema } from "../contract/schedule.js";
import { CohortHeaderSchema, DurationSchema, NameSchema, PercentSchema, PositiveDurationSchema } from "../contract/common-schemas.js";
import { formatDuration } from "../contract/duration.js";

// The problem is reported at the key, so the message need not repeat it.
const refineAtLeast = (min: number) => [(ms: number) => ms >= min, { error: (iss: { input: unknown }) => `expected at least ${min}ms, found ${formatDuration(Number(iss.input))}` }] as const;
import { describeValue } from "../util/describe.js";

const ScalarSchema = z.union([z.string(), z.number(), z.boolean()]);

type ExpectInput = string | number | boolean | null | { [key: string]: ExpectInput };
export const ExpectSchema: z.ZodType<ExpectInput> = z
  .lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.record(z.string(), ExpectSchema)]))
  .meta({
    id: "expect",
    description:
      'What the observation must satisfy: ">= 0.995", "< 500", "200..299", "/^#EXTM3U/", a literal, or a mapping of such per field.',
  });

const TargetRefSchema = z.string({ error: (iss) => `expected the name of a block under targets:, found ${describeValue(iss.input)}` });

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const metricName = (description: string) => z.string().regex(METRIC_NAME, { error: "expected a Prometheus metric name (letters, digits, _ and :)" }).meta({ description });

const CohortsSchema = z
  .object({
    split: TargetRefSchema.meta({ description: "The proxy target (an HTTP link) that splits the viewers: its faults reach the experiment cohort only, and its traffic names each viewer's cohort in a header." }),
    size: PercentSchema.prefault("1%")
      .refine((p) => p >= 0.01 && p <= 50, { error: "expected a cohort size from 0.01% (one viewer in 10 000) to 50% (two cohorts share the viewers)" })
      .meta({ description: "Size of each cohort (experiment and control) as a share of viewers." }),
    viewerHeader: z.string().default("x-viewer-id").meta({ description: "Header that identifies a viewer (hashed to choose its cohort)." }),
    viewerCookie: z.string().optional().meta({ description: "Cookie that identifies a viewer when the header is absent." }),
    viewerCmcd: z
      .boolean()
      .default(false)
      .meta({ description: "Identify a viewer by the CMCD session id (sid) its player sends when the header and cookie are absent: a cohort of playback sessions." }),
    salt: z
      .string()
      .max(200)
      .default("")
      .meta({ description: "Mixed into the viewer hash: another salt picks other cohorts (e.g. one per game day, so the same viewers are not the experiment cohort every time)." }),
    header: CohortHeaderSchema.meta({ description: "Header the link adds to each request and response of a cohort: experiment or control." }),
    starts: z
      .object({
        metrics: z.url({ protocol: /^https?$/ }).optional().meta({ description: "A Prometheus text endpoint that counts starts, e.g. the players' or a telemetry collector's." }),
        prometheus: PrometheusConnectionSchema.optional().meta({ description: "Or a Prometheus-compatible API where the counters are queried." }),
        good: metricName("Counter of successful starts."),
        total: metricName("Counter of all starts (successful and failed)."),
        label: z
          .string()
          .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, { error: "expected a Prometheus label name" })
          .default("cohort")
          .meta({ description: "The label that carries the cohort header's value: experiment or control." }),
        timeout: DurationSchema.refine(...refineAtLeast(50)).prefault("2s").meta({ description: "Give up on one reading after this long." }),
      })
      .strict()
      .refine((s) => (s.metrics === undefined) !== (s.prometheus === undefined), { message: "give exactly one of metrics or prometheus" })
      .refine((s) => s.good !== s.total, { message: "good and total are the same counter: every start would count as good", path: ["good"] })
      .meta({ description: "Where each cohort's starts are counted: counters labelled with the cohort." }),
    alpha: z.number().gt(0).max(0.2).default(0.05).meta({ description: "The chance of a false alarm over the whole method (split over its looks)." }),
    minStarts: z.int().min(5).default(10).meta({ description: "Starts each cohort needs before they are compared." }),
  })
  .strict()
  .refine((c) => c.header.toLowerCase() !== c.viewerHeader.toLowerCase(), {
    message: "header would replace the viewer's id (viewerHeader): name another header for the cohort",
    path: ["header"],
  })
  .meta({
    description:
      "Judge the faults by comparing a control and an experiment cohort of viewers (Fisher's exact test on their starts), abort as soon as they diverge.",
  });

function withParams(params: z.ZodType) {
  // `prefault` feeds {} through the schema when `with` is omitted, so parameter defaults apply.
  return params.prefault({});
}

function faultSchema(action: ActionDef) {
  return z
    .object({
      name: NameSchema.meta({ description: "A name for this fault, shown in output and the journal." }),
      action: z.literal(action.name),
      target: TargetRefSchema.optional(),
      with: withParams(action.params),
      at: DurationSchema.optional().meta({ description: "When to inject, from the start of the method. Default 0s." }),
      duration: PositiveDurationSchema.optional().meta({ description: "How long to hold the fault. Default: until the method ends." }),
    })
    .strict()
    .meta({ title: action.name, description: action.description });
}

function rollbackSchema(action: ActionDef) {
  return z
    .object({
      name: NameSchema,
      action: z.literal(action.name),
      target: TargetRefSchema.optional(),
      with: withParams(action.params),
    })
    .strict()
    .meta({ title: action.name, description: action.description });
}

function probeSchema(probe: ProbeDef) {
  return z
    .object({
      name: NameSchema.meta({ description: "What this check protects, e.g. 'playback start success'." }),
      probe: z.literal(probe.name),
      with: withParams(probe.params),
      expect: ExpectSchema.optional(),
    })
    .strict()
    .meta({ title: probe.name, description: probe.description });
}

function union<T extends z.ZodObject>(key: string, options: T[]) {
  if (options.length === 0) throw new Error(`the registry has no options for ${key}`);
  return z.discriminatedUnion(key, options as [T, ...T[]]);
}

export function buildExperimentSchema(registry: RegistryView) {
  const actions = [...registry.actions.values()];
  const probes = [...registry.probes.values()];

  const targetShape: Record<string, z.ZodType> = { select: SelectionSchema.optional() };
  for (const [kind, def] of registry.targetKinds) targetShape[kind] = def.selector.optional();
  const TargetSchema = z
    .object(targetShape)
    .strict()
    .meta({ description: `Exactly one of: ${[...registry.targetKinds.keys()].join(", ")}; optionally select.` });

  return z
    .object({
      $schema: z.string().optional(),
      version: z.literal(1, { error: (iss) => `expected version: 1 (the only format version), found ${describeValue(iss.input)}` }),
      title: NameSchema.meta({ description: "One line saying what the experiment shows." }),
      description: z.string().optional(),
      tags: z.array(z.string()).optional(),
      vars: z
        .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "variable names are letters, digits and _" }), ScalarSchema)
        .optional()
        .meta({ description: "Defaults for ${vars.NAME}; CHAOSCAST_VAR_NAME and --var NAME=VALUE override them." }),
      lock: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: "a lock name uses letters, digits, '.', '_' and '-'" })
        .optional()
        .meta({ description: "Lock scope shared with other experiments: only one run per scope at a time. Default: this file." }),
      duration: PositiveDurationSchema.optional().meta({ description: "How long the method lasts; faults are held this long unless they say otherwise." }),
      targets: z
        .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, { error: "target names start with a letter and use letters, digits, _ and -" }), TargetSchema)
        .optional(),
      steadyState: z.array(union("probe", probes.map(probeSchema))).optional(),
      abort: z
        .object({
          interval: DurationSchema.refine(...refineAtLeast(50)).prefault("1s").meta({ description: "How often the steady-state probes run during the method." }),
          after: z.int().min(1).default(2).meta({ description: "Consecutive breaches that abort the run." }),
          grace: DurationSchema.prefault("0s").meta({ description: "Breaches this soon after an injection are not counted." }),
        })
        .strict()
        .prefault({}),
      faults: z.array(union("action", actions.map(faultSchema))).min(1, { error: "expected at least one fault" }),
      rollbacks: z.array(union("action", actions.map(rollbackSchema))).optional(),
      schedule: ScheduleSchema.optional(),
      cohorts: CohortsSchema.optional(),
      budget: z
        .object({
          slo: z
            .string()
            .min(1)
            .meta({
              description:
                "The SLO: a file (OpenSLO v1 or chaoscast's short form) relative to this one, FILE#name for one SLO of several, or a bare name looked for in the SLO files next to this file and in its slos/ and slo/ folders.",
            }),
          prometheus: PrometheusConnectionSchema.meta({ description: "Where the SLO's counters are queried." }),
          minRemaining: PercentSchema.prefault(0).meta({ description: "Skip the run (exit 5) when less than this share of the error budget remains, e.g. 25%." }),
          maxBurnRate: z.number().positive({ error: "expected a burn rate above 0, such as 2 or 14.4" }).optional().meta({ description: "Abort the run when the SLO burns its budget faster than this since the faults began (1 = exactly on budget)." }),
          chaosWindow: z
            .enum(["charged", "excluded"])
            .default("charged")
            .meta({ description: "Whether the run's window counts against the budget (charged) or is reported apart and left out by `chaoscast budget --exclude-chaos` (excluded)." }),
        })
        .strict()
        .optional()
        .meta({ description: "The error-budget gate: the run goes ahead only while the SLO has budget to spend, and records what it spent." }),
      recovery: z
        .object({
          timeout: DurationSchema.prefault("30s").meta({ description: "How long to wait for the steady state after rollback." }),
          interval: DurationSchema.refine(...refineAtLeast(50)).optional().meta({ description: "How often to check during recovery. Default: abort.interval." }),
          hold: DurationSchema.prefault("0s").meta({
            description: "How long the steady state must hold, check after check, to count as back (0s: the first check that passes). For harm that shows late, such as viewers who retry after a pause.",
          }),
        })
        .strict()
        .prefault({}),
    })
    .strict();
}

export type ExperimentSchema = ReturnType<typeof buildExperimentSchema>;
export type ExperimentDocument = z.output<ExperimentSchema>;
