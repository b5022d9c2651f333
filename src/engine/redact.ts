// Scrubbing secrets (values read from the environment) from anything that leaves the process.

/** Shorter values would garble ordinary text; they are still never echoed from the experiment. */
export const MIN_SCRUBBED_LENGTH = 4;
const MASK = "***";

export type Redactor = <T>(value: T) => T;

export function makeRedactor(secrets: readonly string[]): Redactor {
  const scrubbed = [...new Set(secrets)].filter((s) => s.length >= MIN_SCRUBBED_LENGTH).sort((a, b) => b.length - a.length);
  if (scrubbed.length === 0) return (value) => value;
  const scrubText = (text: string) => scrubbed.reduce((acc, secret) => acc.split(secret).join(MASK), text);
  const walk = (value: unknown): unknown => {
    if (typeof value === "string") return scrubText(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [scrubText(k), walk(v)]));
    }
    return value;
  };
  return <T>(value: T) => walk(value) as T;
}
