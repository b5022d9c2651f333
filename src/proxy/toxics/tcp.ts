// Toxiproxy's TCP toxics, with its attribute names, units and observable behaviour.

import { z } from "zod";
import { sleep } from "../../util/abortable.js";
import { Pacer } from "../pace.js";
import { defineToxic, type Chunk, type LinkControls } from "./types.js";

const ms = (description: string) => z.number().int().min(0).default(0).meta({ description });

export const latency = defineToxic({
  type: "latency",
  description: "Delay every chunk by latency ± jitter milliseconds, measured from when it arrived.",
  attributes: z.object({ latency: ms("Delay in ms."), jitter: ms("Random ± variation in ms.") }),
  create({ latency: base, jitter }) {
    return {
      async process(chunk, { signal }) {
        const delay = base + (jitter > 0 ? Math.round((Math.random() * 2 - 1) * jitter) : 0);
        await sleep(chunk.at + delay - performance.now(), signal);
        return [chunk];
      },
    };
  },
});

export const bandwidth = defineToxic({
  type: "bandwidth",
  description: "Limit throughput to rate KB/s (1 KB = 1000 bytes).",
  attributes: z.object({ rate: z.number().int().min(0).default(0).meta({ description: "KB/s; 0 stops the data." }) }),
  create({ rate }) {
    // A virtual send clock keeps the average exact whatever the timer granularity or the load.
    const pacer = rate > 0 ? new Pacer(rate) : undefined;
    return {
      async process(chunk, { signal }) {
        if (rate <= 0) {
          await sleep(Infinity, signal); // no data at all until the toxic is removed or changed
          return [chunk];
        }
        const out: Chunk[] = [];
        const slice = rate * 100; // bytes per 100 ms, so large chunks flow smoothly
        for (let offset = 0; offset < chunk.data.length; offset += slice) {
          const piece = chunk.data.subarray(offset, offset + slice);
          await sleep(pacer!.delayFor(piece.length), signal);
          pacer!.sent();
          out.push({ data: piece, at: chunk.at });
          if (signal.aborted) {
            out.push({ data: chunk.data.subarray(offset + slice), at: chunk.at });
            break;
          }
        }
        return out;
      },
    };
  },
});

export const slowClose = defineToxic({
  type: "slow_close",
  description: "Delay closing the connection by delay ms after the other side closed.",
  attributes: z.object({ delay: ms("Delay in ms.") }),
  create({ delay }) {
    return { end: ({ signal }) => sleep(delay, signal) };
  },
});

export const timeout = defineToxic({
  type: "timeout",
  description: "Stop all data; close the connection after timeout ms without data (0: never). Removing it closes the connection.",
  attributes: z.object({ timeout: ms("Close after this many ms without data; 0 never closes.") }),
  create({ timeout: limit }) {
    // Restarted on every chunk: the connection closes after `limit` ms without data. The timer dies
    // with this instance (signal), so updating the toxic (e.g. to 0) never leaves an old one armed.
    let idle: AbortController | undefined;
    const arm = ({ close, signal }: LinkControls) => {
      idle?.abort();
      if (limit <= 0 || signal.aborted) return;
      const controller = new AbortController();
      idle = controller;
      const both = AbortSignal.any([signal, controller.signal]);
      void sleep(limit, both).then(() => {
        if (!both.aborted) close();
      });
    };
    return {
      start: (controls) => arm(controls),
      process(_chunk, controls) {
        arm(controls);
        return [];
      },
      stop({ close }) {
        idle?.abort();
        close();
      },
    };
  },
});

export const resetPeer = defineToxic({
  type: "reset_peer",
  description: "On the next data, wait timeout ms and reset the connection (TCP RST).",
  attributes: z.object({ timeout: ms("Delay before the reset, in ms.") }),
  create({ timeout: delay }) {
    let triggered = false;
    return {
      process(_chunk, { reset, signal }) {
        if (!triggered) {
          triggered = true;
          void sleep(delay, signal).then(() => {
            if (!signal.aborted) reset();
          });
        }
        return [];
      },
    };
  },
});

export const slicer = defineToxic({
  type: "slicer",
  description: "Slice data into pieces of average_size ± size_variation bytes, delay µs apart.",
  attributes: z.object({
    average_size: z.number().int().min(0).default(0).meta({ description: "Average piece size in bytes." }),
    size_variation: z.number().int().min(0).default(0).meta({ description: "± bytes; must be less than average_size." }),
    delay: z.number().int().min(0).default(0).meta({ description: "Microseconds between pieces." }),
  }),
  create({ average_size: average, size_variation: variation, delay }) {
    return {
      process(chunk) {
        if (average <= 0) return [chunk];
        const out: Chunk[] = [];
        let offset = 0;
        while (offset < chunk.data.length) {
          const size = Math.max(1, average + (variation > 0 ? Math.round((Math.random() * 2 - 1) * variation) : 0));
          // The link waits `delay` µs between pieces, so they leave as separate writes.
          out.push({ data: chunk.data.subarray(offset, offset + size), at: chunk.at, ...(offset > 0 && delay > 0 ? { pauseBefore: delay / 1000 } : {}) });
          offset += size;
        }
        return out;
      },
    };
  },
});

export const limitData = defineToxic({
  type: "limit_data",
  description: "Close the connection after bytes bytes have passed (in this direction).",
  attributes: z.object({ bytes: z.number().int().min(0).default(0).meta({ description: "Bytes allowed through before closing." }) }),
  create({ bytes }, state) {
    // The count survives an update of the toxic, as in Toxiproxy.
    state.transmitted ??= 0;
    return {
      process(chunk, { close }) {
        const remaining = Math.max(0, bytes - (state.transmitted as number));
        const data = chunk.data.subarray(0, remaining);
        state.transmitted = (state.transmitted as number) + data.length;
        // The link closes after writing what is returned here, so the last bytes still arrive.
        if ((state.transmitted as number) >= bytes) close();
        return data.length > 0 ? [{ data, at: chunk.at }] : [];
      },
    };
  },
});
