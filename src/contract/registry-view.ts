// Lookups over a list of adapters: every action, probe and target kind they provide.

import type { ActionDef, Adapter, ProbeDef, RevertDef, TargetDef } from "./adapter.js";

export class RegistryView {
  readonly actions: ReadonlyMap<string, ActionDef>;
  readonly probes: ReadonlyMap<string, ProbeDef>;
  readonly targetKinds: ReadonlyMap<string, TargetDef>;
  readonly reverts: ReadonlyMap<string, RevertDef>;

  constructor(readonly adapters: readonly Adapter[]) {
    const actions = new Map<string, ActionDef>();
    const probes = new Map<string, ProbeDef>();
    const targetKinds = new Map<string, TargetDef>();
    const reverts = new Map<string, RevertDef>();
    for (const adapter of adapters) {
      if (adapter.targets) targetKinds.set(adapter.kind, adapter.targets);
      for (const action of adapter.actions) {
        if (actions.has(action.name)) throw new Error(`two actions are named ${action.name}`);
        actions.set(action.name, action);
      }
      for (const revert of adapter.reverts ?? []) {
        if (reverts.has(revert.kind)) throw new Error(`two reverts are named ${revert.kind}`);
        reverts.set(revert.kind, revert);
      }
      for (const probe of adapter.probes) {
        if (probes.has(probe.name)) throw new Error(`two probes are named ${probe.name}`);
        probes.set(probe.name, probe);
      }
    }
    this.actions = actions;
    this.probes = probes;
    this.targetKinds = targetKinds;
    this.reverts = reverts;
  }
}
