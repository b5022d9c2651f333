// A small client for the fault proxy's (Toxiproxy-compatible) API, used by the proxy adapter.
// Every call has a timeout and says which API and proxy it was talking to when it fails.

import { z } from "zod";
import { AdapterError } from "../../errors.js";
import { httpRequest } from "../../util/http-request.js";

/** A fault proxy's API (or a link's) address: host:port, the form the client puts after http://. */
export const ProxyAddressSchema = z.string().regex(/^[^\s:/]+:\d+$/, { error: 'expected host:port, e.g. "127.0.0.1:8474"' });

export interface ProxyState {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: { name: string; type: string }[];
  /** chaoscast proxy only; Toxiproxy has no labels. */
  labels?: Record<string, string>;
}

export class ProxyApiClient {
  constructor(readonly api: string) {}

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown; text: string }> {
    try {
      const res = await httpRequest({
        url: `http://${this.api}${path}`,
        method,
        headers: { "content-type": "application/json", "user-agent": "chaoscast" },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        timeoutMs: 5_000,
        signal: AbortSignal.timeout(6_000),
      });
      let json: unknown;
      try {
        json = res.body ? JSON.parse(res.body) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.status, json, text: res.body };
    } catch (err) {
      throw new AdapterError(`no fault proxy answers at ${this.api} (${(err as Error).message}); start one with: chaoscast proxy --api ${this.api}`);
    }
  }

  private fail(what: string, res: { status: number; json: unknown; text: string }): never {
    const message = (res.json as { error?: string } | undefined)?.error ?? res.text.trim();
    throw new AdapterError(`${what}: the fault proxy at ${this.api} answered ${res.status}: ${message}`);
  }

  /** The proxy, or undefined when it does not exist. */
  async getProxy(name: string): Promise<ProxyState | undefined> {
    const res = await this.call("GET", `/proxies/${encodeURIComponent(name)}`);
    if (res.status === 404) return undefined;
    if (res.status !== 200) this.fail(`reading proxy ${name}`, res);
    return res.json as ProxyState;
  }

  async listProxies(): Promise<string[]> {
    const res = await this.call("GET", "/proxies");
    if (res.status !== 200) this.fail("listing proxies", res);
    return Object.keys(res.json as Record<string, unknown>);
  }

  async addToxic(proxy: string, toxic: { name: string; type: string; stream: string; toxicity: number; attributes: Record<string, unknown>; ttl: number }): Promise<void> {
    const res = await this.call("POST", `/proxies/${encodeURIComponent(proxy)}/toxics`, toxic);
    if (res.status !== 200) this.fail(`adding toxic ${toxic.name} to ${proxy}`, res);
  }

  /** Extend a toxic's lease. False when the toxic is gone. */
  async refreshToxic(proxy: string, toxic: string, ttl: number): Promise<boolean> {
    const res = await this.call("POST", `/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(toxic)}`, { ttl });
    if (res.status === 404) return false;
    if (res.status !== 200) this.fail(`refreshing toxic ${toxic} on ${proxy}`, res);
    return true;
  }

  /** Remove a toxic; true when it was there, false when it was already gone (or its proxy was). */
  async removeToxic(proxy: string, toxic: string): Promise<boolean> {
    const res = await this.call("DELETE", `/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(toxic)}`);
    if (res.status === 404 && /(toxic|proxy) not found/.test(res.text)) return false;
    if (res.status !== 204) this.fail(`removing toxic ${toxic} from ${proxy}`, res);
    return true;
  }

  async hasToxic(proxy: string, toxic: string): Promise<boolean> {
    const res = await this.call("GET", `/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(toxic)}`);
    if (res.status === 404) return false;
    if (res.status !== 200) this.fail(`reading toxic ${toxic} on ${proxy}`, res);
    return true;
  }

  async setEnabled(proxy: string, enabled: boolean, ttl?: number): Promise<void> {
    const res = await this.call("POST", `/proxies/${encodeURIComponent(proxy)}`, { enabled, ...(ttl ? { ttl } : {}) });
    if (res.status !== 200) this.fail(`${enabled ? "enabling" : "disabling"} proxy ${proxy}`, res);
  }

  /** The traffic figures of an HTTP link over a window (chaoscast proxy only). `query` is the encoded query string. */
  async traffic(proxy: string, query: string): Promise<unknown> {
    const res = await this.call("GET", `/proxies/${encodeURIComponent(proxy)}/traffic?${query}`);
    if (res.status === 404 && /proxy not found/.test(res.text)) throw new AdapterError(`the fault proxy at ${this.api} has no link named ${proxy}`);
    if (res.status === 404) throw new AdapterError(`the fault proxy at ${this.api} does not report traffic (it is not chaoscast's proxy, or an older one)`);
    if (res.status !== 200) this.fail(`reading the traffic of ${proxy}`, res);
    return res.json;
  }

  /** The CMCD QoE of an HTTP link (chaoscast proxy only: Toxiproxy has no such route). */
  async cmcd(proxy: string, windowMs: number, startDeadlineMs: number): Promise<unknown> {
    const res = await this.call("GET", `/proxies/${encodeURIComponent(proxy)}/cmcd?window=${windowMs}&startDeadline=${startDeadlineMs}`);
    if (res.status === 404 && /proxy not found/.test(res.text)) throw new AdapterError(`the fault proxy at ${this.api} has no link named ${proxy}`);
    if (res.status === 404) throw new AdapterError(`the fault proxy at ${this.api} does not read CMCD (it is not chaoscast's proxy, or an older one)`);
    if (res.status !== 200) this.fail(`reading the CMCD of ${proxy}`, res);
    return res.json;
  }
}
