// Files the user names for output (--journal, --junit, --report, --summary): checked before
// anything is injected, so a typo in a path is exit 4 up front rather than a report lost after
// the faults. A regular file is replaced; a FIFO or a device (/dev/stdout, a collector's pipe) is
// written to; anything else (a directory, a link to a regular file) is refused.

import { constants } from "node:fs";
import { access, mkdir, stat } from "node:fs/promises";
import path from "node:path";
import { UsageError } from "../errors.js";
import { entryKind } from "../util/atomic-file.js";
import { fsErrorReason } from "../util/safe-read.js";

const STANDARD_STREAMS = ["/dev/stdout", "/dev/stderr"];

export async function checkOutputFile(flag: string, file: string): Promise<void> {
  if (file === "") throw new UsageError(`${flag}: expected a file name`);
  if (STANDARD_STREAMS.includes(file)) return;
  const kind = await entryKind(file);
  if (kind !== "file" && kind !== "absent") {
    if (kind.fifoOrDevice || (await isLinkToStream(file))) return;
    throw new UsageError(`${flag} ${file}: it is ${kind.other}; give a regular file, a FIFO or a device such as /dev/stdout`);
  }
  await checkWritableDir(flag, file, path.dirname(file));
}

/** Creates `dir` if need be and checks it can be written, naming the flag when it cannot. */
export async function checkWritableDir(flag: string, option: string, dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (err) {
    throw new UsageError(`${flag} ${option}: cannot write to ${dir}: ${fsErrorReason(err as NodeJS.ErrnoException) ?? (err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

async function isLinkToStream(file: string): Promise<boolean> {
  const target = await stat(file).catch(() => undefined);
  return target !== undefined && (target.isFIFO() || target.isCharacterDevice());
}
