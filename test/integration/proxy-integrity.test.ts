import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import net from "node:net";
import { useProxyFixture } from "../helpers/proxy-fixture.js";

// The relay reads the upstream's bytes into buffers it reuses once they are written: every byte
// must still arrive unchanged and in order, with slow readers (backpressure), many connections at
// once, and toxics coming and going while data flows.

const fixture = useProxyFixture();
const SIZE = 3 * 1024 * 1024;

/** SIZE bytes that differ with the seed and along the stream: a reused buffer shows as corruption. */
function streamFor(seed: number): Buffer {
  const out = Buffer.allocUnsafe(SIZE);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < SIZE; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeInt32LE(x | 0, i);
  }
  return out;
}

const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

let upstream: net.Server;
let upstreamPort = 0;
beforeAll(async () => {
  // Answers "<seed>\n" with that seed's stream, in pieces of varying size, then closes.
  upstream = net.createServer((socket) => {
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
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  upstreamPort = (upstream.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

/** Ask for a seed's stream through the link; a slow reader pauses now and then. */
function fetchStream(port: number, seed: number, slow: boolean): Promise<Buffer> {
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

describe("bytes through the relay", () => {
  it("arrive unchanged on 24 connections at once, half of them read slowly", async () => {
    const link = await fixture.server.collection.create({ name: "integrity", upstream: `127.0.0.1:${upstreamPort}` });
    const port = Number(link.listen.split(":").pop());
    const seeds = Array.from({ length: 24 }, (_, i) => i + 1);
    const received = await Promise.all(seeds.map((seed) => fetchStream(port, seed, seed % 2 === 0)));
    for (const [i, data] of received.entries()) {
      expect(data.length).toBe(SIZE);
      expect(sha(data)).toBe(sha(streamFor(seeds[i]!)));
    }
  });

  it("arrive unchanged while a toxic is added and removed mid-stream", async () => {
    const link = await fixture.server.collection.create({ name: "integrity-toxic", upstream: `127.0.0.1:${upstreamPort}` });
    const port = Number(link.listen.split(":").pop());
    const transfers = [101, 102, 103, 104].map((seed) => fetchStream(port, seed, true));
    // Toxics come and go while the bytes flow: the relay moves between its direct and queued paths.
    for (let i = 0; i < 6; i++) {
      link.addToxic({ name: "slice", type: "slicer", attributes: { average_size: 3000, size_variation: 1000, delay: 10 } });
      await new Promise((resolve) => setTimeout(resolve, 15));
      link.removeToxic("slice");
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    const received = await Promise.all(transfers);
    for (const [i, data] of received.entries()) expect(sha(data)).toBe(sha(streamFor([101, 102, 103, 104][i]!)));
  });
});
