// Actions: `prepare` checks the target and returns the revert without changing anything; the
// engine writes that revert to the state file (write-ahead) and only then calls `apply`. `apply`
// confirms through the backend that the fault took effect: a fault that "succeeds" without doing
// anything is the worst bug an adapter can have.

import { z } from "zod";
import { defineAction, revertWith, type ActionDef, type RevertDef } from "../../contract/adapter.js";
import { AdapterError } from "../../errors.js";
import type { Connect } from "./client.js";

export function flipAction(connect: Connect, restore: RevertDef): ActionDef {
  return defineAction({
    name: "template.flip",
    description: "Turn a switch on or off; the revert sets it back to what it was.",
    target: "template",
    params: z.object({ on: z.boolean().meta({ description: "The state to put the switch in." }) }).strict(),
    example: { on: false },
    reversible: "always",
    async prepare(params, target) {
      if (target?.kind !== "template") throw new AdapterError("template.flip was given no template target");
      const { endpoint, name } = target.data as { endpoint: string; name: string };
      const backend = connect(endpoint);
      const before = await backend.get(name);
      if (!before) throw new AdapterError(`template.flip: switch ${name} is gone`, { action: "template.flip", target: target.id });
      return {
        revert: revertWith(restore, { endpoint, name, on: before.on }),
        async apply() {
          await backend.set(name, params.on);
          const after = await backend.get(name);
          if (after?.on !== params.on) throw new AdapterError(`template.flip: switch ${name} did not change`, { action: "template.flip", target: target.id });
        },
      };
    },
  });
}
