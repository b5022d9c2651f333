// Typed errors: each carries a message written for the person running chaoscast and the exit code
// the CLI should use. The CLI prints `userMessage()`; stacks only appear with --debug.

export const EXIT = {
  passed: 0,
  deviated: 1,
  aborted: 2,
  rollbackFailed: 3,
  invalid: 4,
  skipped: 5,
  /** `budget`: no answer (Prometheus unreachable, no data); neither go nor halt. */
  inconclusive: 6,
  /** Aborted and rolled back, but the steady state did not return within recovery.timeout. */
  unrecovered: 7,
  /** A bug in chaoscast (reported after everything was rolled back). */
  internal: 70,
} as const;

export abstract class ChaoscastError extends Error {
  abstract readonly exitCode: number;
  userMessage(): string {
    return this.message;
  }
}

/** One problem found in an experiment file, pinned to where it is. */
export interface Problem {
  file: string;
  line?: number;
  col?: number;
  /** Path inside the document, e.g. "faults[0].with.signal". Empty for the whole file. */
  path: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  const where = p.line !== undefined ? `${p.file}:${p.line}:${p.col ?? 1}` : p.file;
  const path = p.path ? ` ${p.path}:` : "";
  return `${where}:${path} ${p.message}`;
}

/** The experiment file(s) are invalid. Nothing has been touched. */
export class ExperimentError extends ChaoscastError {
  readonly exitCode = EXIT.invalid;
  constructor(readonly problems: Problem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "ExperimentError";
  }
}

/** The command line is wrong (unknown option, bad --var, missing file). */
export class UsageError extends ChaoscastError {
  readonly exitCode = EXIT.invalid;
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The blast-radius policy forbids what the experiment asks for; nothing was injected. */
export class PolicyError extends ChaoscastError {
  readonly exitCode = EXIT.invalid;
  constructor(message: string) {
    super(message);
    this.name = "PolicyError";
  }
}

/** The environment is not ready for the experiment; nothing was injected. */
export class PreflightError extends ChaoscastError {
  readonly exitCode = EXIT.skipped;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PreflightError";
  }
}

/** An adapter could not do what was asked of a target. Keeps the underlying cause for the journal. */
export class AdapterError extends ChaoscastError {
  readonly exitCode = EXIT.aborted;
  constructor(
    message: string,
    readonly context: { action?: string; target?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "AdapterError";
  }
  override userMessage(): string {
    const cause = this.cause instanceof Error ? `: ${this.cause.message}` : "";
    return `${this.message}${cause && !this.message.includes(cause.slice(2)) ? cause : ""}`;
  }
}

/** A bug in chaoscast itself. */
export class InternalError extends ChaoscastError {
  readonly exitCode = EXIT.internal;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InternalError";
  }
  override userMessage(): string {
    const cause = this.cause instanceof Error ? this.cause : this;
    return [
      `This is a bug in chaoscast: ${this.message}`,
      cause.stack ?? "",
      "Please report it with the command you ran, the experiment file (secrets removed) and the output above.",
    ].join("\n");
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof ChaoscastError) return err.userMessage();
  if (err instanceof Error) return err.message;
  return String(err);
}
