// Variables: `${vars.name}` (defaults in the file, overridden by CHAOSCAST_VAR_name, then --var
// name=value) and `${env:NAME}`. Anything read from the environment is a secret: it is substituted
// for the run but the display copy (journal, plan, output) keeps the placeholder, and its value is
// recorded so that free text can be scrubbed. Names and titles keep the placeholder even for the run.

import { didYouMean } from "../util/did-you-mean.js";

export type Path = (string | number)[];
export interface VarProblem {
  path: Path;
  message: string;
}

type Scalar = string | number | boolean;
interface VarValue {
  value: Scalar;
  secret: boolean;
  /** Where it came from, for messages. */
  origin: "file" | "environment" | "--var";
}

export interface Interpolated {
  /** The document with every placeholder substituted: what the run uses. */
  value: unknown;
  /** The same document with secret placeholders kept: what is shown and journaled. */
  display: unknown;
  secrets: string[];
  /** For each secret, the environment variable it was read from (a state file names it instead). */
  secretSources: Record<string, string>;
  problems: VarProblem[];
}

export interface VarInputs {
  /** --var name=value pairs, already split. */
  cli: Record<string, string>;
  env: Record<string, string | undefined>;
}

const PLACEHOLDER = /\$\$\{|\$\{([^}]*)\}/g;
const ENV_PREFIX = "CHAOSCAST_VAR_";
/** The most text substitution may produce in one document, as for YAML aliases. */
export const MAX_SUBSTITUTED_CHARS = 4 * 1024 * 1024;

/**
 * Text that names or describes the experiment and its parts. It is printed, journaled, written to
 * state files and turned into run ids, where scrubbing cannot reach every use (a slug, an escaped
 * copy): a secret there is kept as its placeholder, in the run copy too.
 */
function namesSomething(path: Path): boolean {
  const [first, second, third] = path;
  if (path.length === 1) return first === "title" || first === "description";
  if (path.length === 2) return first === "tags" && typeof second === "number";
  return path.length === 3 && (first === "faults" || first === "steadyState" || first === "rollbacks") && typeof second === "number" && third === "name";
}

/** `lock:` is an identifier that changes behaviour (which runs exclude each other): it cannot hold a placeholder instead. */
const isLock = (path: Path) => path.length === 1 && path[0] === "lock";

/** Split "name=value" from --var; throws a message for the user when malformed. */
export function parseVarFlag(flag: string): [string, string] {
  const eq = flag.indexOf("=");
  if (eq <= 0) throw new Error(`--var expects name=value, found "${flag}"`);
  return [flag.slice(0, eq), flag.slice(eq + 1)];
}

/** Values read from the environment, each with the variable it came from. */
type Secrets = Map<string, string>;

