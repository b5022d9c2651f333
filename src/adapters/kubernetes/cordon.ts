// `kubernetes.cordon`, and the cordon that `kubernetes.drain` starts with: a node marked
// unschedulable, its fault recorded in the cluster first, undone by uncordoning it. A node someone
// else cordoned is refused, since chaoscast would otherwise uncordon it afterwards.

import { z } from "zod";
import { defineAction, type Revert, type RunContext, type Target } from "../../contract/adapter.js";
import { AdapterError } from "../../errors.js";
import type { Clients } from "./connection.js";
import { objectOf, recordedRevert } from "./faults.js";
import { readObject, reconnect } from "./objects.js";
import { setUnschedulable, uncordonRevert } from "./reverts.js";
import type { ObjectRef } from "./targets.js";

export interface PreparedCordon {
  ref: ObjectRef;
  clients: Clients;
  revert: Revert;
  /** Record the fault in the cluster, then cordon, confirmed by the API. */
  cordon(ctx: RunContext): Promise<void>;
}

/** Check the node for `action` and build its cordon, changing nothing yet. */
export async function prepareCordon(action: string, target: Target | null, ctx: RunContext): Promise<PreparedCordon> {
  const ref = objectOf(action, target, ["node"]);
  const clients = await reconnect(ref);
  const node = (await readObject(clients, ref, ctx)) as { spec?: { unschedulable?: boolean } } | undefined;
  if (!node) throw new AdapterError(`${action}: node ${ref.name} is gone`, { action, target: target!.id });
  if (node.spec?.unschedulable) throw new AdapterError(`${action}: node ${ref.name} is already cordoned; chaoscast will not take over (and later undo) a cordon it did not make`, { action, target: target!.id });
  const { revert, begin } = recordedRevert(uncordonRevert, (record) => ({ ref, record }), { action, target: target!, namespace: null, marked: ref });
  return {
    ref,
    clients,
    revert,
    async cordon(applyCtx) {
      await begin(clients, applyCtx);
      if ((await setUnschedulable(ref, true, applyCtx)) !== true) throw new AdapterError(`${action}: node ${ref.name} did not become unschedulable`, { action, target: target!.id });
    },
  };
}

export const cordon = defineAction({
  name: "kubernetes.cordon",
  description: "Mark nodes unschedulable (new pods go elsewhere; running ones stay); the revert uncordons them.",
  target: "kubernetes",
  params: z.object({}).strict(),
  example: {},
  reversible: "always",
  async prepare(_params, target, ctx) {
    const prepared = await prepareCordon("kubernetes.cordon", target, ctx);
    return { revert: prepared.revert, apply: (applyCtx) => prepared.cordon(applyCtx) };
  },
});
