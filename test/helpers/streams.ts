// Byte streams that show corruption: an upstream that answers "<seed>\n" with that seed's
// pseudo-random bytes (in pieces of varying size), and a client that fetches and hashes them.

import { createHash } from "node:crypto";
import net from "node:net";

export const STREAM_SIZE = 3 * 1024 * 1024;

/** STREAM_SIZE bytes that differ with the seed and along the stream: a reused buffer shows. */
export function streamFor(seed: number): Buffer {
  const out = Buffer.allocUnsafe(STREAM_SIZE);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < STREAM_SIZE; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeInt32LE(x | 0, i);
  }
  return out;
}

export const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

export async function startStreamServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer((socket) => {
    socket.once("data", (line) => {
      const data = streamFor(Number(line.toString().trim()));
      let offset = 0;
      const pump = () => {
        while (offset < data.length) {
          const piece = data.subarray(offset, offset + 1000 + ((offset * 7) % 90_000));
          offset += piece.length;
          if (!socket.write(piece)) return void socket.once("drain", pump);
        }
        socket.end();
      };
      pump();
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Ask for a seed's stream on a port; a slow reader pauses now and then. */
export function fetchStream(port: number, seed: number, slow: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ port, host: "127.0.0.1" }, () => socket.write(`${seed}\n`));
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      if (slow && chunks.length % 8 === 0) {
        socket.pause();
        setTimeout(() => socket.resume(), 5);
      }
    });
    socket.on("end", () => resolve(Buffer.concat(chunks)));
    socket.on("error", reject);
  });
}
