// Reading journals back (`chaoscast report`): a journal on disk is untrusted input. It must be a
// regular file of bounded size, JSON, not too deep, and of the journal's shape in every field a
// report reads; anything else is a problem with the file's name, where in it, and what was expected.

import { z } from "zod";
import { OUTCOMES_WORST_FIRST, type RunEvent } from "../contract/events.js";
import type { Problem } from "../errors.js";
import { jsonNestsDeeperThan } from "../util/json-depth.js";
import { FileReadError, readRegularText } from "../util/safe-read.js";
import type { Journal } from "./journal.js";

const MAX_JOURNAL_BYTES = 64 * 1024 * 1024;
const MAX_DEPTH = 64;

const outcome = z.enum(OUTCOMES_WORST_FIRST as [string, ...string[]]);
const target = z.object({ id: z.string(), label: z.string() }).nullable();
// A run is never longer than this; a bigger figure in a journal is not a chaoscast journal's (and
// would make a timeline of billions of ticks).
const MAX_MS = 366 * 24 * 3600_000;
const ms = z.number().finite().min(0).max(MAX_MS);
const isoTime = z.string().refine((text) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(text) && !Number.isNaN(Date.parse(text)), { message: "expected an ISO 8601 time such as 2026-12-06T21:17:08.310Z" });
const stamp = { at: isoTime, t: ms };
const phase = z.enum(["preflight", "steady-state-before", "method", "rollback", "recovery"]);
const bound = z.union([z.object({ op: z.enum(["<", "<=", ">", ">=", "==", "!="]), value: z.number() }), z.object({ min: z.number(), max: z.number() })]).nullable();

const probability = z.number().min(0).max(1);
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const cohortCounts = z.object({ starts: count, good: count }).refine((c) => c.good <= c.starts, { message: "more good starts than starts" });

// The events a report reads, field by field; other event types need only their type and time.
const known = [
  z.object({
    type: z.literal("run-started"),
    runId: z.string(),
    title: z.string(),
    file: z.string(),
    seed: z.string(),
    methodMs: ms,
    faults: z.number(),
    probes: z.number(),
    hypothesis: z.array(z.object({ name: z.string(), probe: z.string(), expect: z.string(), metric: z.string(), bound })).optional(),
    intervalMs: ms.optional(),
    ...stamp,
  }),
  z.object({ type: z.literal("phase-started"), phase, ...stamp }),
  z.object({ type: z.literal("phase-finished"), phase, ok: z.boolean(), detail: z.string().optional(), ...stamp }),
  z.object({ type: z.literal("targets-resolved"), target: z.string(), description: z.string(), candidates: z.number(), excluded: z.array(z.object({ id: z.string(), label: z.string() })), chosen: z.array(z.object({ id: z.string(), label: z.string() })), ...stamp }),
  z.object({
    type: z.literal("observation"),
    phase,
    probe: z.string(),
    ok: z.boolean(),
    counted: z.boolean(),
    summary: z.string(),
    failures: z.array(z.string()),
    value: z.unknown().optional(),
    metric: z.number().finite().optional(),
    inconclusive: z.string().optional(),
    durationMs: z.number(),
    ...stamp,
  }),
  z.object({ type: z.literal("breach"), probes: z.array(z.string()), consecutive: z.number().int().min(1), after: z.number(), inBand: z.boolean().optional(), ...stamp }),
  z.object({ type: z.literal("abort"), reason: z.string(), ...stamp }),
  z.object({ type: z.literal("fault-injected"), fault: z.string(), action: z.string(), target, revert: z.string().nullable(), ...stamp }),
  z.object({ type: z.literal("fault-reverted"), fault: z.string(), target, attempts: z.number(), early: z.boolean(), notes: z.array(z.string()), ...stamp }),
  z.object({ type: z.literal("revert-failed"), fault: z.string(), target, revert: z.string(), error: z.string(), ...stamp }),
  z.object({ type: z.literal("run-finished"), outcome, exitCode: z.number(), reason: z.string(), stillInjected: z.array(z.string()), recovered: z.boolean().nullable(), ...stamp }),
  z.object({ type: z.literal("cohort"), experiment: cohortCounts, control: cohortCounts, pValue: probability.nullable(), threshold: probability, state: z.enum(["collecting", "holding", "diverged"]), ...stamp }),
  z.object({
    type: z.literal("cohort-verdict"),
    verdict: z.enum(["no-difference", "diverged", "inconclusive"]),
    experiment: cohortCounts,
    control: cohortCounts,
    pValue: probability.nullable(),
    difference: z.number().min(-1).max(1).nullable(),
    low: z.number().min(-2).max(2).nullable(),
    high: z.number().min(-2).max(2).nullable(),
    test: z.string(),
    alpha: probability,
    looks: z.number().int().min(1),
    failedBeforeDetection: z.number().int().min(0).nullable(),
    detail: z.string(),
    ...stamp,
  }),
] as const;
const KNOWN = new Map<string, z.ZodType>(known.map((schema) => [schema.shape.type.value, schema]));
const other = z.object({ type: z.string(), ...stamp }).passthrough();

