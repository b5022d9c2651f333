// One run per lock scope: a lock file created exclusively (O_EXCL) in locks/ of chaoscast's state
// directory (CHAOSCAST_DIR, or ~/.local/state/chaoscast). A lock whose owner has died is stale and
// taken over with a warning; a live one makes the run wait (--wait-lock) or skip.

import { createHash } from "node:crypto";
import { mkdir, open, readdir, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { PreflightError } from "../errors.js";
import { formatDuration } from "../contract/duration.js";
import { sleep } from "../util/abortable.js";
import { currentOwner, ownerLiveness, type ProcessOwner } from "../util/process-owner.js";
import { syncDirectory } from "../util/atomic-file.js";
import { jsonNestsDeeperThan } from "../util/json-depth.js";
import { FileReadError, readRegularText } from "../util/safe-read.js";

export interface LockHolder {
  scope: string;
  runId: string;
  experiment: string;
  owner: ProcessOwner;
  acquiredAt: string;
}

export interface LockRequest {
  dir: string;
  scope: string;
  runId: string;
  experiment: string;
  /** How long to wait for a held lock; 0 gives up at once. */
  waitMs: number;
  signal: AbortSignal;
  /** Told about a stale lock taken over, and about waiting. */
  onNote: (message: string) => void;
}

/** A file written by a process that died between creating and filling it is stale after this. */
const UNREADABLE_GRACE_MS = 5_000;
const POLL_MS = 250;

export function lockFileOf(dir: string, scope: string): string {
  const slug = scope.replace(/^.*[/\\]/, "").replace(/[^A-Za-z0-9._-]+/g, "-").slice(0, 40);
  return path.join(dir, `${slug}-${createHash("sha256").update(scope).digest("hex").slice(0, 12)}.lock`);
}

export class RunLock {
  private released = false;

  private constructor(readonly file: string) {}

  static async acquire(request: LockRequest): Promise<RunLock> {
    await mkdir(request.dir, { recursive: true, mode: 0o700 });
    const file = lockFileOf(request.dir, request.scope);
    const holder: LockHolder = { scope: request.scope, runId: request.runId, experiment: request.experiment, owner: await currentOwner(), acquiredAt: new Date().toISOString() };
    const deadline = performance.now() + request.waitMs;
    let announced = false;
    const started = performance.now();
    for (;;) {
      if (request.signal.aborted) throw new PreflightError(`interrupted while waiting for the lock on ${request.scope}`);
      if (await tryCreate(file, holder)) return new RunLock(file);
      const current = await readHolder(file);
      if (current === "gone") continue;
      if (current === "unreadable" || (await ownerLiveness(current.owner)) === "dead") {
        if (current === "unreadable" && (await ageMs(file)) < UNREADABLE_GRACE_MS) {
          // Probably being written right now by the process that created it.
        } else {
          await takeOverStale(file, current, request);
          continue;
        }
      }
      const held = current === "unreadable" ? "another run" : `run ${current.runId} (pid ${current.owner.pid} on ${current.owner.host}, since ${current.acquiredAt})`;
      if (performance.now() >= deadline || request.signal.aborted) {
        const waited = request.waitMs > 0 ? ` after waiting ${formatDuration(performance.now() - started)}` : "";
        throw new PreflightError(`the lock for ${request.scope} is held by ${held}${waited}; only one run per lock scope. Wait for it with --wait-lock <duration>, or share or split scopes with lock: in the experiment.`);
      }
      if (!announced) {
        request.onNote(`waiting up to ${formatDuration(request.waitMs)} for the lock on ${request.scope}, held by ${held}`);
        announced = true;
      }
      await sleep(Math.min(POLL_MS, deadline - performance.now()), request.signal);
    }
  }

  /** Idempotent. Removes the lock file only while it is still ours. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const current = await readHolder(this.file);
    if (current !== "gone" && current !== "unreadable" && current.owner.pid === process.pid) {
      await unlink(this.file).catch(() => {});
      await syncDirectory(path.dirname(this.file));
    }
  }
}

/** Who holds the lock for `scope` now (a live owner), for `plan`; undefined when a run could take it. Takes nothing. */
export async function lockHolderOf(dir: string, scope: string): Promise<string | undefined> {
  const current = await readHolder(lockFileOf(dir, scope));
  if (current === "gone") return undefined;
  if (current === "unreadable") return (await ageMs(lockFileOf(dir, scope))) < UNREADABLE_GRACE_MS ? "another run" : undefined;
  if ((await ownerLiveness(current.owner)) === "dead") return undefined;
  return `run ${current.runId} (pid ${current.owner.pid} on ${current.owner.host}, since ${current.acquiredAt})`;
}

/**
 * The lock a rollback of one run holds while it reverts: `chaoscast rollback` and the run's watchdog
 * may both come for a dead run, and two of them at once would run every revert twice.
 */
const ROLLBACK_SCOPE = "rollback of ";

export function acquireRollbackLock(dir: string, run: { runId: string; experimentFile: string }, waitMs = 60_000): Promise<RunLock> {
  return RunLock.acquire({
    dir,
    scope: `${ROLLBACK_SCOPE}${run.runId}`,
    runId: `rollback-${process.pid}`,
    experiment: run.experimentFile,
    waitMs,
    signal: new AbortController().signal,
    onNote: () => {},
  });
}

/**
 * Remove a stale lock, so that of several runs finding it at once exactly one removes it: the
 * removal itself is guarded by an exclusive `.takeover` file, and the lock is re-read under that
 * guard, so a fresh lock another run has just created is never removed.
 */
async function takeOverStale(file: string, stale: LockHolder | "unreadable", request: LockRequest): Promise<void> {
  const guard = `${file}.takeover`;
  const mine = { pid: process.pid, at: new Date().toISOString() };
  if (!(await tryCreate(guard, mine))) {
    // Someone else is taking it over; a guard left by a process that died meanwhile goes after a while.
    if ((await ageMs(guard)) > UNREADABLE_GRACE_MS) await unlink(guard).catch(() => {});
    await sleep(20, request.signal);
    return;
  }
  try {
    const now = await readHolder(file);
    if (JSON.stringify(now) !== JSON.stringify(stale)) return;
    const who = stale === "unreadable" ? "an unreadable lock file" : `run ${stale.runId} (pid ${stale.owner.pid}, since ${stale.acquiredAt})`;
    try {
      await unlink(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw new PreflightError(`cannot take over the stale lock ${file} (held by ${who}, which is no longer running): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; remove it by hand`);
    }
    request.onNote(`taking over a stale lock for ${request.scope}: it was held by ${who}, which is no longer running`);
  } finally {
    await unlink(guard).catch(() => {});
  }
}

async function tryCreate(file: string, holder: object): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, "wx", 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
  try {
    await handle.writeFile(`${JSON.stringify(holder, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await syncDirectory(path.dirname(file));
  return true;
}

async function readHolder(file: string): Promise<LockHolder | "gone" | "unreadable"> {
  try {
    // Bounded and typed: a FIFO or a huge file planted as a lock must not hang or flood the run.
    const text = await readRegularText(file, { maxBytes: 64 * 1024, kind: "lock files", noFollow: true });
    if (jsonNestsDeeperThan(text, 16)) return "unreadable";
    const holder = JSON.parse(text) as LockHolder;
    const complete = typeof holder?.owner?.pid === "number" && typeof holder.owner.host === "string" && typeof holder.runId === "string";
    return complete ? holder : "unreadable";
  } catch (err) {
    return err instanceof FileReadError && err.code === "ENOENT" ? "gone" : "unreadable";
  }
}

/**
 * Remove the locks of runs that are no longer running on this host (and takeover guards left by a
 * process that died mid-takeover), so a killed run's lock does not linger until its experiment
 * runs again. Returns what was removed. Live holders, other hosts' locks and files that cannot be
 * read yet (being written) are left alone.
 */
export async function sweepStaleLocks(dir: string): Promise<LockHolder[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: LockHolder[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    if (name.endsWith(".lock.takeover")) {
      if ((await ageMs(file)) > UNREADABLE_GRACE_MS) await unlink(file).catch(() => {});
      continue;
    }
    if (!name.endsWith(".lock")) continue;
    const holder = await readHolder(file);
    if (holder === "gone" || holder === "unreadable") continue;
    if ((await ownerLiveness(holder.owner)) !== "dead") continue;
    const guard = `${file}.takeover`;
    if (!(await tryCreate(guard, { pid: process.pid, at: new Date().toISOString() }))) continue;
    try {
      // Re-read under the guard: a run may have taken the stale lock over since.
      if (JSON.stringify(await readHolder(file)) === JSON.stringify(holder)) {
        await unlink(file).catch(() => {});
        removed.push(holder);
      }
    } finally {
      await unlink(guard).catch(() => {});
    }
  }
  if (removed.length > 0) await syncDirectory(dir);
  return removed;
}

async function ageMs(file: string): Promise<number> {
  try {
    return Date.now() - (await stat(file)).mtimeMs;
  } catch {
    return Infinity;
  }
}

/**
 * The holders of this directory's run locks whose runs are alive on this host (`chaoscast halt`
 * stops them too). A rollback's or a watchdog's lock is never among them: stopping one mid-revert
 * would leave a fault half undone.
 */
export async function liveLockHolders(dir: string): Promise<LockHolder[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const live: LockHolder[] = [];
  for (const name of names.filter((n) => n.endsWith(".lock"))) {
    const holder = await readHolder(path.join(dir, name));
    if (holder === "gone" || holder === "unreadable" || holder.scope.startsWith(ROLLBACK_SCOPE)) continue;
    if ((await ownerLiveness(holder.owner)) === "alive") live.push(holder);
  }
  return live;
}
