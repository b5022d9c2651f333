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

/**
 * For the state file: replace each secret by an `${env:NAME}` placeholder naming an environment
 * variable that holds it (secrets are by definition read from the environment), so the file never
 * holds a secret yet `chaoscast rollback`, run with the same environment, can undo the fault. The
 * names used are added to `used`. A secret no variable holds any more is masked.
 */
export type SecretProtector = <T>(value: T, used?: Set<string>) => T;

export function protectSecrets(experiment: { secrets: readonly string[] }, env: NodeJS.ProcessEnv = process.env): SecretProtector {
  const names = new Map<string, string | undefined>();
  for (const secret of new Set(experiment.secrets)) {
    if (secret.length === 0) continue;
    const holders = Object.entries(env).filter(([, v]) => v === secret).map(([k]) => k).sort();
    names.set(secret, holders.find((k) => !k.startsWith("CHAOSCAST_VAR_")) ?? holders[0]);
  }
  const ordered = [...names.keys()].sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return (value) => value;
  const scrubText = (text: string, used: Set<string> | undefined) =>
    ordered.reduce((acc, secret) => {
      if (!acc.includes(secret)) return acc;
      const name = names.get(secret);
      if (name) used?.add(name);
      return acc.split(secret).join(name ? `\${env:${name}}` : MASK);
    }, text);
  const walk = (value: unknown, used: Set<string> | undefined): unknown => {
    if (typeof value === "string") return scrubText(value, used);
    if (Array.isArray(value)) return value.map((v) => walk(v, used));
    if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [scrubText(k, used), walk(v, used)]));
    return value;
  };
  return <T>(value: T, used?: Set<string>) => walk(value, used) as T;
}

/** The inverse, for `chaoscast rollback`: put the named variables' values back. Throws naming a missing one. */
export function restoreSecrets<T>(value: T, names: readonly string[], env: NodeJS.ProcessEnv = process.env): T {
  if (names.length === 0) return value;
  for (const name of names) {
    if (env[name] === undefined) throw new Error(`it needs the environment variable ${name}, a secret that is not written to state files; set it and run rollback again`);
  }
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return names.reduce((acc, name) => acc.split(`\${env:${name}}`).join(env[name]!), v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [walk(k) as string, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
