// Undoing proxy faults from data alone: remove exactly the toxic the fault added, or bring a link
// that the fault took down back up; each then reads the proxy to check it is really so. The data is
// held to the experiment's own schema: it may come back from a state file.

import { z } from "zod";
import { AdapterError } from "../../errors.js";
import { defineRevert } from "../../contract/adapter.js";
import { ProxyAddressSchema, ProxyApiClient } from "./client.js";

export const removeToxicRevert = defineRevert({
  kind: "proxy.remove-toxic",
  data: z.object({ api: ProxyAddressSchema, proxy: z.string(), toxic: z.string() }),
  describe: (data) => `remove toxic ${data.toxic} from proxy ${data.proxy}`,
  async run(data, ctx) {
    const client = new ProxyApiClient(data.api);
    if (!(await client.removeToxic(data.proxy, data.toxic))) ctx.note(`toxic ${data.toxic} was already gone (lease expired or removed)`);
  },
  async verify(data) {
    return (await new ProxyApiClient(data.api).hasToxic(data.proxy, data.toxic)) ? `toxic ${data.toxic} is still on proxy ${data.proxy}` : null;
  },
});

export const enableRevert = defineRevert({
  kind: "proxy.enable",
  data: z.object({ api: ProxyAddressSchema, proxy: z.string() }),
  describe: (data) => `bring proxy ${data.proxy} up`,
  async run(data) {
    await new ProxyApiClient(data.api).setEnabled(data.proxy, true);
  },
  async verify(data) {
    const state = await new ProxyApiClient(data.api).getProxy(data.proxy);
    if (!state) throw new AdapterError(`proxy ${data.proxy} no longer exists on the fault proxy at ${data.api}`);
    return state.enabled ? null : `proxy ${data.proxy} is still down`;
  },
});
