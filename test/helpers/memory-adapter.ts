// An adapter over an in-memory "world" for engine tests: its faults really change the world, its
// probe really reads it, and its reverts can be made to fail, so engine behaviour is observable.

import { z } from "zod";
import { defineAction, defineProbe, defineRevert, defineTargets, revertWith, type Adapter } from "../../src/contract/adapter.js";
import { RegistryView } from "../../src/contract/registry-view.js";
import { adapters } from "../../src/registry.js";

export interface World {
  broken: Set<string>;
  /** Names in the order their reverts ran. */
  revertLog: string[];
  /** Reverts of these names fail this many times (Infinity = always). */
  revertFailures: Map<string, number>;
  applyFailures: Set<string>;
  /** Repairs of these names report success but change nothing (for revert verification). */
  fakeRepairs: Set<string>;
  /** mem.break's preflight refuses these items, as an action refuses a host it cannot work on. */
  unsupported: Set<string>;
  /** Called as a fault is applied, e.g. to look at the state file at that moment. */
  onApply?: (name: string) => void;
  /** Awaited at the start of each repair, e.g. to see which repairs are under way at once. */
  beforeRepair?: (name: string) => Promise<void>;
}

export function makeWorld(): World {
  return { broken: new Set(), revertLog: [], revertFailures: new Map(), applyFailures: new Set(), fakeRepairs: new Set(), unsupported: new Set() };
}

export function memoryRegistry(world: World, items = ["a", "b", "c"]): RegistryView {
  const repair = defineRevert({
    kind: "mem.repair",
    data: z.object({ name: z.string() }),
    describe: (data) => `repair ${data.name}`,
    async run({ name }) {
      await world.beforeRepair?.(name);
      const left = world.revertFailures.get(name) ?? 0;
      if (left > 0) {
        world.revertFailures.set(name, left - 1);
        throw new Error(`repair of ${name} refused`);
      }
      if (!world.fakeRepairs.has(name)) world.broken.delete(name);
      world.revertLog.push(name);
    },
    verify: async ({ name }) => (world.broken.has(name) ? `${name} is still broken` : null),
  });
  const adapter: Adapter = {
    kind: "mem",
    description: "in-memory items for tests",
    targets: defineTargets({
      selector: z.object({ prefix: z.string().default("") }).strict(),
      describe: (s) => `items starting with "${s.prefix}"`,
      resolve: async (s) => items.filter((i) => i.startsWith(s.prefix)).map((i) => ({ id: i, label: `item ${i}`, kind: "mem", data: { name: i } })),
    }),
    actions: [
      defineAction({
        name: "mem.break",
        description: "break an item",
        target: "mem",
        reversible: "always",
        params: z.object({}).strict(),
        example: {},
        async preflight(_p, target) {
          if (world.unsupported.has(String(target!.data.name))) throw new Error(`item ${target!.data.name} cannot be broken here`);
        },
        async prepare(_p, target) {
          const name = String(target!.data.name);
          return {
            revert: revertWith(repair, { name }),
            async apply() {
              world.onApply?.(name);
              world.broken.add(name);
              if (world.applyFailures.has(name)) throw new Error(`${name} broke half-way`);
            },
          };
        },
      }),
      defineAction({
        name: "mem.destroy",
        description: "break an item for good",
        target: "mem",
        reversible: "never",
        params: z.object({}).strict(),
        example: {},
        async prepare(_p, target) {
          const name = String(target!.data.name);
          return { revert: null, apply: async () => void world.broken.add(name) };
        },
      }),
    ],
    reverts: [repair],
    probes: [
      defineProbe({
        name: "mem",
        description: "is an item healthy",
        params: z.object({ item: z.string() }).strict(),
        example: { item: "a" },
        primaryField: "healthy",
        fields: { healthy: "not broken" },
        defaultExpect: true,
        timeoutOf: () => 1000,
        async run(p) {
          const healthy = !world.broken.has(p.item);
          return { fields: { healthy }, summary: healthy ? "healthy" : "broken" };
        },
      }),
    ],
  };
  return new RegistryView([...adapters, adapter]);
}
