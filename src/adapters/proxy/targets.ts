// `proxy` targets: { proxy: { name, api } } — a link on a running fault proxy (chaoscast proxy or
// Toxiproxy). Resolution checks that the proxy exists, so a typo is caught before anything runs.

import { z } from "zod";
import { PreflightError, AdapterError } from "../../errors.js";
import { defineTargets } from "../../engine/types.js";
import { DurationSchema } from "../../experiment/common-schemas.js";
import { didYouMean } from "../../util/did-you-mean.js";
import { ProxyApiClient } from "./client.js";

export const ProxySelectorSchema = z
  .object({
    name: z.string().min(1).meta({ description: "The proxy's name on the fault proxy." }),
    api: z
      .string()
      .regex(/^[^\s:/]+:\d+$/, { error: 'expected host:port, e.g. "127.0.0.1:8474"' })
      .default("127.0.0.1:8474")
      .meta({ description: "The fault proxy's API address." }),
    lease: DurationSchema.refine((ms) => ms >= 2_000, { message: "lease must be at least 2s" })
      .prefault("10s")
      .meta({ description: "How long a fault outlives chaoscast if it dies; refreshed while the run is alive." }),
  })
  .strict();

export interface ProxyTargetData {
  api: string;
  name: string;
  lease: number;
}

export const proxyTargets = defineTargets({
  selector: ProxySelectorSchema,
  describe: (s) => `proxy "${s.name}" on ${s.api}`,
  async resolve(selector) {
    const client = new ProxyApiClient(selector.api);
    let state;
    try {
      state = await client.getProxy(selector.name);
    } catch (err) {
      if (err instanceof AdapterError) throw new PreflightError(err.message);
      throw err;
    }
    if (!state) {
      const known = await client.listProxies();
      throw new PreflightError(`the fault proxy at ${selector.api} has no proxy "${selector.name}"${didYouMean(selector.name, known)}; proxies: ${known.join(", ") || "none"}`);
    }
    const data: ProxyTargetData = { api: selector.api, name: selector.name, lease: selector.lease };
    return [{ id: `proxy:${selector.api}/${selector.name}`, label: `proxy ${state.name} (${state.listen} → ${state.upstream})`, kind: "proxy", data: { ...data } }];
  },
});
