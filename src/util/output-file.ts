// Writing a file the user named (a journal, a report): a regular file is replaced atomically; a
// FIFO or character device (`--journal /dev/null`, a named pipe a collector reads) is written to as
// a stream, as the user asked; anything else, a symbolic link to a regular file included, is refused
// rather than replaced or written through.

import { constants, open as openFd } from "node:fs";
import { open, stat } from "node:fs/promises";
import { promisify } from "node:util";
import net from "node:net";
import { sleep } from "./abortable.js";
import { entryKind, UnsafeTargetError, writeFileAtomic } from "./atomic-file.js";
import { describeFileType } from "./safe-read.js";

/** How long to wait for a reader to open a FIFO before giving up on it. */
const FIFO_READER_WAIT_MS = 10_000;

const STANDARD_STREAMS: Record<string, NodeJS.WriteStream> = { "/dev/stdout": process.stdout, "/dev/stderr": process.stderr };

export async function writeOutputFile(file: string, content: string): Promise<void> {
  const standard = STANDARD_STREAMS[file];
  if (standard) return writeToStream(standard, content);
  const kind = await entryKind(file);
  if (kind === "file" || kind === "absent") return writeFileAtomic(file, content, 0o600);
  if (kind.other === "a symbolic link") {
    // A link to a pipe or device (/dev/fd/3, a collector's FIFO) is a stream the user chose; a link
    // to a regular file is where a planted link would redirect a write, so it is refused.
    const target = await stat(file).catch(() => undefined);
    if (!target || !(target.isFIFO() || target.isCharacterDevice())) {
      throw new UnsafeTargetError(file, `a symbolic link${target ? ` to ${target.isFile() ? "a regular file" : describeFileType(target)}` : " to nothing"}; name the file itself`);
    }
    return target.isFIFO() ? writeFifo(file, content) : writeDevice(file, content);
  }
  if (!kind.fifoOrDevice) throw new UnsafeTargetError(file, kind.other);
  const info = await stat(file);
  return info.isFIFO() ? writeFifo(file, content) : writeDevice(file, content);
}

async function writeDevice(file: string, content: string): Promise<void> {
  // No O_CREAT, no O_TRUNC: a device is written to, never created or replaced.
  const handle = await open(file, constants.O_WRONLY | constants.O_NOCTTY);
  try {
    await handle.writeFile(content, "utf8");
  } finally {
    await handle.close();
  }
}

async function writeFifo(file: string, content: string): Promise<void> {
  // Opening a FIFO for writing blocks until a reader opens it; O_NONBLOCK fails at once instead
  // (ENXIO), so the wait is bounded and never holds one of libuv's threads.
  const deadline = performance.now() + FIFO_READER_WAIT_MS;
  for (;;) {
    try {
      // A raw descriptor, owned (and closed) by the socket that handles the pipe's backpressure.
      const fd = await promisify(openFd)(file, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
      const socket = new net.Socket({ fd, readable: false, writable: true });
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.end(content, () => resolve());
      }).finally(() => socket.destroy());
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENXIO") throw err;
      if (performance.now() >= deadline) throw new Error(`no process read the FIFO ${file} within ${FIFO_READER_WAIT_MS / 1000}s`);
      await sleep(50);
    }
  }
}

function writeToStream(stream: NodeJS.WriteStream, content: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(content, (err) => (err ? reject(err) : resolve()));
  });
}
