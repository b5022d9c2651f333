// Pieces every command needs: the registry, loading experiments from paths with --var flags, and
// whether this is an interactive terminal.

import path from "node:path";
import { UsageError } from "../errors.js";
import { expandPaths, loadAll } from "../experiment/loader.js";
import type { CompiledExperiment } from "../experiment/types.js";
import { parseVarFlag } from "../experiment/vars.js";
import { registry } from "../registry.js";
import { didYouMean } from "../util/did-you-mean.js";

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
  return experiments;
}

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

/** chaoscast's working directory (journals, state, locks): .chaoscast, or CHAOSCAST_DIR. */
export function chaoscastDir(): string {
  return process.env.CHAOSCAST_DIR || ".chaoscast";
}

export function stateDir(): string {
  return path.join(chaoscastDir(), "state");
}

export function defaultSeed(): string {
  return Math.random().toString(36).slice(2, 10);
}
