// The `expect` language: comparators (">= 0.995"), ranges ("200..299", "2xx"), regexes ("/^#EXTM3U/"),
// literal equality, and objects of those per field of an observation. Parsing is pure and synchronous
// (zod refinements use it); judging is async only because a large regex match runs off the main thread.

import { compileSafeRegex, RegexRefusedError, testSafeRegex, type SafeRegex } from "../util/safe-regex.js";

export type Comparator = "<" | "<=" | ">" | ">=" | "==" | "!=";

export type Matcher =
  | { kind: "compare"; op: Comparator; value: number; source: string }
  | { kind: "range"; min: number; max: number; source: string }
  | { kind: "regex"; regex: SafeRegex; source: string }
  | { kind: "equals"; value: string | number | boolean | null; source: string };

export type Expectation = Matcher | { kind: "fields"; fields: Record<string, Expectation> };

const NUMBER = "-?\\d+(?:\\.\\d+)?(?:[eE][-+]?\\d+)?";
const COMPARE = new RegExp(`^(<=|>=|==|!=|<|>)\\s*(${NUMBER})$`);
const RANGE = new RegExp(`^(${NUMBER})\\s*\\.\\.\\s*(${NUMBER})$`);
const REGEX = /^\/(.*)\/([dgimsuvy]*)$/s;

export class ExpectSyntaxError extends Error {
  /** Where inside the expectation, e.g. ["latencyMs"] for { status: 200, latencyMs: "< fast" }. */
  readonly path: string[] = [];
}

/** Parse one expectation. Throws ExpectSyntaxError with a user-facing message. */
export function parseExpectation(input: unknown): Expectation {
  if (input === null || typeof input === "number" || typeof input === "boolean") {
    return { kind: "equals", value: input, source: JSON.stringify(input) };
  }
  if (typeof input === "string") return parseMatcherString(input);
  if (typeof input === "object" && !Array.isArray(input)) {
    const fields: Record<string, Expectation> = {};
    for (const [key, value] of Object.entries(input)) {
      try {
        fields[key] = parseExpectation(value);
      } catch (err) {
        if (err instanceof ExpectSyntaxError) err.path.unshift(key);
        throw err;
      }
    }
    if (Object.keys(fields).length === 0) throw new ExpectSyntaxError("expected at least one field to check, found an empty mapping");
    return { kind: "fields", fields };
  }
  throw new ExpectSyntaxError(
    'expected a comparator (">= 0.995"), a range ("200..299"), a regex ("/^#EXTM3U/"), a literal, or a mapping of fields',
  );
}

function parseMatcherString(raw: string): Matcher {
  const source = raw.trim();
  const compare = COMPARE.exec(source);
  if (compare) return { kind: "compare", op: compare[1] as Comparator, value: Number(compare[2]), source };
  const range = RANGE.exec(source);
  if (range) {
    const min = Number(range[1]);
    const max = Number(range[2]);
    if (min > max) throw new ExpectSyntaxError(`range "${source}" is empty: ${min} is greater than ${max}`);
    return { kind: "range", min, max, source };
  }
  // HTTP status classes, as SREs write them: "2xx" means 200..299.
  const statusClass = /^([1-5])xx$/i.exec(source);
  if (statusClass) {
    const base = Number(statusClass[1]) * 100;
    return { kind: "range", min: base, max: base + 99, source };
  }
  const regex = REGEX.exec(source);
  if (regex) {
    try {
      return { kind: "regex", regex: compileSafeRegex(regex[1]!, regex[2]!), source };
    } catch (err) {
      if (err instanceof RegexRefusedError) throw new ExpectSyntaxError(err.message);
      throw err;
    }
  }
  if (/^(<=|>=|==|!=|<|>)/.test(source)) {
    throw new ExpectSyntaxError(`comparator "${source}" needs a number after the operator, e.g. ">= 0.995"`);
  }
  return { kind: "equals", value: raw, source: JSON.stringify(raw) };
}

export interface Verdict {
  ok: boolean;
  /** One sentence per failed check, naming the field and the value seen. */
  failures: string[];
}

export interface JudgeOptions {
  /** How long regex matching may take, ms; each regex check gets this long. Default 1s. */
  deadlineMs?: number | undefined;
  /** Cancels regex matching still under way (the run is ending). */
  signal?: AbortSignal | undefined;
}

const DEFAULT_DEADLINE_MS = 1000;

/**
 * Judge an observation. `primaryField` is what a bare matcher (not a mapping) applies to, e.g.
 * "status" for the http probe. Checks run together, so the whole verdict takes at most one deadline.
 */
