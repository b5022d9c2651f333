// Writing to a socket or response with backpressure, without hanging on one that has gone away.

import type { Writable } from "node:stream";

/**
 * Writes `data`; when the stream's buffer is full, resolves on "drain", or on "close"/"error",
 * since a peer that disconnects while its buffer is full never drains, and waiting for it would
 * keep the exchange (and the upstream response it holds) alive forever.
 */
export async function writeWithBackpressure(stream: Writable, data: Buffer): Promise<void> {
  if (stream.destroyed || stream.write(data)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      stream.off("drain", done).off("close", done).off("error", done);
      resolve();
    };
    stream.on("drain", done).on("close", done).on("error", done);
    // It may have closed between the write and the listeners: then no event is coming.
    if (stream.destroyed) done();
  });
}
