// Probes: observe, never judge. A probe returns fields; the engine judges them against `expect`.
// It must honour ctx.timeoutMs and ctx.signal, and report "could not observe" as `error`.

import { z } from "zod";
import { defineProbe, type ProbeDef } from "../../contract/adapter.js";
import { DurationSchema } from "../../contract/common-schemas.js";
import { errorMessage } from "../../errors.js";
import type { Connect } from "./client.js";

export function switchProbe(connect: Connect): ProbeDef {
  return defineProbe({
    name: "template",
    description: "Whether a switch is on.",
    params: z
      .object({
        endpoint: z.string().min(1).meta({ description: "Where the backend answers." }),
        name: z.string().min(1).meta({ description: "The switch to look at." }),
        timeout: DurationSchema.prefault("2s").meta({ description: "Give up after this long." }),
      })
      .strict(),
    example: { endpoint: "memory", name: "recommendations" },
    primaryField: "on",
    fields: { on: "true when the switch is on" },
    defaultExpect: { on: true },
    timeoutOf: (params) => params.timeout,
    async run(params) {
      try {
        const found = await connect(params.endpoint).get(params.name);
        if (!found) return { fields: {}, error: `no switch ${params.name}`, summary: "missing" };
        return { fields: { on: found.on }, summary: found.on ? "on" : "off" };
      } catch (err) {
        return { fields: {}, error: errorMessage(err), summary: "unreachable" };
      }
    },
  });
}
