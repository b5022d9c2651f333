// The `command` adapter: run a program (argument array, never a shell) as a fault with an optional
// undo command, or as a probe that observes its exit code and output.

import path from "node:path";
import { z } from "zod";
import { AdapterError } from "../../errors.js";
import { defineAction, defineProbe, defineRevert, revertWith, type Adapter, type RunContext } from "../../contract/adapter.js";
import { ArgvSchema, DurationSchema, RecordedMsSchema } from "../../contract/common-schemas.js";
import { abortMessage } from "../../util/abortable.js";

const CommonShape = {
  cwd: z.string().optional().meta({ description: "Working directory; chaoscast's own when not given." }),
  env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}).meta({ description: "Extra environment variables (numbers and booleans are passed as text)." }),
};

interface Outcome {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  durationMs: number;
  failure?: string;
}

async function runArgv(argv: string[], options: { cwd?: string | undefined; env: Record<string, string>; timeoutMs: number; signal: AbortSignal }): Promise<Outcome> {
  const { execa } = await import("execa");
  const started = performance.now();
  const result = await execa(argv[0]!, argv.slice(1), {
    cwd: options.cwd,
    env: options.env,
    timeout: options.timeoutMs,
    cancelSignal: options.signal,
    reject: false,
    stdin: "ignore",
    maxBuffer: 1024 * 1024,
    forceKillAfterDelay: 1000,
  });
  const durationMs = Math.round(performance.now() - started);
  const failure = result.timedOut
    ? `timed out after ${options.timeoutMs}ms`
    : result.isCanceled
      ? abortMessage(options.signal, options.timeoutMs)
      : result.failed && result.exitCode === undefined
        ? (result as { code?: string }).code === "ENOENT"
          ? `program "${argv[0]}" was not found (is it installed and on PATH?)`
          : result.shortMessage
        : undefined;
  return { exitCode: result.exitCode, stdout: String(result.stdout ?? ""), stderr: String(result.stderr ?? ""), durationMs, ...(failure ? { failure } : {}) };
}

function tail(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > 300 ? `…${trimmed.slice(-300)}` : trimmed;
}

export const commandProbe = defineProbe({
  name: "command",
  description: "Run a program; observe its exit code, output and duration.",
  params: z
    .object({ command: ArgvSchema, ...CommonShape, timeout: DurationSchema.prefault("10s").meta({ description: "Kill it after this long (SIGTERM, then SIGKILL 1 s later)." }) })
    .strict(),
  example: { command: ["curl", "-sf", "http://127.0.0.1:8080/health"], timeout: "5s" },
  primaryField: "exitCode",
  fields: { exitCode: "exit status", stdout: "standard output", stderr: "standard error", durationMs: "run time, ms" },
  defaultExpect: { exitCode: 0 },
  timeoutOf: (params) => params.timeout,
  async run(params, ctx) {
    const outcome = await runArgv(params.command, { ...params, timeoutMs: Math.min(params.timeout, ctx.timeoutMs), signal: ctx.signal });
    if (outcome.failure) return { fields: { durationMs: outcome.durationMs }, error: outcome.failure, summary: outcome.failure };
    return {
      fields: { exitCode: outcome.exitCode, stdout: outcome.stdout, stderr: outcome.stderr, durationMs: outcome.durationMs },
      summary: `exit ${outcome.exitCode} in ${outcome.durationMs}ms`,
    };
  },
});

/** Run argv; throw an AdapterError unless it exits 0. */
async function runExpectingSuccess(argv: string[], options: { cwd?: string | undefined; env: Record<string, string>; timeout: number }, what: string, signal: AbortSignal): Promise<void> {
  const outcome = await runArgv(argv, { cwd: options.cwd, env: options.env, timeoutMs: options.timeout, signal });
  if (outcome.failure || outcome.exitCode !== 0) {
    const why = outcome.failure ?? `exited with ${outcome.exitCode}`;
    const stderr = tail(outcome.stderr);
    throw new AdapterError(`${what}: ${argv[0]} ${why}${stderr ? `: ${stderr}` : ""}`, { action: "command.run" });
  }
}

// The undo command exiting 0 is its only check: what a program changes is not observable in general.
const commandRevert = defineRevert({
  kind: "command.run",
  // Held to the action's own rules (an argument array, an absolute directory, a timer in range): the data may come back from a state file.
  data: z.object({ command: ArgvSchema, cwd: z.string().refine((dir) => path.isAbsolute(dir), { error: "expected an absolute directory" }), env: z.record(z.string(), z.string()), timeout: RecordedMsSchema.min(1) }),
  describe: (data) => `run ${data.command.join(" ")}`,
  run: (data, ctx) => runExpectingSuccess(data.command, data, "revert", ctx.signal),
});

export const commandRun = defineAction({
  name: "command.run",
  description: "Run a program as the fault (argument array, never a shell); optionally run another to undo it.",
  target: null,
  reversible: "when-configured",
  revertConfigured: (params) => params.revert !== undefined,
  params: z
    .object({
      command: ArgvSchema,
      revert: ArgvSchema.optional().meta({ description: "A program that undoes the fault, run on rollback." }),
      ...CommonShape,
      timeout: DurationSchema.prefault("30s").meta({ description: "Kill it after this long (SIGTERM, then SIGKILL 1 s later)." }),
    })
    .strict(),
  example: { command: ["systemctl", "stop", "recommendations"], revert: ["systemctl", "start", "recommendations"] },
  async prepare(params) {
    const apply = (ctx: RunContext) => runExpectingSuccess(params.command, params, "command.run", ctx.signal);
    if (!params.revert) return { revert: null, apply };
    // The undo may run later from another directory (`chaoscast rollback`): pin the directory now.
    const undo = { command: params.revert, cwd: path.resolve(params.cwd ?? "."), env: params.env, timeout: params.timeout };
    return { apply, revert: revertWith(commandRevert, undo) };
  },
});

export const commandAdapter: Adapter = {
  kind: "command",
  description: "Programs run with an argument array: the command probe and the command.run action.",
  actions: [commandRun],
  probes: [commandProbe],
  reverts: [commandRevert],
};
