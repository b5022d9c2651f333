// The set of proxies a server runs, with Toxiproxy's create, populate and reset semantics.

import { apiErrors } from "./errors.js";
import { FaultProxy, splitHostPort, type ProxyEvents } from "./proxy.js";

export interface ProxyInput {
  name?: unknown;
  listen?: unknown;
  upstream?: unknown;
  enabled?: unknown;
  /** chaoscast extension: relay connections through the HTTP layer so HTTP toxics can apply. */
  http?: unknown;
}

export class ProxyCollection {
  private readonly proxies = new Map<string, FaultProxy>();
  private readonly downLeases = new Map<string, NodeJS.Timeout>();

  constructor(private readonly events: ProxyEvents = {}) {}

  all(): FaultProxy[] {
    return [...this.proxies.values()];
  }

  get(name: string): FaultProxy {
    const proxy = this.proxies.get(name);
    if (!proxy) throw apiErrors.proxyNotFound();
    return proxy;
  }

  async create(input: ProxyInput): Promise<FaultProxy> {
    const { name, listen, upstream, enabled, http } = checkInput(input);
    if (this.proxies.has(name)) throw apiErrors.proxyExists();
    const proxy = new FaultProxy(name, listen, upstream, this.events, http);
    if (enabled) await proxy.start();
    this.proxies.set(name, proxy);
    return proxy;
  }

  /** Create or replace many; an unchanged proxy (same listen and upstream) is kept with its toxics. */
  async populate(inputs: ProxyInput[]): Promise<FaultProxy[]> {
    const result: FaultProxy[] = [];
    for (const [i, input] of inputs.entries()) {
      const checked = checkInput(input, ` at proxy ${i + 1}`);
      const existing = this.proxies.get(checked.name);
      if (existing && sameAddress(existing.listen, checked.listen) && existing.upstream === checked.upstream && existing.http === checked.http) {
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
    // A lease on "down" (chaoscast extension): disabled with a ttl, the proxy re-enables itself.
    clearTimeout(this.downLeases.get(name));
    this.downLeases.delete(name);
    if (input.enabled === false && input.ttl !== undefined && input.ttl !== 0) {
      if (typeof input.ttl !== "number" || !Number.isInteger(input.ttl) || input.ttl < 0) throw apiErrors.badBody("ttl must be a whole number of milliseconds");
      const timer = setTimeout(() => {
        this.downLeases.delete(name);
        if (this.proxies.get(name) === proxy && !proxy.enabled) void proxy.start().then(() => this.events.onToxicExpired?.(name, "(down)"));
      }, input.ttl);
      timer.unref();
      this.downLeases.set(name, timer);
    }
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
    for (const proxy of this.proxies.values()) await proxy.destroy();
    this.proxies.clear();
  }
}

function checkInput(input: ProxyInput, where = "") {
  if (typeof input.name !== "string" || input.name === "") throw apiErrors.missingField(`name${where}`);
  if (typeof input.upstream !== "string" || input.upstream === "") throw apiErrors.missingField(`upstream${where}`);
  const listen = typeof input.listen === "string" && input.listen !== "" ? input.listen : "127.0.0.1:0";
  splitHostPort(listen);
  splitHostPort(input.upstream);
  return { name: input.name, listen, upstream: input.upstream, enabled: input.enabled === undefined ? true : input.enabled === true, http: input.http === true };
}

function sameAddress(a: string, b: string): boolean {
  const x = splitHostPort(a);
  const y = splitHostPort(b);
  return x.host === y.host && (x.port === y.port || y.port === 0);
}
