// `chaoscast demo-service <role> --port N [--upstream URL]` (hidden): one service of the demo stack
// on its own, as the containers of `demo up --docker` run it. Stops on SIGTERM or SIGINT.

import { UsageError } from "../../errors.js";
import type { Service } from "../../demo/http-service.js";

export async function demoServiceCommand(role: string, options: { port: string; upstream?: string; failover?: string }): Promise<number> {
  const port = Number(options.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port ${options.port}: expected a TCP port`);
  const starters: Record<string, () => Promise<Service>> = {
    origin: async () => (await import("../../demo/origin.js")).startOrigin(port),
    edge: async () => {
      if (!options.upstream) throw new UsageError("demo-service edge: --upstream <url of the origin> is required");
      return (await import("../../demo/edge.js")).startEdge({ port, originUrl: options.upstream, ...(options.failover ? { failoverUrl: options.failover } : {}) });
    },
    payment: async () => (await import("../../demo/services.js")).startPayment(port),
    recommendations: async () => (await import("../../demo/services.js")).startRecommendations(port),
  };
  const start = starters[role];
  if (!start) throw new UsageError(`demo-service: no service "${role}"; services: ${Object.keys(starters).join(", ")}`);
  const service = await start();
  // Listening for the stop signal before saying "listening": a supervisor may stop it at once.
  const stopped = new Promise<void>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve());
  });
  process.stdout.write(`${role} listening on ${service.url}\n`);
  await stopped;
  await service.close();
  return 0;
}
