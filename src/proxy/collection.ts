// The set of proxies a server runs, with Toxiproxy's create, populate and reset semantics.

import { apiErrors } from "./errors.js";
import { FaultProxy, type ProxyEvents } from "./proxy.js";
import type { RelayPool } from "./relay-pool.js";
import { splitHostPort } from "./address.js";
import { MAX_TIMER_MS } from "../util/abortable.js";

export interface ProxyInput {
  name?: unknown;
  listen?: unknown;
  upstream?: unknown;
  enabled?: unknown;
  /** chaoscast extension: relay connections through the HTTP layer so HTTP toxics can apply. */
  http?: unknown;
  /** chaoscast extension: labels, e.g. {"chaoscast.io/exclude": "true"} to keep experiments off a link. */
  labels?: unknown;
}

export class ProxyCollection {
  private readonly proxies = new Map<string, FaultProxy>();
  private readonly downLeases = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly events: ProxyEvents = {},
    /** Relay processes for TCP links, when the server runs any. */
    private readonly pool?: RelayPool,
  ) {}

  /** Resolves once every relay process has applied the changes made so far. */
  async synced(): Promise<void> {
    await this.pool?.synced();
  }

  all(): FaultProxy[] {
    return [...this.proxies.values()];
  }

  get(name: string): FaultProxy {
    const proxy = this.proxies.get(name);
    if (!proxy) throw apiErrors.proxyNotFound();
    return proxy;
  }

  async create(input: ProxyInput): Promise<FaultProxy> {
    const { name, listen, upstream, enabled, http, labels } = checkInput(input);
    if (this.proxies.has(name)) throw apiErrors.proxyExists();
    const proxy = new FaultProxy(name, listen, upstream, this.events, http, this.pool);
    proxy.labels = labels ?? {};
    if (enabled) await proxy.start();
    this.proxies.set(name, proxy);
    return proxy;
  }

  /** Create or replace many; an unchanged proxy (same listen and upstream) is kept with its toxics. */
  async populate(inputs: ProxyInput[]): Promise<FaultProxy[]> {
    // Check the whole list before creating anything, as Toxiproxy does.
    const checkedAll = inputs.map((input, i) => checkInput(input, ` at proxy ${i + 1}`));
    const result: FaultProxy[] = [];
    for (const [i, input] of inputs.entries()) {
      const checked = checkedAll[i]!;
      const existing = this.proxies.get(checked.name);
      if (existing && sameAddress(existing.listen, checked.listen) && existing.upstream === checked.upstream && existing.http === checked.http) {
        // Toxiproxy clients send no labels: keep the ones the proxy has unless new ones are given.
        if (checked.labels) existing.labels = checked.labels;
        result.push(existing);
        continue;
      }
      if (existing) {
        await existing.destroy();
        this.proxies.delete(checked.name);
      }
      result.push(await this.create(input));
    }
    return result;
  }

  async update(name: string, input: ProxyInput & { ttl?: unknown }): Promise<FaultProxy> {
    const proxy = this.get(name);
    // The HTTP layer is chosen when a link is made: changing it would silently do nothing.
    if (input.http !== undefined && input.http !== proxy.http) throw apiErrors.badBody(`proxy ${name} is ${proxy.http ? "an HTTP" : "a TCP"} link: "http" cannot be changed on a link that exists; delete it and create it again (or send it to /populate)`);
    // A lease on "down" (chaoscast extension): disabled with a ttl, the proxy re-enables itself.
    clearTimeout(this.downLeases.get(name));
    this.downLeases.delete(name);
    if (input.enabled === false && input.ttl !== undefined && input.ttl !== 0) {
      if (typeof input.ttl !== "number" || !Number.isInteger(input.ttl) || input.ttl < 0) throw apiErrors.badBody("ttl must be a whole number of milliseconds");
      if (input.ttl > MAX_TIMER_MS) throw apiErrors.badBody(`ttl must be at most ${MAX_TIMER_MS} ms`);
      const reEnable = (): void => {
        this.downLeases.delete(name);
        if (this.proxies.get(name) !== proxy || proxy.enabled) return;
        proxy.start().then(
          () => this.events.onToxicExpired?.(name, "(down)"),
          // The port may be taken meanwhile: keep trying, the lease promised the link back.
          (err: Error) => {
            this.events.onLeaseError?.(name, err.message);
            const retry = setTimeout(reEnable, 1000);
            retry.unref();
            this.downLeases.set(name, retry);
          },
        );
      };
      const timer = setTimeout(reEnable, input.ttl);
      timer.unref();
      this.downLeases.set(name, timer);
    }
    checkTypes(input);
    const listen = typeof input.listen === "string" ? input.listen : proxy.listen;
    const upstream = typeof input.upstream === "string" ? input.upstream : proxy.upstream;
    const enabled = typeof input.enabled === "boolean" ? input.enabled : proxy.enabled;
    if (!sameAddress(proxy.listen, listen) || proxy.upstream !== upstream) {
      await proxy.stop();
      proxy.listen = listen;
      proxy.upstream = upstream;
      if (enabled) await proxy.start();
    } else if (enabled && !proxy.enabled) await proxy.start();
    else if (!enabled && proxy.enabled) await proxy.stop();
    return proxy;
  }

  async remove(name: string): Promise<void> {
    const proxy = this.get(name);
    await proxy.destroy();
    this.proxies.delete(name);
  }

  /** Enable every proxy and remove every toxic. */
  async reset(): Promise<void> {
    for (const proxy of this.proxies.values()) {
      proxy.resetToxics();
      await proxy.start();
    }
  }

  async closeAll(): Promise<void> {
    for (const timer of this.downLeases.values()) clearTimeout(timer);
    this.downLeases.clear();
    await Promise.all([...this.proxies.values()].map((proxy) => proxy.destroy()));
    this.proxies.clear();
  }
}

/** Wrong JSON types are refused, as Go's decoder does ("enabled": "false" is not false). */
function checkTypes(input: ProxyInput): void {
  for (const field of ["name", "listen", "upstream"] as const) {
    if (input[field] !== undefined && input[field] !== null && typeof input[field] !== "string") throw apiErrors.badBody(`${field} must be a string`);
  }
  for (const field of ["enabled", "http"] as const) {
    if (input[field] !== undefined && input[field] !== null && typeof input[field] !== "boolean") throw apiErrors.badBody(`${field} must be true or false`);
  }
  const labels = input.labels;
  if (labels !== undefined && labels !== null && (typeof labels !== "object" || Array.isArray(labels) || Object.values(labels).some((v) => typeof v !== "string"))) {
    throw apiErrors.badBody("labels must be an object of strings");
  }
}

function checkInput(input: ProxyInput, where = "") {
  if (input === null || typeof input !== "object") throw apiErrors.badBody(`expected a proxy object${where}`);
  checkTypes(input);
  if (typeof input.name !== "string" || input.name === "") throw apiErrors.missingField(`name${where}`);
  if (typeof input.upstream !== "string" || input.upstream === "") throw apiErrors.missingField(`upstream${where}`);
  const listen = typeof input.listen === "string" && input.listen !== "" ? input.listen : "127.0.0.1:0";
  splitHostPort(listen);
  splitHostPort(input.upstream);
  return { name: input.name, listen, upstream: input.upstream, enabled: input.enabled === undefined ? true : input.enabled === true, http: input.http === true, labels: (input.labels ?? undefined) as Record<string, string> | undefined };
}

function sameAddress(a: string, b: string): boolean {
  const x = splitHostPort(a);
  const y = splitHostPort(b);
  return x.host === y.host && (x.port === y.port || y.port === 0);
}
