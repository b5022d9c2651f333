// Reading a file chaoscast was pointed at (an experiment, a policy, a state or lock file, a proxy
// config): only a regular file, never more than a stated size, and never opened when it is
// something else, since opening a FIFO waits for a writer forever and a device can stream without end.

import { constants } from "node:fs";
import { open, stat } from "node:fs/promises";
import type { Stats } from "node:fs";

/** Why a file could not be read, said for the person who named it (without the file's name). */
export class FileReadError extends Error {
  constructor(
    readonly reason: string,
    readonly code?: string,
  ) {
    super(reason);
    this.name = "FileReadError";
  }
}

export interface ReadLimits {
  /** Refuse anything larger; say it with this unit name in the message ("policy files are …"). */
  maxBytes: number;
  /** What the file is, for the size message: "experiment files", "policy files", "state files". */
  kind: string;
  /** Refuse a symbolic link instead of following it (state files: only chaoscast writes them). */
  noFollow?: boolean;
}

/** What a non-regular file is, in words. */
export function describeFileType(info: Stats): string {
  if (info.isDirectory()) return "a directory";
  if (info.isFIFO()) return "a FIFO (named pipe)";
  if (info.isCharacterDevice()) return "a character device";
  if (info.isBlockDevice()) return "a block device";
  if (info.isSocket()) return "a socket";
  if (info.isSymbolicLink()) return "a symbolic link";
  if (info.isFile()) return "a regular file";
  return "not a regular file";
}

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : bytes >= 1024 && bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

/** Why a file system call on a path failed, in words (for reads, and for a directory chaoscast makes to write in); undefined for a code without words here. */
export function fsErrorReason(err: NodeJS.ErrnoException): string | undefined {
  switch (err.code) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ENOTDIR":
    case "EEXIST": // from mkdir -p: a file stands where a directory of the path should be
      return "a part of the path is not a directory";
    case "ELOOP":
      return "it is a symbolic link (or a loop of them); name the file itself";
    case "ENAMETOOLONG":
      return "the path is too long";
    case "EROFS":
      return "read-only file system";
    default:
      return undefined;
  }
}

function openProblem(err: NodeJS.ErrnoException): FileReadError {
  return new FileReadError(fsErrorReason(err) ?? `cannot read it (${err.code ?? err.message})`, err.code);
}

/**
 * The bytes of a regular file of at most `maxBytes`. The type is checked before opening (so a FIFO
 * or device is never opened) and again on the open handle (so a file swapped in between is caught).
 */
export async function readRegularFile(file: string, limits: ReadLimits): Promise<Buffer> {
  let before: Stats;
  try {
    before = await stat(file);
  } catch (err) {
    throw openProblem(err as NodeJS.ErrnoException);
  }
  if (!before.isFile()) throw new FileReadError(`it is ${describeFileType(before)}; ${limits.kind} must be regular files`, "ENOTREG");
  if (before.size > limits.maxBytes) throw tooBig(before.size, limits);
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | (limits.noFollow ? constants.O_NOFOLLOW : 0));
  } catch (err) {
    throw openProblem(err as NodeJS.ErrnoException);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile() || info.ino !== before.ino || info.dev !== before.dev) {
      throw new FileReadError(info.isFile() ? "it was replaced while being read; try again" : `it is ${describeFileType(info)}; ${limits.kind} must be regular files`, "ENOTREG");
    }
    // Read one byte more than allowed: files in /proc and /sys report a size of 0 and grow as read.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, limits.maxBytes + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) return Buffer.concat(chunks, total);
      total += bytesRead;
      if (total > limits.maxBytes) throw tooBig(undefined, limits);
      chunks.push(chunk.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
}

function tooBig(size: number | undefined, limits: ReadLimits): FileReadError {
  const found = size === undefined ? `more than ${sizeText(limits.maxBytes)}` : `${size} bytes`;
  return new FileReadError(`it holds ${found}; ${limits.kind} are at most ${sizeText(limits.maxBytes)}`, "EFBIG");
}

/** readRegularFile, decoded as strict UTF-8 (a file that is not text is refused, not garbled). */
export async function readRegularText(file: string, limits: ReadLimits): Promise<string> {
  const bytes = await readRegularFile(file, limits);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new FileReadError("it is not UTF-8 text (a binary file?)", "EILSEQ");
  }
}
