// One proxied TCP link (listen → upstream) with its toxics. Toxics apply to live connections at
// once, and a toxic with a ttl (a lease) removes itself when the ttl passes unless it is refreshed.

import { setMaxListeners } from "node:events";
import net, { type Server, type Socket } from "node:net";
import { seededRandom } from "../util/random.js";
import { HttpRelay } from "./http-relay.js";
import { relayConnection, type RelayedConnection } from "./connection.js";
import type { RelayPool } from "./relay-pool.js";
import type { ToxicSettings } from "./relay-messages.js";
import { apiErrors, ProxyApiError } from "./errors.js";
import { findToxicType } from "./toxics/index.js";
import { MAX_TIMER_MS } from "../util/abortable.js";
import type { ToxicRecord, ToxicType } from "./toxics/types.js";
import { splitHostPort } from "./address.js";

export interface ToxicInput {
  name?: unknown;
  type?: unknown;
  stream?: unknown;
  toxicity?: unknown;
  attributes?: unknown;
  ttl?: unknown;
}

interface Connection extends RelayedConnection {
  id: number;
}

export interface ProxyEvents {
  onToxicExpired?(proxy: string, toxic: string): void;
  /** A lease could not be honoured yet (e.g. the port to re-enable is taken); it is retried. */
  onLeaseError?(proxy: string, message: string): void;
}

let nextConnectionId = 1;

export class FaultProxy {
  enabled = false;
  /** chaoscast extension, shown in the API: e.g. chaoscast.io/exclude. */
  labels: Record<string, string> = {};
  private server: Server | undefined;
  private readonly connections = new Set<Connection>();
  private readonly toxics: ToxicRecord[] = [];
  /** Set for "http" proxies: the layer that applies HTTP toxics. */
  private readonly relay: HttpRelay | undefined;

  constructor(
    readonly name: string,
    public listen: string,
    public upstream: string,
    private readonly events: ProxyEvents = {},
    readonly http = false,
    /** Relay processes that TCP links hand their connections to (none: relayed in this process). */
    private readonly pool?: RelayPool,
  ) {
    this.relay = http ? new HttpRelay(this) : undefined;
  }

  /** The CMCD sessions seen on this link (HTTP links only). */
  cmcd(): import("./cmcd.js").CmcdCollector | undefined {
    return this.relay?.cmcd;
  }

  /** The exchanges this link relayed (HTTP links only). */
  traffic(): import("./traffic.js").TrafficLog | undefined {
    return this.relay?.traffic;
  }

  /** The HTTP toxics, in the order they were added (read by the relay for every request). */
  httpToxics(): ToxicRecord[] {
    return this.toxics.filter((t) => t.def.layer === "http");
  }

