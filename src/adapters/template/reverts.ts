// Reverts: undo a fault from recorded data alone, in the run or in `chaoscast rollback` after a
// crash. The data schema is checked when a state file is read back (state files are untrusted),
// `run` is idempotent, and `verify` observes the backend to prove the target is back.

import { z } from "zod";
import { defineRevert, type RevertDef } from "../../contract/adapter.js";
import type { Connect } from "./client.js";

export const RestoreDataSchema = z.object({ endpoint: z.string().min(1), name: z.string().min(1), on: z.boolean() }).strict();

export function restoreRevert(connect: Connect): RevertDef {
  return defineRevert({
    kind: "template.restore",
    data: RestoreDataSchema,
    describe: (d) => `turn switch ${d.name} ${d.on ? "on" : "off"} again`,
    async run(d, ctx) {
      const backend = connect(d.endpoint);
      const now = await backend.get(d.name);
      if (!now) {
        ctx.note(`switch ${d.name} is gone: nothing to restore`);
        return;
      }
      if (now.on !== d.on) await backend.set(d.name, d.on);
    },
    async verify(d) {
      const now = await connect(d.endpoint).get(d.name);
      if (now && now.on !== d.on) return `switch ${d.name} is still ${now.on ? "on" : "off"}`;
      return null;
    },
  });
}
