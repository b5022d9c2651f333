// chaoscast's own directory (state files, locks, journals) must be private: `rollback` and the
// watchdog execute what a state file says, so a directory or file another user can write to is
// refused, as ssh refuses keys others could have written, with a message that says how to fix it.

import { lstat, mkdir, realpath, stat } from "node:fs/promises";
import type { Stats } from "node:fs";
import path from "node:path";
import { ChaoscastError, EXIT } from "../errors.js";
import { describeFileType } from "./safe-read.js";

/** The directory (or a file in it) is not safe to use; `remedy` is the command that fixes it. Nothing was touched. */
export class UnsafePathError extends ChaoscastError {
  readonly exitCode = EXIT.invalid;
  constructor(
    readonly where: string,
    readonly problem: string,
    readonly remedy: string,
  ) {
    super(`${where}: ${problem}; ${remedy}`);
    this.name = "UnsafePathError";
  }
}

const euid = (): number | undefined => process.geteuid?.();

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, "0");
}

/** Owned by root or by the user chaoscast runs as: nobody else can change what it holds. */
function ownedByUs(info: Stats): boolean {
  const me = euid();
  return me === undefined || info.uid === me || info.uid === 0;
}

/**
 * Check a directory chaoscast keeps its own files in, and every directory above it: each must be a
 * directory owned by root or by us, and no directory may be writable by group or others, except
 * an ancestor with the sticky bit (like /tmp), where others cannot remove or rename our entries.
 */
export async function checkPrivateDir(dir: string): Promise<void> {
  const real = await realpath(dir);
  const own = await stat(real);
  if (!own.isDirectory()) throw new UnsafePathError(dir, `it is ${describeFileType(own)}, not a directory`, "point CHAOSCAST_DIR at a directory (or unset it)");
  const me = euid();
  if (me !== undefined && own.uid !== me) {
    throw new UnsafePathError(dir, `it belongs to uid ${own.uid}, not to the user running chaoscast (uid ${me}); chaoscast runs the reverts recorded there, so it uses only a directory of its own user`, `use your own (unset CHAOSCAST_DIR), or fix it with: chown ${me} ${shellQuote(real)}`);
  }
  if ((own.mode & 0o022) !== 0) {
    throw new UnsafePathError(dir, `it is writable by ${(own.mode & 0o002) !== 0 ? "every user" : "its group"} (mode ${octal(own.mode)}); chaoscast runs the reverts recorded there, so no one else may write to it`, `fix it with: chmod 700 ${shellQuote(real)}`);
  }
  for (let parent = path.dirname(real); ; parent = path.dirname(parent)) {
    const info = await stat(parent);
    const sticky = (info.mode & 0o1000) !== 0;
    if (!ownedByUs(info)) {
      throw new UnsafePathError(dir, `the directory above it, ${parent}, belongs to uid ${info.uid}, who could replace chaoscast's directory`, `keep chaoscast's directory under one owned by you or root (unset CHAOSCAST_DIR for the default under your home)`);
    }
    if ((info.mode & 0o022) !== 0 && !sticky) {
      throw new UnsafePathError(dir, `the directory above it, ${parent}, is writable by other users (mode ${octal(info.mode)}) without the sticky bit, so they could replace chaoscast's directory`, `fix it with: chmod go-w ${shellQuote(parent)} (or chmod +t)`);
    }
    if (path.dirname(parent) === parent) break;
  }
}

/** Create `dir` (0700, parents as needed) if it is missing, then check it as checkPrivateDir does. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST" || code === "ENOTDIR") {
      const blocking = await firstNonDirectory(dir);
      const what = !blocking ? "a part of the path is not a directory" : blocking.path === path.resolve(dir) ? `it is ${blocking.kind}` : `${blocking.path} is ${blocking.kind}`;
      throw new UnsafePathError(dir, `${what}, so the directory cannot be made`, "point CHAOSCAST_DIR elsewhere, or move that file away");
    }
    if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
      throw new UnsafePathError(dir, `it cannot be created (${code === "EROFS" ? "read-only file system" : "permission denied"})`, "set CHAOSCAST_DIR to a directory you can write to");
    }
    throw err;
  }
  await checkPrivateDir(dir);
}

/**
 * Check a file in a private directory before trusting what it says: a regular file (not a link),
 * owned by us, writable by no one else.
 */
export async function checkPrivateFile(file: string): Promise<string | undefined> {
  let info: Stats;
  try {
    info = await lstat(file);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT" ? undefined : `cannot check it (${(err as NodeJS.ErrnoException).code})`;
  }
  if (!info.isFile()) return `it is ${describeFileType(info)}, not a file chaoscast wrote; remove it (rm ${shellQuote(file)})`;
  const me = euid();
  if (me !== undefined && info.uid !== me) return `it belongs to uid ${info.uid}, not to you (uid ${me}): chaoscast will not run what another user's file says; check it, then take it over with: chown ${me} ${shellQuote(file)}`;
  if ((info.mode & 0o022) !== 0) return `it is writable by other users (mode ${octal(info.mode)}): chaoscast will not run what someone else could have written; check it, then: chmod 600 ${shellQuote(file)}`;
  return undefined;
}

async function firstNonDirectory(dir: string): Promise<{ path: string; kind: string } | undefined> {
  const parts = path.resolve(dir).split(path.sep);
  for (let i = 2; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join(path.sep) || path.sep;
    const info = await stat(prefix).catch(() => undefined);
    if (info === undefined) return undefined;
    if (!info.isDirectory()) return { path: prefix, kind: info.isFile() ? "a regular file" : describeFileType(info) };
  }
  return undefined;
}

/** A path as it can be pasted into a shell, for remedies. */
export function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
