// Writing a file so that a crash at any instant leaves either the old content or the new, never a
// torn mix: write a temporary sibling, fsync it, rename it over the target, fsync the directory.

import { open, rename, unlink } from "node:fs/promises";
import path from "node:path";

export async function writeFileAtomic(file: string, content: string): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`);
  const handle = await open(temporary, "w", 0o600);
  try {
    await handle.writeFile(content, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
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
