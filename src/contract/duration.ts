// Durations as people write them in experiment files: 250ms, 2s, 1.5s, 5m, 1h, 1m30s.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
export const DURATION_PATTERN = "^(\\d+(\\.\\d+)?(ms|s|m|h))+$";
const WHOLE = new RegExp(DURATION_PATTERN);

/** Milliseconds for a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!WHOLE.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(PART)) total += Number(amount) * UNIT_MS[unit!]!;
  return Math.round(total);
}

/** Render milliseconds compactly for people: 250ms, 2s, 1.5s, 5m, 1h2m. */
export function formatDuration(ms: number): string {
  // Below 10 ms a fraction matters: 0.1ms must not read as 0ms in "expected at least 50ms, found 0ms".
  if (ms < 10 && !Number.isInteger(ms)) return `${Number(ms.toPrecision(2))}ms`;
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1_000).toFixed(ms % 1_000 === 0 ? 0 : 2))}s`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.round((ms % 60_000) / 1_000);
  return [h ? `${h}h` : "", m ? `${m}m` : "", s ? `${s}s` : ""].join("") || "0s";
}
