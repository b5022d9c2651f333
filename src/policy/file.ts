// Finding and reading the blast-radius policy: every .chaoscast.yaml from the working directory up
// to the root (a repository's, a team's), ~/.chaoscast.yaml (the operator's), and CHAOSCAST_POLICY
// (a file named explicitly, e.g. by a CI job). Every one found applies; the strictest limit wins,
// so a file placed deeper can add limits but never lift one.

import { lstatSync, realpathSync, statSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { displayPath } from "../util/display-path.js";
import { LineCounter, parseDocument, type Document } from "yaml";
import { forTerminal } from "../util/terminal-text.js";
import { describeFileType, FileReadError, readRegularText } from "../util/safe-read.js";
import { expansionProblem, firstAliasOffset, versionDirectiveProblem } from "../experiment/yaml-guards.js";
import { ExperimentError, UsageError, type Problem } from "../errors.js";
import { locate } from "../experiment/positions.js";
import { explainIssue } from "../experiment/zod-issues.js";
import { formatPath } from "../experiment/loader.js";
import { mergePolicies, PolicyFileSchema, type Policy, type PolicyKey, type PolicyLimits } from "./rules.js";

export const POLICY_FILE = ".chaoscast.yaml";

export interface LoadedPolicy {
  policy: Policy;
  files: string[];
}

/**
 * Is there a policy file at `file`? A policy that is present but unusable (a directory, a FIFO, a
 * dangling link, unreadable) stops chaoscast: silently skipping it would lift its limits.
 */
function policyPresent(file: string, named: string): boolean {
  let info;
  try {
    info = statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      // A dangling link is a policy someone meant to be there.
      if (lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink()) throw new UsageError(`${named}: a symbolic link to nothing; the blast-radius policy it stood for is missing. Fix or remove it`);
      return false;
    }
    if (code === "ENOTDIR") return false;
    throw new UsageError(`${named}: cannot be checked (${code}); fix its permissions or remove it`);
  }
  if (!info.isFile()) throw new UsageError(`${named}: it is ${describeFileType(info)}; a blast-radius policy must be a regular file. Remove or rename it`);
  return true;
}

export function findPolicyFiles(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env, home = homedir()): string[] {
  const found: string[] = [];
  if (env.CHAOSCAST_POLICY) {
    const named = forTerminal(`CHAOSCAST_POLICY=${env.CHAOSCAST_POLICY}`);
    if (!policyPresent(env.CHAOSCAST_POLICY, named)) throw new UsageError(`${named}: no such file`);
    found.push(env.CHAOSCAST_POLICY);
  }
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, POLICY_FILE);
    if (policyPresent(candidate, forTerminal(displayPath(candidate)))) found.push(candidate);
    if (path.dirname(dir) === dir) break;
  }
  const personal = path.join(home, POLICY_FILE);
  if (policyPresent(personal, forTerminal(displayPath(personal)))) found.push(personal);
  const seen = new Set<string>();
  return found.filter((file) => {
    const real = realpathSync(file);
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  });
}

export async function loadPolicy(files = findPolicyFiles()): Promise<LoadedPolicy> {
  const parts = await Promise.all(files.map((file) => readPolicyFile(file)));
  return { policy: mergePolicies(parts), files };
}

/** Policies are short; a larger file is not one. */
const MAX_POLICY_BYTES = 256 * 1024;

async function readPolicyFile(file: string): Promise<ParsedPolicy> {
  const shown = forTerminal(displayPath(file));
  let text: string;
  try {
    text = await readRegularText(file, { maxBytes: MAX_POLICY_BYTES, kind: "policy files" });
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    throw new ExperimentError([{ file: shown, path: "", message: `cannot read the blast-radius policy: ${err.reason}` }]);
  }
  return parsePolicy(text, shown);
}

export interface ParsedPolicy {
  limits: PolicyLimits;
  /** "file:line" where a limit is set, for messages. */
  source: (key: PolicyKey) => string;
}

/** Check a policy file's text; problems are thrown with file:line:col (exit 4). `shown` names the file in them. */
export function parsePolicy(text: string, shown: string): ParsedPolicy {
  const lines = new LineCounter();
  const problem = (offset: number, message: string): ExperimentError => new ExperimentError([{ file: shown, ...lines.linePos(offset), path: "", message }]);
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, strict: true });
  } catch (err) {
    // The parser recurses: nesting thousands deep exhausts the stack. A policy is never nested.
    throw problem(0, `not valid YAML: ${/call stack/i.test((err as Error).message) ? "nested too deeply" : (err as Error).message}`);
  }
  const problems: Problem[] = [];
  for (const error of [...doc.errors, ...doc.warnings]) {
    const pos = lines.linePos(error.pos[0]);
    problems.push({ file: shown, line: pos.line, col: pos.col, path: "", message: `not valid YAML: ${error.message.split("\n")[0]}` });
  }
  if (problems.length) throw new ExperimentError(problems.map((p) => ({ ...p, message: forTerminal(p.message) })));
  const version = versionDirectiveProblem(doc, text);
  if (version) throw problem(version.offset, version.message);
  const firstAlias = firstAliasOffset(doc);
  const expansion = expansionProblem(doc, MAX_POLICY_BYTES, firstAlias);
  if (expansion) throw problem(expansion.offset, expansion.message);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 50 }) ?? {};
  } catch (err) {
    throw problem(firstAlias ?? 0, /alias/i.test((err as Error).message) ? "the aliases (*name) in this file repeat too much; write the values out instead" : `cannot read it: ${(err as Error).message}`);
  }
  const parsed = PolicyFileSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      for (const report of explainIssue(issue, raw, PolicyFileSchema)) {
        problems.push({ file: shown, ...locate(doc, lines, report.path, report.at), path: formatPath(report.path), message: `${report.message} (in the blast-radius policy)` });
      }
    }
    throw new ExperimentError(problems);
  }
  return {
    limits: parsed.data.policy ?? {},
    source: (key) => `${shown}:${locate(doc, lines, ["policy", key], "key").line}`,
  };
}
