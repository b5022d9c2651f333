// What the proxy's main process and its relay processes tell each other. The main process keeps
// the listeners, the API and the toxics' records (leases included); a relay process is handed
// accepted connections and relays them through copies of the TCP toxics. Messages on one channel
// arrive in the order they were sent, so a relay applies every change in the order it was made.

import type { Stream } from "./toxics/types.js";

/** A TCP toxic as the relays apply it: its settings, not its lease or its state. */
export interface ToxicSettings {
  name: string;
  type: string;
  stream: Stream;
  toxicity: number;
  attributes: Record<string, unknown>;
}

export type ToRelay =
  /** The connection handle travels with this message. */
  | { type: "relay"; proxy: string; upstream: string; toxics: ToxicSettings[] }
  | { type: "toxic-set"; proxy: string; toxic: ToxicSettings }
  | { type: "toxic-remove"; proxy: string; name: string }
  /** The proxy was stopped, changed or removed: its connections close at once, as Toxiproxy's do. */
  | { type: "drop"; proxy: string }
  | { type: "sync"; seq: number };

export type FromRelay = { type: "ready" } | { type: "synced"; seq: number };
