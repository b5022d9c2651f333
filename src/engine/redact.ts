// Scrubbing secrets (values read from the environment) from anything that leaves the process.

import { createHash, randomBytes } from "node:crypto";

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

/**
 * For the state file: replace each secret by an `${env:NAME}` placeholder naming the environment
 * variable it was read from, so the file never holds a secret yet `chaoscast rollback`, run with the
 * same variable set, can undo the fault. Values too short to scrub safely are left alone (as in
 * journals): replacing "1" would rewrite unrelated numbers. The names and values used are added to
 * `used`, so the record can carry a fingerprint that catches a variable changed since the run.
 */
export type SecretProtector = <T>(value: T, used?: Map<string, string>) => T;

export function protectSecrets(sources: Readonly<Record<string, string>>): SecretProtector {
  const ordered = Object.keys(sources)
    .filter((secret) => secret.length >= MIN_SCRUBBED_LENGTH)
    .sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return (value) => value;
  const scrubText = (text: string, used: Map<string, string> | undefined) =>
    ordered.reduce((acc, secret) => {
      if (!acc.includes(secret)) return acc;
      const name = sources[secret]!;
      used?.set(name, secret);
      return acc.split(secret).join(`\${env:${name}}`);
    }, text);
  const walk = (value: unknown, used: Map<string, string> | undefined): unknown => {
    if (typeof value === "string") return scrubText(value, used);
    if (Array.isArray(value)) return value.map((v) => walk(v, used));
    if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [scrubText(k, used), walk(v, used)]));
    return value;
  };
  return <T>(value: T, used?: Map<string, string>) => walk(value, used) as T;
}

/** A secret a state record refers to: its variable, and a short salted fingerprint of its value. */
export interface SecretRef {
  name: string;
  salt: string;
  fingerprint: string;
}

function fingerprintOf(value: string, salt: string): string {
  // 24 bits: enough to notice a changed variable, too few to help anyone guess the secret.
  return createHash("sha256").update(`${salt}:${value}`).digest("hex").slice(0, 6);
}

export function secretRefs(used: ReadonlyMap<string, string>): SecretRef[] {
  return [...used].map(([name, value]) => {
    const salt = randomBytes(8).toString("hex");
    return { name, salt, fingerprint: fingerprintOf(value, salt) };
  });
}

/**
 * The inverse, for `chaoscast rollback`: put the variables' values back. Throws, naming the
 * variable, when one is not set or no longer holds the value the run used: undoing with another
 * value could silently act on the wrong thing.
 */
export function restoreSecrets<T>(value: T, refs: readonly SecretRef[], env: NodeJS.ProcessEnv = process.env): T {
  if (refs.length === 0) return value;
  for (const ref of refs) {
    const current = env[ref.name];
    if (current === undefined) throw new Error(`it needs the environment variable ${ref.name}, a secret that is not written to state files; set it and run rollback again`);
    if (fingerprintOf(current, ref.salt) !== ref.fingerprint) throw new Error(`the environment variable ${ref.name} no longer holds the value the run used; set it back and run rollback again`);
  }
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return refs.reduce((acc, ref) => acc.split(`\${env:${ref.name}}`).join(env[ref.name]!), v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [walk(k) as string, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
