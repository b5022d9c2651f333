// `expect` regexes on RE2 (re2js), which matches in time linear in the text: compiled and checked
// when the file is loaded, matched on this thread only when the work is small, else on a worker.

import { RE2JS } from "re2js";
import { matchInThread, type ThreadMatch } from "./regex-thread.js";
import { explainRe2Error, findUnsupported } from "./regex-refusals.js";

/** Longer patterns are refused: matching time grows with the pattern's size as well as the text's. */
export const MAX_PATTERN_LENGTH = 1000;

/**
 * Matched on the calling thread up to this much work (program size × text length). The slowest
 * re2js runs measured ~15 ns per unit, so the worst inline match stays under ~10 ms.
 */
export const INLINE_WORK_LIMIT = 500_000;

export interface SafeRegex {
  /** The pattern as written between the slashes. */
  readonly pattern: string;
  /** RE2JS flag bits. */
  readonly flags: number;
  /** "/pattern/flags", shortened to fit in a message. */
  readonly shown: string;
  readonly compiled: RE2JS;
  /** RE2 instructions: the per-character cost of a match. */
  readonly size: number;
}

export class RegexRefusedError extends Error {
  override name = "RegexRefusedError";
}

// JavaScript flags: i, m and s change matching; u (RE2 is Unicode-aware anyway), g, y and d (one
// match is all a check needs) are accepted so existing files stay valid, and change nothing.
const FLAG_BITS: Readonly<Record<string, number>> = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL, u: 0, g: 0, y: 0, d: 0 };

/** Compile "/pattern/flags" for RE2. Throws RegexRefusedError with a message for the user. */
export function compileSafeRegex(pattern: string, flagText: string): SafeRegex {
  const shown = showRegex(pattern, flagText);
  const refuse = (kind: "invalid" | "unsupported", message: string) => new RegexRefusedError(`${kind} regular expression ${shown}: ${message}`);
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw refuse("unsupported", `the pattern is ${pattern.length} characters long, the limit is ${MAX_PATTERN_LENGTH} (matching time grows with its size): match a shorter, distinctive part of the text`);
  }
  let flags = 0;
  const seen = new Set<string>();
  for (const flag of flagText) {
    if (flag === "v") throw refuse("unsupported", "the v flag (JavaScript's class set notation) is not supported; RE2 is Unicode-aware without a flag: remove it");
    const bit = FLAG_BITS[flag];
    if (bit === undefined) throw refuse("invalid", `unknown flag ${flag}; flags: i (ignore case), m (^ and $ at line breaks), s (. matches line breaks); u, g, y and d change nothing`);
    if (seen.has(flag)) throw refuse("invalid", `the flag ${flag} is given twice`);
    seen.add(flag);
    flags |= bit;
  }
  const found = findUnsupported(pattern);
  if (found) throw refuse(found.kind, found.message);
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern, flags);
  } catch (err) {
    const explained = explainRe2Error((err as Error).message);
    throw refuse(explained.kind, explained.message);
  }
  return { pattern, flags, shown, compiled, size: Math.max(compiled.programSize(), pattern.length) };
}

export interface MatchOptions {
  /** How long the match may take, counted from the call. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** Does the regex match anywhere in the text? Small work inline; large work on the worker, bounded. */
export async function testSafeRegex(regex: SafeRegex, text: string, options: MatchOptions): Promise<ThreadMatch> {
  if (options.signal?.aborted) return { status: "cancelled" };
  if (regex.size * text.length <= INLINE_WORK_LIMIT) return { status: "done", matched: regex.compiled.test(text) };
  return matchInThread({ pattern: regex.pattern, flags: regex.flags, text, timeoutMs: options.timeoutMs, signal: options.signal });
}

function showRegex(pattern: string, flags: string): string {
  return `/${pattern.length > 60 ? `${pattern.slice(0, 57)}…` : pattern}/${flags}`;
}