const JournalSchema = z
  .object({
    journalVersion: z.literal(1),
    runId: z.string(),
    file: z.string(),
    title: z.string(),
    seed: z.string(),
    startedAt: isoTime,
    finishedAt: isoTime,
    durationMs: ms,
    outcome,
    exitCode: z.number().int(),
    reason: z.string(),
    recovered: z.boolean().nullable(),
    stillInjected: z.array(z.string()),
    faults: z.array(
      z.object({
        fault: z.string(),
        action: z.string(),
        target: z.string().nullable(),
        injectedAt: z.string().nullable(),
        revertedAt: z.string().nullable(),
        revert: z.string().nullable(),
        status: z.enum(["injected", "reverted", "not-reversible", "failed-to-inject", "revert-failed"]),
      }),
    ),
    events: z.array(z.unknown()),
  })
  .passthrough();

export type JournalRead = { journal: Journal } | { problem: Problem };

export async function readJournalFile(file: string): Promise<JournalRead> {
  const problem = (message: string, path = "", line?: number, col?: number): JournalRead => ({ problem: { file, path, message, ...(line !== undefined ? { line, col: col ?? 1 } : {}) } });
  let text: string;
  try {
    text = await readRegularText(file, { maxBytes: MAX_JOURNAL_BYTES, kind: "journals" });
  } catch (err) {
    return problem(`cannot read it: ${err instanceof FileReadError ? err.reason : ((err as NodeJS.ErrnoException).code ?? (err as Error).message)}`);
  }
  if (jsonNestsDeeperThan(text, MAX_DEPTH)) return problem(`it nests more than ${MAX_DEPTH} levels deep, which no chaoscast journal does`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const at = /position (\d+)/.exec((err as Error).message);
    if (at) {
      const before = text.slice(0, Number(at[1]));
      const line = before.split("\n").length;
      return problem(`expected a chaoscast journal (JSON), but it is not valid JSON here`, "", line, before.length - before.lastIndexOf("\n"));
    }
    // The parser's message quotes the file's first bytes, which may be anything: say less.
    return problem("expected a chaoscast journal (JSON), but it is not valid JSON");
  }
  const shapeProblem = (error: z.ZodError, prefix: (string | number)[] = []): JournalRead => {
    const issue = error.issues[0]!;
    const where = [...prefix, ...issue.path].map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
    return problem(`expected a chaoscast journal (version 1): ${issue.message}`, where);
  };
  const parsed = JournalSchema.safeParse(json);
  if (!parsed.success) return shapeProblem(parsed.error);
  // Each event against the schema of its own type, so a problem names the very field.
  for (const [i, e] of parsed.data.events.entries()) {
    const type = typeof e === "object" && e !== null && "type" in e ? (e as { type: unknown }).type : undefined;
    const checked = (typeof type === "string" ? (KNOWN.get(type) ?? other) : other).safeParse(e);
    if (!checked.success) return shapeProblem(checked.error, ["events", i]);
  }
  const journal = parsed.data as unknown as Journal;
  const finished = journal.events.filter((e: RunEvent) => e.type === "run-started" || e.type === "run-finished");
  if (finished.length < 2) return problem("expected a chaoscast journal with its run-started and run-finished events", "events");
  return { journal };
}