export function interpolateDocument(doc: unknown, inputs: VarInputs): Interpolated {
  const problems: VarProblem[] = [];
  const secrets: Secrets = new Map();
  const vars = collectVars(doc, inputs, problems, secrets);
  // A large variable used many times is the same bomb as a YAML alias: bound what substitution adds.
  let substituted = 0;
  const walk = (node: unknown, path: Path, inVarsBlock: boolean): { value: unknown; display: unknown } => {
    if (typeof node === "string") {
      if (inVarsBlock) return { value: node, display: node };
      if (substituted > MAX_SUBSTITUTED_CHARS) return { value: node, display: node };
      const part = substitute(node, path, vars, inputs.env, problems, secrets);
      if (node.includes("${")) {
        substituted += String(part.value).length;
        if (substituted > MAX_SUBSTITUTED_CHARS) {
          problems.push({ path, message: `variables expand the document past ${MAX_SUBSTITUTED_CHARS / (1024 * 1024)} MiB of substituted text here; use large values fewer times, or not at all` });
          return { value: node, display: node };
        }
      }
      if (part.secret && namesSomething(path)) return { value: part.shown, display: part.display };
      if (part.secret && isLock(path)) {
        problems.push({
          path,
          message: `secrets cannot be used in lock: ${String(part.display)} is read from the environment (every \${env:…} and CHAOSCAST_VAR_… value is a secret), and a lock scope is written to lock files and shown to other runs; write the scope in the file or pass it with --var`,
        });
        return { value: part.display, display: part.display };
      }
      return { value: part.value, display: part.display };
    }
    if (Array.isArray(node)) {
      const parts = node.map((item, i) => walk(item, [...path, i], inVarsBlock));
      return { value: parts.map((p) => p.value), display: parts.map((p) => p.display) };
    }
    if (node !== null && typeof node === "object") {
      const value: Record<string, unknown> = {};
      const display: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(node)) {
        const isVars = inVarsBlock || (path.length === 0 && key === "vars");
        const part = walk(child, [...path, key], isVars);
        setOwn(value, key, part.value);
        setOwn(display, key, part.display);
      }
      return { value, display };
    }
    return { value: node, display: node };
  };
  const result = walk(doc, [], false);
  // The vars block itself is shown with secrets masked.
  if (isRecord(result.display) && isRecord(result.display.vars)) {
    const shown: Record<string, unknown> = {};
    for (const [name, v] of vars) setOwn(shown, name, v.secret ? "<secret>" : v.value);
    result.display.vars = shown;
  }
  if (isRecord(result.value) && isRecord(result.value.vars)) {
    // Declared values that are not scalars (a list, a mapping) stay, so that the schema reports them.
    const resolved: Record<string, unknown> = { ...result.value.vars };
    for (const [name, v] of vars) setOwn(resolved, name, v.value);
    result.value.vars = resolved;
  }
  return { value: result.value, display: result.display, secrets: [...secrets.keys()], secretSources: Object.fromEntries(secrets), problems };
}

function collectVars(
  doc: unknown,
  inputs: VarInputs,
  problems: VarProblem[],
  secrets: Secrets,
): Map<string, VarValue> {
  const vars = new Map<string, VarValue>();
  const declared = isRecord(doc) && isRecord(doc.vars) ? doc.vars : {};
  for (const [name, raw] of Object.entries(declared)) {
    if (typeof raw === "string") {
      // Defaults may read the environment (a token, a host) but not other vars.
      const part = substitute(raw, ["vars", name], new Map(), inputs.env, problems, secrets);
      vars.set(name, { value: part.value as Scalar, secret: part.secret, origin: "file" });
    } else if (typeof raw === "number" || typeof raw === "boolean") {
      vars.set(name, { value: raw, secret: false, origin: "file" });
    }
    // Other types are reported by the schema.
  }
  for (const [key, value] of Object.entries(inputs.env)) {
    if (!key.startsWith(ENV_PREFIX) || value === undefined) continue;
    const name = key.slice(ENV_PREFIX.length);
    vars.set(name, { value: coerce(value, declared[name]), secret: true, origin: "environment" });
    if (value !== "") secrets.set(value, key);
  }
  for (const [name, value] of Object.entries(inputs.cli)) vars.set(name, { value: coerce(value, declared[name]), secret: false, origin: "--var" });
  return vars;
}

/**
 * Overrides arrive as text. A declared variable keeps the type of its default ("1" stays text for
 * `n: "x"`); an undeclared one is read as YAML would ("9090" a number, "true" a boolean).
 */
function coerce(text: string, declared: unknown): Scalar {
  if (typeof declared === "string") return text;
  const looksNumeric = /^-?\d+(\.\d+)?$/.test(text) && !/^-?0\d/.test(text);
  if (typeof declared === "number") return looksNumeric ? Number(text) : text;
  if (typeof declared === "boolean") return text === "true" ? true : text === "false" ? false : text;
  if (looksNumeric) return Number(text);
  if (text === "true" || text === "false") return text === "true";
  return text;
}

