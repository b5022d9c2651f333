// Finding and reading the blast-radius policy: every .chaoscast.yaml from the working directory up
// to the root (a repository's, a team's), ~/.chaoscast.yaml (the operator's), and CHAOSCAST_POLICY
// (a file named explicitly, e.g. by a CI job). Every one found applies; the strictest limit wins,
// so a file placed deeper can add limits but never lift one.

import { existsSync, realpathSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { displayPath } from "../util/display-path.js";
import { LineCounter, parseDocument } from "yaml";
import { ExperimentError, UsageError, type Problem } from "../errors.js";
import { locate } from "../experiment/positions.js";
import { explainIssue } from "../experiment/zod-issues.js";
import { formatPath } from "../experiment/loader.js";
import { mergePolicies, PolicyFileSchema, type Policy, type PolicyKey, type PolicyLimits } from "./policy.js";

export const POLICY_FILE = ".chaoscast.yaml";

export interface LoadedPolicy {
  policy: Policy;
  files: string[];
}

export function findPolicyFiles(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env, home = homedir()): string[] {
  const found: string[] = [];
  if (env.CHAOSCAST_POLICY) {
    if (!existsSync(env.CHAOSCAST_POLICY)) throw new UsageError(`CHAOSCAST_POLICY=${env.CHAOSCAST_POLICY}: no such file`);
    if (!statSync(env.CHAOSCAST_POLICY).isFile()) throw new UsageError(`CHAOSCAST_POLICY=${env.CHAOSCAST_POLICY}: not a file; name a .chaoscast.yaml`);
    found.push(env.CHAOSCAST_POLICY);
  }
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, POLICY_FILE);
    if (existsSync(candidate) && statSync(candidate).isFile()) found.push(candidate);
    if (path.dirname(dir) === dir) break;
  }
  const personal = path.join(home, POLICY_FILE);
  if (existsSync(personal)) found.push(personal);
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

async function readPolicyFile(file: string): Promise<ParsedPolicy> {
  const shown = displayPath(file);
  return parsePolicy(await readFile(file, "utf8"), shown);
}

export interface ParsedPolicy {
  limits: PolicyLimits;
  /** "file:line" where a limit is set, for messages. */
  source: (key: PolicyKey) => string;
}

/** Check a policy file's text; problems are thrown with file:line:col (exit 4). `shown` names the file in them. */
export function parsePolicy(text: string, shown: string): ParsedPolicy {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, strict: true });
  const problems: Problem[] = [];
  for (const error of [...doc.errors, ...doc.warnings]) {
    const pos = lines.linePos(error.pos[0]);
    problems.push({ file: shown, line: pos.line, col: pos.col, path: "", message: `not valid YAML: ${error.message.split("\n")[0]}` });
  }
  if (problems.length) throw new ExperimentError(problems);
  const raw = doc.toJS({ maxAliasCount: 50 }) ?? {};
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
