import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { writeWithBackpressure } from "../../src/util/backpressure.js";
import { holdsFor } from "../helpers/poll.js";

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

/** A connected socket pair on 127.0.0.1 whose far end reads nothing, so writes fill the buffers. */
async function stalledPair(): Promise<{ near: net.Socket; far: net.Socket }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const farP = new Promise<net.Socket>((resolve) => server.once("connection", (s) => {
    s.pause();
    resolve(s);
  }));
  const near = net.connect((server.address() as AddressInfo).port, "127.0.0.1");
  await new Promise((resolve) => near.once("connect", resolve));
  const far = await farP;
  near.on("error", () => {});
  far.on("error", () => {});
  cleanup.push(() => {
    near.destroy();
    far.destroy();
    server.close();
  });
  return { near, far };
}

async function fillUntilFull(socket: net.Socket): Promise<void> {
  const chunk = Buffer.alloc(1 << 20);
  while (socket.write(chunk)) await new Promise((r) => setImmediate(r));
}

describe("writeWithBackpressure", () => {
  it("waits for the buffer to drain before resolving", async () => {
    const { near, far } = await stalledPair();
    await fillUntilFull(near);
    let resolved = false;
    const write = writeWithBackpressure(near, Buffer.from("x")).then(() => {
      resolved = true;
    });
    // Watched for 50 ms while nothing drains the buffer: the write stays pending all the while.
    await holdsFor(() => expect(resolved, "the write, with the buffer full").toBe(false), 50, 5);
    far.resume();
    await write;
    expect(resolved).toBe(true);
  });

  it("resolves when the peer disconnects while the buffer is full, instead of waiting forever", async () => {
    const { near, far } = await stalledPair();
    await fillUntilFull(near);
    const write = writeWithBackpressure(near, Buffer.from("x"));
    far.destroy();
    near.destroy();
    await expect(write).resolves.toBeUndefined();
    expect(near.listenerCount("drain")).toBe(0);
  });

  it("returns at once for a stream that is already destroyed", async () => {
    const { near } = await stalledPair();
    near.destroy();
    await expect(writeWithBackpressure(near, Buffer.from("x"))).resolves.toBeUndefined();
  });
});
