// `chaoscast demo-service <role> --port N` (hidden): one service of the demo stack on its own, as the
// containers of `demo up --docker` run it. Stops on SIGTERM or SIGINT.

import { UsageError } from "../../errors.js";

export async function demoServiceCommand(role: string, options: { port: string }): Promise<number> {
  const port = Number(options.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port ${options.port}: expected a TCP port`);
  const { startPayment, startRecommendations } = await import("../../demo/services.js");
  const starters: Record<string, (port: number) => ReturnType<typeof startPayment>> = { payment: startPayment, recommendations: startRecommendations };
  const start = starters[role];
  if (!start) throw new UsageError(`demo-service: no service "${role}"; services: ${Object.keys(starters).join(", ")}`);
  const service = await start(port);
  process.stdout.write(`${role} listening on ${service.url}\n`);
  await new Promise<void>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve());
  });
  await service.close();
  return 0;
}
