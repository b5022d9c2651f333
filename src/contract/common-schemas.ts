// Schemas for the small value types used everywhere: durations, percentages, argument arrays.

import { z } from "zod";
import { DURATION_PATTERN, parseDuration } from "./duration.js";
import { parsePercent } from "./percent.js";
import { describeValue } from "../util/describe.js";
import { parseExpectation } from "./expect.js";
import { isReservedHeader } from "../util/reserved-headers.js";

/** Nothing chaoscast waits for should take longer than a day; it also keeps timers in range. */
export const MAX_DURATION_MS = 24 * 3_600_000;

/** Milliseconds as recorded in a state file for a revert: the range a DurationSchema parses to. */
export const RecordedMsSchema = z.number().int().min(0).max(MAX_DURATION_MS);

const durationMessage = (input: unknown) =>
  `expected a duration like 250ms, 2s, 5m or 1h, found ${describeValue(input)}${typeof input === "number" ? " (add a unit)" : ""}`;

/** A duration string; parses to milliseconds. */
export const DurationSchema = z
  .string({ error: (iss) => durationMessage(iss.input) })
  .regex(new RegExp(DURATION_PATTERN), { error: (iss) => durationMessage(iss.input) })
  .transform((text, ctx) => {
    const ms = parseDuration(text)!;
    if (ms > MAX_DURATION_MS) {
      ctx.addIssue({ code: "custom", message: `expected a duration of at most 24h, found "${text}"` });
      return z.NEVER;
    }
    return ms;
  })
  .meta({ title: "duration", examples: ["250ms", "2s", "1.5s", "5m", "1h", "1m30s"] });

/** A length of time that must not be zero (a method, a fault's hold time). */
export const PositiveDurationSchema = DurationSchema.refine((ms) => ms > 0, { message: "expected a duration longer than 0s" });

/** "25%" or 25; parses to a number 0..100. */
export const PercentSchema = z
  .union([z.number(), z.string()], {
    error: (iss) => `expected a percentage like 25% or 25, found ${describeValue(iss.input)}`,
  })
  .transform((value, ctx) => {
    const parsed = parsePercent(value);
    if (parsed === undefined) {
      ctx.addIssue({ code: "custom", message: `expected a percentage between 0 and 100 like 25% or 25, found ${describeValue(value)}` });
      return z.NEVER;
    }
    return parsed;
  })
  .meta({ title: "percentage", examples: ["25%", 25] });

/** A program and its arguments. Never a shell string: each element is passed as-is. */
export const ArgvSchema = z
  .array(z.string(), { error: (iss) => `expected a list of program and arguments like ["curl", "-sf", "http://127.0.0.1:8080/"], found ${describeValue(iss.input)} (chaoscast never runs shell strings)` })
  .min(1, { error: "expected at least the program to run" })
  .meta({ description: 'Program and arguments as a list, e.g. ["curl", "-sf", "http://127.0.0.1/"]; never run through a shell.' });

export const NameSchema = z
  .string()
  .min(1, { error: "expected a non-empty name" })
  .max(120, { error: "names are at most 120 characters" });

/** One `expect` matcher written as text ("200..299", ">= 0.995"), checked when the file is loaded. */
export const MatcherTextSchema = z.string().superRefine((text, ctx) => {
  try {
    parseExpectation(text);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
  }
});

// RFC 9110: a header name is a token; a value may not hold a line break or NUL (a request split in two).
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[^\r\n\0]*$/;

/** Request headers; names and values are checked here, so a bad one is a located error, not a failed request. */
export const HttpHeadersSchema = z.record(
  z.string().regex(HEADER_NAME, { error: "expected a header name (letters, digits and !#$%&'*+.^_`|~-, no spaces or colons)" }),
  z.string().regex(HEADER_VALUE, { error: "a header value may not contain a line break or a NUL character" }),
);

/** A run id as chaoscast makes them (and as state files, the watchdog and cluster records carry them). */
export const RunIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, { error: "expected a run id (letters, digits, '.', '_', '-')" });

/** The header that names a viewer's cohort: not one that frames the message or carries identity. */
export const CohortHeaderSchema = z
  .string()
  .regex(/^[A-Za-z0-9-]+$/, { error: "a header name uses letters, digits and -" })
  .refine((h) => !isReservedHeader(h), { error: "this header frames the message or carries identity; name a header of your own, e.g. x-chaoscast-cohort" })
  .default("x-chaoscast-cohort");
