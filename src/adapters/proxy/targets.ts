// `proxy` targets: { proxy: { name, api } } — a link on a running fault proxy (chaoscast proxy or
// Toxiproxy). Resolution checks that the proxy exists, so a typo is caught before anything runs.

import { z } from "zod";
import { PreflightError, AdapterError } from "../../errors.js";
import { defineTargets, type RunContext } from "../../contract/adapter.js";
import { DurationSchema } from "../../contract/common-schemas.js";
import { didYouMean } from "../../util/did-you-mean.js";
import { ProxyAddressSchema, ProxyApiClient } from "./client.js";

export const ProxySelectorSchema = z
  .object({
    name: z.string().min(1).optional().meta({ description: "The proxy's name on a running fault proxy (required there; a wrong name is reported with a suggestion before anything runs), or a name for an embedded link." }),
    api: ProxyAddressSchema.default("127.0.0.1:8474").meta({ description: "The running fault proxy's API address." }),
    listen: ProxyAddressSchema.optional().meta({ description: "Embedded link: the run starts its own proxy listening here (host:port)…" }),
    upstream: ProxyAddressSchema.optional().meta({ description: "…forwarding to this address, and stops it when the run is over (after recovery)." }),
    http: z.boolean().default(false).meta({ description: "Embedded link: relay HTTP, so HTTP faults can apply." }),
    lease: DurationSchema.refine((ms) => ms >= 2_000, { message: "lease must be at least 2s" })
      .prefault("10s")
      .meta({ description: "How long a fault outlives chaoscast if it dies (at least 2s); refreshed while the run is alive." }),
  })
  .strict()
  .refine((s) => (s.listen === undefined) === (s.upstream === undefined), { message: "an embedded link needs both listen and upstream" })
  .refine((s) => s.upstream !== undefined || s.name !== undefined, { message: "give the name of a proxy on a running fault proxy, or listen and upstream for a link the run starts itself" });

export interface ProxyTargetData {
  api: string;
  name: string;
  lease: number;
  /** The link lives inside this run's own process, so its faults end when the run does. */
  embedded: boolean;
}

type Selector = z.output<typeof ProxySelectorSchema>;

/** Start a fault proxy inside this run for an embedded link; it stops when the run is over. */
async function startEmbedded(selector: Selector, ctx: RunContext): Promise<{ api: string; name: string }> {
  const { startProxyServer } = await import("../../proxy/server.js");
  const name = selector.name ?? "link";
  try {
    const server = await startProxyServer({ api: "127.0.0.1:0", proxies: [{ name, listen: selector.listen, upstream: selector.upstream, http: selector.http }] });
    ctx.defer(() => server.close());
    return { api: server.url.replace(/^http:\/\//, ""), name };
  } catch (err) {
    throw new PreflightError(`cannot start the embedded link ${selector.listen} → ${selector.upstream}: ${(err as Error).message}`);
  }
}

export const proxyTargets = defineTargets({
  selector: ProxySelectorSchema,
  describe: (s) => (s.upstream ? `embedded link ${s.listen} → ${s.upstream}` : `proxy "${s.name}" on ${s.api}`),
  async resolve(selector, ctx) {
    const embedded = selector.upstream !== undefined;
    if (selector.upstream !== undefined) selector = { ...selector, ...(await startEmbedded(selector, ctx)) };
    const name = selector.name!;
    const client = new ProxyApiClient(selector.api);
    let state;
    try {
      state = await client.getProxy(name);
    } catch (err) {
      if (err instanceof AdapterError) throw new PreflightError(err.message);
      throw err;
    }
    if (!state) {
      const known = await client.listProxies();
      throw new PreflightError(`the fault proxy at ${selector.api} has no proxy "${name}"${didYouMean(name, known)}; proxies: ${known.join(", ") || "none"}`);
    }
    const data: ProxyTargetData = { api: selector.api, name, lease: selector.lease, embedded };
    return [{ id: `proxy:${selector.api}/${name}`, label: `proxy ${state.name} (${state.listen} → ${state.upstream})`, kind: "proxy", data: { ...data }, labels: state.labels ?? {} }];
  },
});
