// Pieces every command needs: the registry, loading experiments from paths with --var flags, and
// whether this is an interactive terminal.

import { homedir } from "node:os";
import path from "node:path";
import { UsageError } from "../errors.js";
import { expandPaths, loadAll } from "../experiment/loader.js";
import type { CompiledExperiment } from "../contract/compiled-experiment.js";
import type { BudgetCheck } from "../engine/preflight.js";
import { parseVarFlag } from "../experiment/vars.js";
import { registry } from "../registry.js";
import { didYouMean } from "../util/did-you-mean.js";
import { ensurePrivateDir } from "../util/private-dir.js";

export interface CommonOptions {
  color?: boolean;
  debug?: boolean;
  var?: string[];
  output?: string;
  seed?: string;
}

export { registry };

export function parseVarFlags(flags: string[] = []): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const flag of flags) {
    try {
      const [name, value] = parseVarFlag(flag);
      vars[name] = value;
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  return vars;
}

export async function loadExperiments(paths: string[], options: CommonOptions): Promise<CompiledExperiment[]> {
  const files = await expandPaths(paths);
  const cli = parseVarFlags(options.var);
  const experiments = await loadAll(files, { registry, vars: { cli, env: process.env } });
  checkVarFlagsUsed(cli, experiments);
  // The SLO file a budget gate names is input like the experiment: invalid is exit 4, before anything runs.
  const withBudget = experiments.filter((e) => e.budget);
  if (withBudget.length > 0) {
    const { sloOfExperiment } = await import("../slo/gate.js");
    for (const experiment of withBudget) await sloOfExperiment(experiment);
  }
  return experiments;
}

/** The error-budget gate of engine/preflight, loaded only when an experiment has one. */
export const budgetCheck: BudgetCheck = async (experiment, signal) => (await import("../slo/gate.js")).budgetGateCheck(experiment, signal);

/** A --var that no experiment declares or uses is almost always a typo: say so rather than ignore it. */
export function checkVarFlagsUsed(cli: Record<string, string>, experiments: CompiledExperiment[]): void {
  const known = [...new Set(experiments.flatMap((e) => e.variables))];
  for (const name of Object.keys(cli)) {
    if (!known.includes(name)) {
      const list = known.length ? `; variables: ${known.join(", ")}` : "; the experiment uses no variables";
      throw new UsageError(`--var ${name}=…: no experiment declares or uses a variable "${name}"${didYouMean(name, known)}${list}`);
    }
  }
}

/** Spinners, live status lines and prompts only for a person at a terminal, never in CI. */
export function isInteractive(): boolean {
  // A pty without a size (columns 0) is not a terminal a person reads, and spinners cannot draw there.
  const wide = (process.stderr.columns ?? 0) >= 20 && (process.stdout.columns ?? 0) >= 20;
  return Boolean(process.stdout.isTTY && process.stderr.isTTY && wide && !process.env.CI);
}

export function canPrompt(): boolean {
  return isInteractive() && Boolean(process.stdin.isTTY);
}

/**
 * chaoscast's own directory (state files, locks, journals): CHAOSCAST_DIR, or the user's XDG state
 * directory ($XDG_STATE_HOME/chaoscast, by default ~/.local/state/chaoscast). Never the working
 * directory: a `chaoscast rollback` from cron, CI or another shell must find what a run left.
 */
export function chaoscastDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CHAOSCAST_DIR) return path.resolve(env.CHAOSCAST_DIR);
  // The XDG spec says a relative XDG_STATE_HOME is invalid and must be ignored.
  const base = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(homedir(), ".local", "state");
  return path.join(base, "chaoscast");
}

/** The file `chaoscast halt` writes: while it exists, no run starts and every running one aborts. */
export function haltFile(): string {
  return path.join(chaoscastDir(), "halt");
}

export function stateDir(): string {
  return path.join(chaoscastDir(), "state");
}

export function locksDir(): string {
  return path.join(chaoscastDir(), "locks");
}

export function runsDir(): string {
  return path.join(chaoscastDir(), "runs");
}

/** Create (0700) and check chaoscast's directory and the sub-directories a command uses. */
export async function preparePrivateDirs(...dirs: string[]): Promise<void> {
  await ensurePrivateDir(chaoscastDir());
  for (const dir of dirs) await ensurePrivateDir(dir);
}

export function defaultSeed(): string {
  return Math.random().toString(36).slice(2, 10);
}
