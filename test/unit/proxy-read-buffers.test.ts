import { describe, expect, it } from "vitest";
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { Link } from "../../src/proxy/link.js";
import { takeReadBuffer } from "../../src/proxy/read-buffers.js";

/** A destination whose writes complete only when the test says so. */
function slowDestination() {
  const pending: (() => void)[] = [];
  const destination = Object.assign(new EventEmitter(), {
    destroyed: false,
    write(_data: Buffer, done?: () => void) {
      if (done) pending.push(done);
      return true;
    },
    end() {},
  });
  return { destination: destination as unknown as Socket, completeWrites: () => {
      for (const done of pending.splice(0)) done();
    } };
}

const source = () => Object.assign(new EventEmitter(), { pause() {}, resume() {} }) as unknown as Socket;
const connection = { close() {}, reset() {} };

describe("pooled read buffers", () => {
  it("are not handed out again while a write still refers to their bytes", () => {
    const { destination, completeWrites } = slowDestination();
    const link = new Link(source(), destination, connection, true);
    const buffer = takeReadBuffer();
    link.onPooledRead(buffer, 60_000);
    const next = Array.from({ length: 4 }, () => takeReadBuffer());
    expect(next).not.toContain(buffer);
    completeWrites();
    expect(takeReadBuffer()).toBe(buffer);
  });

  it("go back at once after a small read, whose bytes are copied: a trickle does not pin 64 KiB per read", () => {
    const { destination } = slowDestination();
    const link = new Link(source(), destination, connection, true);
    const buffer = takeReadBuffer();
    link.onPooledRead(buffer, 100);
    expect(takeReadBuffer()).toBe(buffer);
  });

  it("go back at once when their bytes are copied to wait behind a toxic", () => {
    const { destination } = slowDestination();
    const link = new Link(source(), destination, connection, true);
    link.addToxic("slow", { process: async (chunk) => [chunk] }, 1);
    const buffer = takeReadBuffer();
    buffer.fill(7, 0, 10);
    link.onPooledRead(buffer, 10);
    expect(takeReadBuffer()).toBe(buffer);
  });
});