export async function judge(expectation: Expectation, fields: Record<string, unknown>, primaryField: string, options: JudgeOptions = {}): Promise<Verdict> {
  const checks: Promise<string | undefined>[] = [];
  const context = { deadlineMs: options.deadlineMs ?? DEFAULT_DEADLINE_MS, signal: options.signal };
  if (expectation.kind === "fields") judgeFields(expectation.fields, fields, "", checks, context);
  else checks.push(judgeOne(expectation, lookup(fields, primaryField), primaryField, context));
  const failures = (await Promise.all(checks)).filter((f): f is string => f !== undefined);
  return { ok: failures.length === 0, failures };
}

interface CheckContext {
  deadlineMs: number;
  signal: AbortSignal | undefined;
}

function judgeFields(expected: Record<string, Expectation>, actual: unknown, prefix: string, checks: Promise<string | undefined>[], context: CheckContext): void {
  for (const [key, expectation] of Object.entries(expected)) {
    const name = prefix ? `${prefix}.${key}` : key;
    const value = lookup(actual, key);
    if (expectation.kind === "fields") judgeFields(expectation.fields, value, name, checks, context);
    else checks.push(judgeOne(expectation, value, name, context));
  }
}

/** The failure sentence, or undefined when the value matches. */
async function judgeOne(matcher: Matcher, value: unknown, name: string, context: CheckContext): Promise<string | undefined> {
  if (value === undefined) return `${name} is missing (expected ${matcher.source})`;
  const mismatch = `${name} ${show(value, matcher)} does not match ${matcher.source}`;
  if (matcher.kind !== "regex") return matches(matcher, value) ? undefined : mismatch;
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  const result = await testSafeRegex(matcher.regex, text, { timeoutMs: context.deadlineMs, signal: context.signal });
  const regex = matcher.regex.shown;
  switch (result.status) {
    case "done":
      return result.matched ? undefined : mismatch;
    case "timeout":
      return `${name}: the regex ${regex} did not finish matching within ${context.deadlineMs}ms (text of ${text.length} characters); counted as not matching`;
    case "cancelled":
      return `${name}: matching the regex ${regex} was cancelled; counted as not matching`;
    case "failed":
      return `${name}: the regex ${regex} could not be matched (${result.message}); counted as not matching`;
  }
}

/** Does a non-regex matcher accept the value? (Regexes need `judge`, which bounds their time.) */
export function matches(matcher: Exclude<Matcher, { kind: "regex" }>, value: unknown): boolean {
  switch (matcher.kind) {
    case "compare": {
      const n = asNumber(value);
      if (n === undefined) return false;
      switch (matcher.op) {
        case "<": return n < matcher.value;
        case "<=": return n <= matcher.value;
        case ">": return n > matcher.value;
        case ">=": return n >= matcher.value;
        case "==": return n === matcher.value;
        case "!=": return n !== matcher.value;
      }
      return false;
    }
    case "range": {
      const n = asNumber(value);
      return n !== undefined && n >= matcher.min && n <= matcher.max;
    }
    case "equals":
      if (typeof matcher.value === "string" && typeof value !== "string") return String(value) === matcher.value;
      return value === matcher.value;
  }
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

function show(value: unknown, matcher: Matcher): string {
  if (typeof value === "number" && Number.isFinite(value) && !Number.isInteger(value)) return roundedNumber(value, matcher);
  const text = typeof value === "string" ? JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value) : JSON.stringify(value);
  return text ?? String(value);
}

/**
 * Find a field: a key present as-is wins (header names and metric names may contain dots); otherwise
 * a path such as "data.items[0].id" or "$.data.items[0].id" is followed.
 */
export function lookup(container: unknown, key: string): unknown {
  if (container === null || typeof container !== "object") return undefined;
  if (Object.hasOwn(container, key)) return (container as Record<string, unknown>)[key];
  const segments = key.replace(/^\$\.?/, "").match(/[^.[\]]+|\[\d+\]/g);
  if (!segments) return undefined;
  let current: unknown = container;
  for (const segment of segments) {
    if (current === null || typeof current !== "object") return undefined;
    const index = /^\[(\d+)\]$/.exec(segment);
    current = index ? (current as unknown[])[Number(index[1])] : (current as Record<string, unknown>)[segment];
  }
  return current;
}

/**
 * A failing number as a person reads it: four significant digits (0.7419, not 0.7419354838709677),
 * more only where rounding would make it pass the check it failed (0.99499 against ">= 0.995").
 */
function roundedNumber(value: number, matcher: Matcher): string {
  for (let digits = 4; digits < 17; digits++) {
    const rounded = Number(value.toPrecision(digits));
    if (matcher.kind === "regex" || !matches(matcher, rounded)) return String(rounded);
  }
  return String(value);
}
