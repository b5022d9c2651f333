// One direction of one proxied connection: bytes from `source` to `destination` through the toxics
// that apply to this direction. With no toxic the bytes are written straight through (the fast
// path); otherwise they queue with their arrival time and pass through the chain in order.
// A source either emits "data", or (pooled) reads into reusable buffers and hands each read to
// `onPooledRead`, which pauses it by returning false.

import type { Socket } from "node:net";
import { sleep } from "../util/abortable.js";
import { writeWithBackpressure } from "../util/backpressure.js";
import { releaseReadBuffer } from "./read-buffers.js";
import type { Chunk, LinkControls, LinkToxic } from "./toxics/types.js";

// Data queued behind a delaying toxic. The bound caps throughput at HIGH_WATER / latency
// (16 MiB behind 500 ms: 32 MB/s), enough for video segments while memory stays bounded.
const HIGH_WATER = 16 * 1024 * 1024;
const LOW_WATER = 8 * 1024 * 1024;
/** Reads smaller than this are copied out of their pooled buffer rather than written from it. */
const SMALL_READ = 8 * 1024;

interface ActiveToxic {
  name: string;
  instance: LinkToxic;
  controller: AbortController;
  /** Decided once per link from the toxic's toxicity, as Toxiproxy does. */
  active: boolean;
}

export class Link {
  private readonly chain: ActiveToxic[] = [];
  private readonly queue: Chunk[] = [];
  private queuedBytes = 0;
  private pumping = false;
  private sourceEnded = false;
  private closing = false;
  private finished = false;
  private readonly disposed = new AbortController();
  /** The source is paused for backpressure (a pooled source cannot say so itself). */
  private sourcePaused = false;

  constructor(
    private readonly source: Socket,
    private readonly destination: Socket,
    private readonly connection: { close(): void; reset(): void },
    pooled = false,
  ) {
    if (!pooled) source.on("data", (data: Buffer) => this.onData(data));
    source.on("end", () => {
      this.sourceEnded = true;
      if (!this.pumping) void this.pump();
    });
  }

  controlsFor(controller: AbortController): LinkControls {
    return {
      signal: controller.signal,
      close: () => this.requestClose(),
      reset: () => this.connection.reset(),
    };
  }

  addToxic(name: string, instance: LinkToxic, toxicity: number): void {
    const controller = new AbortController();
    const entry: ActiveToxic = { name, instance, controller, active: Math.random() < toxicity };
    this.chain.push(entry);
    if (entry.active) instance.start?.(this.controlsFor(controller));
  }

  removeToxic(name: string): void {
    const index = this.chain.findIndex((t) => t.name === name);
    if (index < 0) return;
    const [entry] = this.chain.splice(index, 1);
    entry!.controller.abort();
    if (entry!.active) entry!.instance.stop?.(this.controlsFor(entry!.controller));
  }

  replaceToxic(name: string, instance: LinkToxic, toxicity: number): void {
    const index = this.chain.findIndex((t) => t.name === name);
    if (index < 0) {
      this.addToxic(name, instance, toxicity);
      return;
    }
    const old = this.chain[index]!;
    old.controller.abort();
    const controller = new AbortController();
    this.chain[index] = { name, instance, controller, active: Math.random() < toxicity };
    if (this.chain[index]!.active) instance.start?.(this.controlsFor(controller));
  }

  /** Stop every toxic's timers when the connection goes away. */
  dispose(): void {
    for (const entry of this.chain) entry.controller.abort();
    this.disposed.abort();
    this.finished = true;
  }

  /** Data read from the source is still on its way: queued, or inside a toxic. */
  get delivering(): boolean {
    return this.pumping || this.queue.length > 0;
  }

  private get hasToxics(): boolean {
    return this.chain.some((t) => t.active);
  }

  /**
   * A read into a pooled buffer: written from the buffer itself on the fast path (the buffer goes
   * back to the pool when the write completes), copied when it must wait behind toxics. Returns
   * false to pause the source.
   */
  onPooledRead(buffer: Buffer, length: number): boolean {
    // A small read is copied and its buffer given back at once, as is one that must wait behind
    // toxics: a trickle of small reads queued behind a slow client must not each pin 64 KiB.
    if (!this.fastPath || length < SMALL_READ) {
      const copy = Buffer.from(buffer.subarray(0, length));
      releaseReadBuffer(buffer);
      return this.fastPath ? this.writeThrough(copy) : this.enqueue(copy);
    }
    return this.writeThrough(buffer.subarray(0, length), () => releaseReadBuffer(buffer));
  }

  /** The fast path's write, with the same backpressure as stream.pipe(); false when the source must pause. */
  private writeThrough(data: Buffer, written?: () => void): boolean {
    const flowing = this.destination.write(data, written);
    if (!flowing) this.pauseUntilDrained();
    return flowing;
  }

  private get fastPath(): boolean {
    return !this.hasToxics && this.queue.length === 0 && !this.pumping;
  }

  private onData(data: Buffer): void {
    if (this.fastPath) {
      // Fast path: no toxic, nothing queued.
      if (!this.writeThrough(data)) this.source.pause();
      return;
    }
    if (!this.enqueue(data)) this.source.pause();
  }

  private pauseUntilDrained(): void {
    this.sourcePaused = true;
    this.destination.once("drain", () => this.resumeSource());
  }

  private resumeSource(): void {
    this.sourcePaused = false;
    this.source.resume();
  }

  /** Queue data behind the toxics; false when the source should pause (too much is queued). */
  private enqueue(data: Buffer): boolean {
    this.queue.push({ data, at: performance.now() });
    this.queuedBytes += data.length;
    if (!this.pumping) void this.pump();
    if (this.queuedBytes <= HIGH_WATER) return true;
    this.sourcePaused = true;
    return false;
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (!this.finished) {
        const chunk = this.queue.shift();
        if (!chunk) break;
        this.queuedBytes -= chunk.data.length;
        if (this.queuedBytes < LOW_WATER && this.sourcePaused) this.resumeSource();
        let pieces: Chunk[] = [chunk];
        for (const toxic of [...this.chain]) {
          if (!toxic.active || !toxic.instance.process || toxic.controller.signal.aborted) continue;
          const next: Chunk[] = [];
          for (const piece of pieces) next.push(...(await toxic.instance.process(piece, this.controlsFor(toxic.controller))));
          pieces = next;
        }
        for (const piece of pieces) {
          if (piece.pauseBefore) await sleep(piece.pauseBefore, this.disposed.signal);
          if (this.destination.destroyed) return;
          await writeWithBackpressure(this.destination, piece.data);
        }
        if (this.closing) return this.connection.close();
      }
      if (this.sourceEnded && !this.finished) {
        for (const toxic of [...this.chain]) if (toxic.active) await toxic.instance.end?.(this.controlsFor(toxic.controller));
        this.destination.end();
      }
    } finally {
      this.pumping = false;
    }
    // Data that arrived while the last await was pending.
    if (this.queue.length > 0 && !this.finished) void this.pump();
  }

  private requestClose(): void {
    // Close after the chunk being processed is written, so limit_data's last bytes arrive.
    if (this.pumping) this.closing = true;
    else this.connection.close();
  }
}