/** Names of the variables a document declares or uses, to catch a misspelt --var. */
export function variableNames(doc: unknown): string[] {
  const names = new Set<string>();
  if (isRecord(doc) && isRecord(doc.vars)) for (const name of Object.keys(doc.vars)) names.add(name);
  const walk = (node: unknown): void => {
    if (typeof node === "string") for (const m of node.matchAll(/\$\{\s*vars\.([^}\s]+)\s*\}/g)) names.add(m[1]!);
    else if (Array.isArray(node)) node.forEach(walk);
    else if (isRecord(node)) Object.values(node).forEach(walk);
  };
  walk(doc);
  return [...names];
}

function substitute(
  text: string,
  path: Path,
  vars: Map<string, VarValue>,
  env: Record<string, string | undefined>,
  problems: VarProblem[],
  secrets: Secrets,
): Part {
  if (!text.includes("${")) return { value: text, display: text, shown: text, secret: false };
  const whole = /^\$\{([^}]*)\}$/.exec(text);
  let value = "";
  let display = "";
  let shown = "";
  let secret = false;
  let lastIndex = 0;
  let single: Resolved | undefined;
  for (const match of text.matchAll(PLACEHOLDER)) {
    const literal = text.slice(lastIndex, match.index);
    value += literal;
    display += literal;
    shown += literal;
    lastIndex = match.index + match[0].length;
    if (match[0] === "$${") {
      value += "${";
      display += "$${";
      shown += "${";
      continue;
    }
    const resolved = resolvePlaceholder(match[1]!.trim(), match[0], path, vars, env, problems, secrets);
    value += String(resolved.value);
    display += String(resolved.display);
    shown += String(resolved.secret ? resolved.display : resolved.value);
    secret ||= resolved.secret;
    if (whole) single = resolved;
  }
  value += text.slice(lastIndex);
  display += text.slice(lastIndex);
  shown += text.slice(lastIndex);
  // A value that is exactly one placeholder keeps the variable's type (vars: { count: 3 }).
  if (single) return { ...single, shown: single.secret ? single.display : single.value };
  return { value, display, shown, secret };
}

/** One placeholder resolved, and whether its value came from the environment. */
interface Resolved {
  value: unknown;
  display: unknown;
  secret: boolean;
}

/** A substituted piece of text; `shown` is the value with every secret kept as its placeholder. */
interface Part extends Resolved {
  shown: unknown;
}

function resolvePlaceholder(
  expr: string,
  placeholder: string,
  path: Path,
  vars: Map<string, VarValue>,
  env: Record<string, string | undefined>,
  problems: VarProblem[],
  secrets: Secrets,
): Resolved {
  if (expr.startsWith("env:")) {
    const name = expr.slice(4);
    if (name === "") {
      problems.push({ path, message: `${placeholder} names no environment variable; write \${env:NAME}` });
      return { value: "", display: placeholder, secret: false };
    }
    const value = env[name];
    if (value === undefined) {
      problems.push({ path, message: `environment variable ${name} is not set (needed by ${placeholder})` });
      return { value: "", display: placeholder, secret: true };
    }
    if (value !== "") secrets.set(value, name);
    return { value, display: placeholder, secret: true };
  }
  if (expr.startsWith("vars.")) {
    const name = expr.slice(5);
    const found = vars.get(name);
    if (!found) {
      // The search is quadratic in name lengths, and only the first problems are shown: bound both.
      const names = [...vars.keys()].filter((n) => n.length <= 64);
      const hint = problems.length < 100 && name.length <= 64 ? didYouMean(name, names) : "";
      problems.push({
        path,
        message: `unknown variable ${placeholder}${hint}; declare it under vars: or pass --var ${name}=VALUE`,
      });
      return { value: "", display: placeholder, secret: false };
    }
    return { value: found.value, display: found.secret ? placeholder : found.value, secret: found.secret };
  }
  problems.push({ path, message: `unknown placeholder ${placeholder}: expected \${vars.NAME} or \${env:NAME} (write $\${ for a literal \${)` });
  return { value: "", display: placeholder, secret: false };
}

/** `obj[key] = value`, except that a key "__proto__" is an ordinary key (assigning it would set the prototype). */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