  async start(): Promise<void> {
    if (this.server) return;
    const { host, port } = splitHostPort(this.listen || "127.0.0.1:0");
    // Nothing is read before the connection is relayed: it may go to a relay process, unread.
    const server = net.createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) => reject(new ProxyApiError(`listen tcp ${host}:${port}: ${err.code === "EADDRINUSE" ? "bind: address already in use" : err.message}`, 500)));
      server.listen(port, host, () => resolve());
    });
    const address = server.address() as net.AddressInfo;
    this.listen = `${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
    this.server = server;
    await this.relay?.start();
    this.enabled = true;
  }

  async stop(): Promise<void> {
    this.enabled = false;
    const server = this.server;
    this.server = undefined;
    this.pool?.dropConnections(this.name);
    // Like Toxiproxy: a stopped proxy drops its connections at once (no graceful wait).
    for (const connection of this.connections) {
      connection.client.destroy();
      connection.upstream.destroy();
    }
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await this.relay?.stop();
  }

  /** Stop and drop every toxic (and its lease). */
  async destroy(): Promise<void> {
    this.resetToxics();
    this.relay?.traffic.close();
    await this.stop();
  }

  listToxics(): ToxicRecord[] {
    // Toxiproxy lists upstream toxics first, then downstream, each in the order added.
    return [...this.toxics.filter((t) => t.stream === "upstream"), ...this.toxics.filter((t) => t.stream === "downstream")];
  }

  getToxic(name: string): ToxicRecord {
    const toxic = this.toxics.find((t) => t.name === name);
    if (!toxic) throw apiErrors.toxicNotFound();
    return toxic;
  }

  addToxic(input: ToxicInput): ToxicRecord {
    const stream = input.stream ?? "downstream";
    if (stream !== "upstream" && stream !== "downstream") throw apiErrors.invalidStream();
    const type = typeof input.type === "string" ? input.type : "";
    const def = findToxicType(type);
    const name = typeof input.name === "string" && input.name !== "" ? input.name : `${type}_${stream}`;
    if (!def) throw apiErrors.invalidToxicType();
    if (def.layer === "http" && !this.relay) throw apiErrors.httpToxicNeedsHttpProxy(type);
    if (this.toxics.some((t) => t.name === name)) throw apiErrors.toxicExists();
    const record: ToxicRecord = {
      name,
      type,
      stream,
      toxicity: parseToxicity(input.toxicity, 1),
      attributes: parseAttributes(def, input.attributes, {}),
      state: new Map(),
      def,
      removed: new AbortController(),
      random: seededRandom(name),
    };
    // Every held or delayed request listens on it: many listeners are normal, not a leak.
    setMaxListeners(0, record.removed.signal);
    this.setLease(record, input.ttl);
    this.toxics.push(record);
    if (def.layer === "tcp") {
      for (const connection of this.connections) this.applyToxic(connection, record);
      this.pool?.toxicSet(this.name, settingsOf(record));
    }
    return record;
  }

  updateToxic(name: string, input: ToxicInput): ToxicRecord {
    const record = this.getToxic(name);
    if (input.ttl !== undefined) this.setLease(record, input.ttl);
    // A lease refresh carries only a ttl: live connections keep their toxic (and its dice roll).
    if (input.attributes === undefined && input.toxicity === undefined) return record;
    record.attributes = parseAttributes(record.def, input.attributes, record.attributes);
    if (input.toxicity !== undefined) record.toxicity = parseToxicity(input.toxicity, record.toxicity);
    const def = record.def;
    if (def.layer === "tcp") {
      for (const connection of this.connections) {
        connection.links[record.stream].replaceToxic(record.name, def.create(record.attributes, stateFor(record, connection.id)), record.toxicity);
      }
      this.pool?.toxicSet(this.name, settingsOf(record));
    }
    return record;
  }

  removeToxic(name: string): void {
    const record = this.getToxic(name);
    clearTimeout(record.leaseTimer);
    record.removed.abort();
    this.toxics.splice(this.toxics.indexOf(record), 1);
    for (const connection of this.connections) connection.links[record.stream].removeToxic(record.name);
    if (record.def.layer === "tcp") this.pool?.toxicRemoved(this.name, record.name);
  }

  resetToxics(): void {
    for (const toxic of [...this.toxics]) this.removeToxic(toxic.name);
  }

  private setLease(record: ToxicRecord, ttl: unknown): void {
    clearTimeout(record.leaseTimer);
    if (ttl === undefined || ttl === null || ttl === 0) {
      delete record.ttl;
      return;
    }
    if (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TIMER_MS) throw apiErrors.badBody(`ttl must be a whole number of milliseconds up to ${MAX_TIMER_MS}`);
    record.ttl = ttl;
    record.leaseTimer = setTimeout(() => {
      if (!this.toxics.includes(record)) return;
      this.removeToxic(record.name);
      this.events.onToxicExpired?.(this.name, record.name);
    }, ttl);
    record.leaseTimer.unref();
  }

  private accept(client: Socket): void {
    // A plain TCP link's connections go to a relay process when there are any.
    if (this.pool && !this.relay) {
      const toxics = this.toxics.filter((t) => t.def.layer === "tcp").map(settingsOf);
      if (this.pool.handOff(this.name, this.upstream, toxics, client)) return;
    }
    // An http proxy hands its connections to the HTTP layer, which forwards to the upstream.
    const upstreamAt = this.relay ? { host: "127.0.0.1", port: this.relay.port } : splitHostPort(this.upstream);
    const id = nextConnectionId++;
    const relayed = relayConnection(client, upstreamAt, () => {
      this.connections.delete(connection);
      for (const toxic of this.toxics) toxic.state.delete(id);
    });
    const connection: Connection = { id, ...relayed };
    this.connections.add(connection);
    for (const toxic of this.toxics) this.applyToxic(connection, toxic);
  }

  private applyToxic(connection: Connection, record: ToxicRecord): void {
    const def = record.def;
    if (def.layer !== "tcp") return;
    connection.links[record.stream].addToxic(record.name, def.create(record.attributes, stateFor(record, connection.id)), record.toxicity);
  }

  toJSON() {
    return { name: this.name, listen: this.listen, upstream: this.upstream, enabled: this.enabled, ...(this.http ? { http: true } : {}), ...(Object.keys(this.labels).length ? { labels: this.labels } : {}), toxics: this.listToxics().map(toxicJson) };
  }
}

export function toxicJson(t: ToxicRecord) {
  return { attributes: t.attributes, name: t.name, type: t.type, stream: t.stream, toxicity: t.toxicity, ...(t.ttl ? { ttl: t.ttl } : {}) };
}

function settingsOf(record: ToxicRecord): ToxicSettings {
  return { name: record.name, type: record.type, stream: record.stream, toxicity: record.toxicity, attributes: record.attributes };
}

function stateFor(record: ToxicRecord, connectionId: number): Record<string, unknown> {
  let state = record.state.get(connectionId);
  if (!state) {
    state = {};
    record.state.set(connectionId, state);
  }
  return state;
}

function parseToxicity(value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || value < 0 || value > 1) throw apiErrors.badBody("toxicity must be a number between 0 and 1");
  return value;
}

function parseAttributes(def: ToxicType, input: unknown, current: Record<string, unknown>): Record<string, unknown> {
  if (input === null) input = undefined; // as Go's decoder: null is absent
  if (input !== undefined && (typeof input !== "object" || Array.isArray(input))) throw apiErrors.badBody("attributes must be an object");
  const parsed = def.attributes.safeParse({ ...current, ...((input as Record<string, unknown>) ?? {}) });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw apiErrors.badBody(`attribute ${issue.path.join(".")}: ${issue.message}`);
  }
  return parsed.data as Record<string, unknown>;
}
