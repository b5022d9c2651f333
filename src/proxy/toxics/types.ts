// The contract every toxic implements. A toxic type is registered once (toxics/index.ts); an
// instance is created for each connection direction ("link") it applies to, holding that link's state.

import type { z } from "zod";

/** A piece of the byte stream and when it arrived (performance.now()), so delays do not accumulate. */
export interface Chunk {
  data: Buffer;
  at: number;
  /** Wait this many ms before writing this piece (slicer's pacing between pieces). */
  pauseBefore?: number;
}

export interface LinkControls {
  /** Aborted when the toxic is removed or the connection closes: pending waits end early. */
  signal: AbortSignal;
  /** Close the whole connection (both sockets). */
  close(): void;
  /** Close the connection with a TCP reset (RST) towards the client. */
  reset(): void;
}

export interface LinkToxic {
  /** Called once when the toxic starts on a link (timers for timeout and reset_peer). */
  start?(controls: LinkControls): void;
  /** Transform one chunk: may wait, split, or drop it (return []). */
  process?(chunk: Chunk, controls: LinkControls): Chunk[] | Promise<Chunk[]>;
  /** The source has ended; may delay passing the end on (slow_close). */
  end?(controls: LinkControls): Promise<void> | void;
  /** The toxic is being removed from a live link. */
  stop?(controls: LinkControls): void;
}

/** A toxic on the byte stream of each connection (Toxiproxy's kind). */
export interface TcpToxicType<S extends z.ZodObject = z.ZodObject> {
  layer: "tcp";
  type: string;
  description: string;
  /** Toxiproxy attribute names and units; unknown attributes are ignored, as Toxiproxy does. */
  attributes: S;
  create(attributes: z.output<S>, state: Record<string, unknown>): LinkToxic;
}

/** What an HTTP toxic does to one request/response exchange it applies to. */
export type HttpEffect =
  | { kind: "respond"; status: number; body: string }
  | { kind: "hang" }
  | { kind: "delay"; ms: () => number }
  | { kind: "throttle"; bytesPerMs: number }
  | { kind: "truncate"; bytes: number }
  | { kind: "stale-playlist" }
  /** Name each viewer's cohort in a header, upstream and back (see cohortOf in toxics/http.ts). */
  | { kind: "tag-cohort"; header: string; cohortPercent: number };

/** A toxic on HTTP exchanges, for proxies created with "http": true. */
export interface HttpToxicType<S extends z.ZodObject = z.ZodObject> {
  layer: "http";
  type: string;
  description: string;
  attributes: S;
  effect(attributes: z.output<S>): HttpEffect;
}

export type ToxicType = TcpToxicType | HttpToxicType;

export function defineToxic<S extends z.ZodObject>(def: Omit<TcpToxicType<S>, "layer">): ToxicType {
  return { layer: "tcp", ...def } as unknown as ToxicType;
}

export function defineHttpToxic<S extends z.ZodObject>(def: Omit<HttpToxicType<S>, "layer">): ToxicType {
  return { layer: "http", ...def } as unknown as ToxicType;
}

/** Which way a toxic acts: on what the client sends, or on what it receives. */
export type Stream = "upstream" | "downstream";

/** A toxic as a link holds it: its settings, the state it keeps, and what ends it. */
export interface ToxicRecord {
  name: string;
  type: string;
  stream: Stream;
  toxicity: number;
  attributes: Record<string, unknown>;
  /** Lease length in ms (chaoscast extension); 0 or absent: no lease. */
  ttl?: number;
  /** Per-link state that survives updates (limit_data's byte count), keyed by connection id. */
  state: Map<number, Record<string, unknown>>;
  def: ToxicType;
  leaseTimer?: NodeJS.Timeout;
  /** Aborted when the toxic is removed: held requests and pending delays are released. */
  removed: AbortController;
  /** Per-request dice of HTTP toxics, seeded by the toxic's name: random, yet reproducible. */
  random: () => number;
}
