// The `tcp` adapter: a probe that opens a TCP connection and times it.

import net from "node:net";
import { z } from "zod";
import { defineProbe, type Adapter } from "../../contract/adapter.js";
import { DurationSchema } from "../../contract/common-schemas.js";
import { abortMessage } from "../../util/abortable.js";

function connect(host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const finish = (err?: Error) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve(Math.round((performance.now() - started) * 10) / 10);
    };
    const onAbort = () => finish(new Error(abortMessage(signal, timeoutMs)));
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs}ms`)), timeoutMs);
    socket.once("connect", () => finish());
    socket.once("error", (err: NodeJS.ErrnoException) => finish(new Error(err.code ?? err.message)));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}

export const tcpProbe = defineProbe({
  name: "tcp",
  description: "Open a TCP connection; observe whether it connects and how long it takes.",
  params: z
    .object({
      host: z.string().default("127.0.0.1").meta({ description: "Host name or address." }),
      port: z.int().min(1).max(65535).meta({ description: "TCP port." }),
      timeout: DurationSchema.prefault("2s").meta({ description: "Give up after this long." }),
    })
    .strict(),
  example: { host: "127.0.0.1", port: 8080 },
  primaryField: "connected",
  fields: { connected: "true when the connection opened", connectMs: "time to connect, ms; only present when connected" },
  defaultExpect: { connected: true },
  timeoutOf: (params) => params.timeout,
  async run(params, ctx) {
    try {
      const connectMs = await connect(params.host, params.port, Math.min(params.timeout, ctx.timeoutMs), ctx.signal);
      return { fields: { connected: true, connectMs }, summary: `connected in ${connectMs}ms` };
    } catch (err) {
      return { fields: { connected: false }, summary: (err as Error).message };
    }
  },
});

export const tcpAdapter: Adapter = {
  kind: "tcp",
  description: "TCP endpoints: the tcp probe.",
  actions: [],
  probes: [tcpProbe],
};
