// Targets: what a `{ template: { … } }` block selects. Resolve reads the backend and returns every
// candidate with its labels; the engine applies `select`, the exclusion label and the policy.

import { z } from "zod";
import { defineTargets, type TargetDef } from "../../contract/adapter.js";
import type { Connect } from "./client.js";

export const TemplateSelectorSchema = z
  .object({
    endpoint: z.string().min(1).meta({ description: "Where the backend answers." }),
    names: z.array(z.string().min(1)).min(1).optional().meta({ description: "Only these switches." }),
  })
  .strict();

export function templateTargets(connect: Connect): TargetDef {
  return defineTargets({
    selector: TemplateSelectorSchema,
    describe: (s) => `switches${s.names ? ` ${s.names.join(", ")}` : ""} on ${s.endpoint}`,
    async resolve(selector) {
      const all = await connect(selector.endpoint).list();
      return all
        .filter((s) => !selector.names || selector.names.includes(s.name))
        .map((s) => ({ id: `switch:${s.name}`, label: `switch ${s.name}`, kind: "template", labels: s.labels, data: { endpoint: selector.endpoint, name: s.name } }));
    },
  });
}
