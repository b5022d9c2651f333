// Writing a file so that a crash at any instant leaves either the old content or the new, never a
// torn mix, and so that no one who can write to the directory can redirect the write: the content
// goes to a temporary sibling created exclusively under a random name (a planted file or symbolic
// link there makes the create fail instead of being written through), is fsync'd, and is renamed
// over the target, which must be a regular file or absent; then the directory is fsync'd.

import { randomBytes } from "node:crypto";
import { lstat, open, rename, unlink } from "node:fs/promises";
import path from "node:path";
import { ChaoscastError, EXIT } from "../errors.js";
import { describeFileType } from "./safe-read.js";

/** The target exists and is not a regular file chaoscast may replace. */
export class UnsafeTargetError extends ChaoscastError {
  readonly exitCode = EXIT.invalid;
  constructor(
    readonly file: string,
    readonly found: string,
  ) {
    super(`${file} is ${found}; chaoscast only replaces regular files`);
    this.name = "UnsafeTargetError";
  }
}

/** The kind of thing at `file` without following a symbolic link, or undefined when nothing is there. */
export async function entryKind(file: string): Promise<"file" | "absent" | { other: string; fifoOrDevice: boolean }> {
  try {
    const info = await lstat(file);
    if (info.isFile()) return "file";
    return { other: describeFileType(info), fifoOrDevice: info.isFIFO() || info.isCharacterDevice() };
  } catch (err) {
    // ENOTDIR: a parent is not a directory, so nothing is there; creating it fails later, clearly.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return "absent";
    throw err;
  }
}

export async function writeFileAtomic(file: string, content: string, mode = 0o600): Promise<void> {
  const kind = await entryKind(file);
  if (kind !== "file" && kind !== "absent") throw new UnsafeTargetError(file, kind.other);
  const temporary = path.join(path.dirname(file), `.${path.basename(file).slice(0, 100)}.${randomBytes(8).toString("hex")}.tmp`);
  // "wx" is O_CREAT|O_EXCL: it never opens an existing file, nor follows a symbolic link.
  const handle = await open(temporary, "wx", mode);
  try {
    await handle.writeFile(content, "utf8");
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => {});
    await unlink(temporary).catch(() => {});
    throw err;
  }
  await handle.close();
  try {
    // rename() replaces a directory entry and never follows a link at the target; the check above
    // only makes the refusal of a non-file target explicit instead of a surprise.
    await rename(temporary, file);
  } catch (err) {
    await unlink(temporary).catch(() => {});
    throw err;
  }
  await syncDirectory(path.dirname(file));
}

/** Make a rename or unlink in `dir` durable. Some filesystems refuse to fsync a directory: that is fine. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // EISDIR/EINVAL/EPERM on some platforms: the rename itself is still atomic.
  } finally {
    await handle?.close();
  }
}
