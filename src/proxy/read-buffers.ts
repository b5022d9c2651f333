// Reusable read buffers for the proxy's upstream sockets. By default Node allocates a fresh 64 KiB
// buffer for every read; at a gigabyte a second that garbage makes V8 run a full collection many
// times a second (external memory pressure), and the relay spends its time there instead of
// moving bytes. Reading into buffers that come back once their bytes are written keeps the
// collector idle. A socket waiting for data holds one buffer, as a Go relay holds its copy buffer.

const SIZE = 64 * 1024;
/** Free buffers kept beyond this are left to the collector: a burst of connections does not pin memory. */
const MAX_FREE = 256;
const free: Buffer[] = [];

export function takeReadBuffer(): Buffer {
  return free.pop() ?? Buffer.allocUnsafeSlow(SIZE);
}

/** Give a buffer back once nothing refers to its bytes any more (its write has completed). */
export function releaseReadBuffer(buffer: Buffer): void {
  if (free.length < MAX_FREE) free.push(buffer);
}
