// The run's write-ahead state file, state/<run-id>.json in chaoscast's state directory: what the
// run has injected and how to undo each fault, written (fsync + atomic rename) before each
// injection and after each revert, so `chaoscast rollback` can finish the job of a run that died.

import { readdir, unlink, mkdir } from "node:fs/promises";
import path from "node:path";
import { RunIdSchema } from "../contract/common-schemas.js";
import { z } from "zod";
import { writeFileAtomic } from "../util/atomic-file.js";
import type { ProcessOwner } from "../util/process-owner.js";
import { checkPrivateFile } from "../util/private-dir.js";
import { jsonNestsDeeperThan } from "../util/json-depth.js";
import { FileReadError, readRegularText } from "../util/safe-read.js";

export const STATE_VERSION = 1;

const TargetRefSchema = z.object({ id: z.string(), label: z.string() });

export const StateFaultSchema = z.object({
  seq: z.int(),
  fault: z.string(),
  action: z.string(),
  target: TargetRefSchema.nullable(),
  revert: z
    .object({
      kind: z.string(),
      data: z.record(z.string(), z.unknown()),
      description: z.string(),
      diesWithRun: z.boolean().optional(),
      /** Environment variables whose values `data` refers to as ${env:NAME} (secrets are never written). */
      secrets: z.array(z.object({ name: z.string(), salt: z.string(), fingerprint: z.string() })).optional(),
    })
    .nullable(),
  /** injecting: written before apply, so the fault may or may not be in effect; both are undone. */
  state: z.enum(["injecting", "injected", "reverted", "revert-failed"]),
});
export type StateFault = z.output<typeof StateFaultSchema>;

/** Run ids name files (state, journal, lock): nothing that could climb out of a directory. */

export const RunStateSchema = z.object({
  version: z.literal(STATE_VERSION),
  runId: RunIdSchema,
  /** The process responsible for the run now: the run itself, or a `chaoscast rollback` that took it over. */
  owner: z.object({ pid: z.int(), startTime: z.string().nullable(), host: z.string() }),
  /** The process that ran the experiment, kept when a rollback takes the run over. */
  runOwner: z.object({ pid: z.int(), startTime: z.string().nullable(), host: z.string() }).optional(),
  experiment: z.object({ file: z.string(), title: z.string() }),
  startedAt: z.string(),
  updatedAt: z.string(),
  /** running: the owner is (or was, if it died) in the middle of the run; finished: it ended with faults left. */
  status: z.enum(["running", "finished"]),
  faults: z.array(StateFaultSchema),
  /** Set when the run's watchdog took the run over (the run died or froze): who, when and why. */
  watchdog: z.object({ pid: z.int(), at: z.string(), reason: z.string().max(1000) }).optional(),
});
export type RunState = z.output<typeof RunStateSchema>;

export function stateFileOf(dir: string, runId: string): string {
  return path.join(dir, `${runId}.json`);
}

/** One run's state file, rewritten whole on every change. Writes are serialised. */
export class StateFile {
  private chain: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    private readonly state: RunState,
  ) {}

  static async create(dir: string, runId: string, owner: ProcessOwner, experiment: { file: string; title: string }): Promise<StateFile> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const now = new Date().toISOString();
    const sf = new StateFile(stateFileOf(dir, runId), { version: STATE_VERSION, runId, owner, experiment, startedAt: now, updatedAt: now, status: "running", faults: [] });
    await sf.flush();
    return sf;
  }

  /** Adopt an existing state (from `chaoscast rollback`) to record its progress. */
  static adopt(file: string, state: RunState): StateFile {
    return new StateFile(file, structuredClone(state));
  }

  get current(): Readonly<RunState> {
    return this.state;
  }

  /** Add or replace a fault record and make it durable before returning. */
  async put(fault: StateFault): Promise<void> {
    const index = this.state.faults.findIndex((f) => f.seq === fault.seq);
    if (index >= 0) this.state.faults[index] = fault;
    else this.state.faults.push(fault);
    await this.flush();
  }

  async setOwner(owner: ProcessOwner): Promise<void> {
    this.state.runOwner ??= this.state.owner;
    this.state.owner = owner;
    await this.flush();
  }

  async recordWatchdog(reason: string): Promise<void> {
    this.state.watchdog = { pid: process.pid, at: new Date().toISOString(), reason };
    await this.flush();
  }

  /** The run is over: remove the file when nothing is left injected, else keep it for `rollback`. */
  async close(): Promise<"removed" | "kept"> {
    await this.chain;
    if (this.state.faults.every((f) => f.state === "reverted")) {
      await unlink(this.file).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "ENOENT") throw err;
      });
      return "removed";
    }
    this.state.status = "finished";
    await this.flush();
    return "kept";
  }

  private flush(): Promise<void> {
    this.state.updatedAt = new Date().toISOString();
    const content = `${JSON.stringify(this.state, null, 2)}\n`;
    const write = this.chain.then(() => writeFileAtomic(this.file, content));
    this.chain = write.catch(() => {});
    return write;
  }
}

export type StateListing = { file: string; state: RunState } | { file: string; problem: string };

/** Every state file in `dir`, each read and checked; unreadable ones are reported, not skipped. */
export async function listStates(dir: string): Promise<StateListing[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith(".json") && !n.startsWith(".")).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return Promise.all(names.map((name) => readState(path.join(dir, name))));
}

/** Larger than any run writes (a record per fault); a bigger file is not one chaoscast wrote. */
const MAX_STATE_BYTES = 4 * 1024 * 1024;
const MAX_STATE_DEPTH = 64;

/**
 * Read one state file as untrusted input: `rollback` and the watchdog execute what it says, so it
 * must be a regular file (not a link) that no other user owns or can write, of a bounded size.
 */
export async function readState(file: string): Promise<StateListing> {
  const unsafe = await checkPrivateFile(file);
  if (unsafe) return { file, problem: `refused: ${unsafe}` };
  let text: string;
  try {
    text = await readRegularText(file, { maxBytes: MAX_STATE_BYTES, kind: "state files", noFollow: true });
  } catch (err) {
    return { file, problem: `cannot read it: ${err instanceof FileReadError ? err.reason : ((err as NodeJS.ErrnoException).code ?? (err as Error).message)}` };
  }
  // Far deeper than any record a run writes, and shallow enough for every recursive walk of it.
  if (jsonNestsDeeperThan(text, MAX_STATE_DEPTH)) return { file, problem: `it nests more than ${MAX_STATE_DEPTH} levels deep, which no chaoscast state file does` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { file, problem: `it is not valid JSON (${(err as Error).message})` };
  }
  const parsed = RunStateSchema.safeParse(json);
  if (!parsed.success) return { file, problem: `it is not a chaoscast state file of version ${STATE_VERSION}: ${parsed.error.issues[0]?.message ?? "unknown shape"} at ${parsed.error.issues[0]?.path.join(".")}` };
  if (path.basename(file) !== `${parsed.data.runId}.json`) return { file, problem: `it names run ${parsed.data.runId}, which is not its file name; it was not written by chaoscast` };
  return { file, state: parsed.data };
}
