// The adapter template (src/adapters/template) is a starting point that keeps the contract: these
// tests run it through the real loader and engine against an in-memory backend, so a change to the
// contract that the template no longer meets fails here rather than in the next adapter.

import { describe, expect, it } from "vitest";
import { createTemplateAdapter } from "../../src/adapters/template/index.js";
import type { Switch, TemplateBackend } from "../../src/adapters/template/client.js";
import { RegistryView } from "../../src/contract/registry-view.js";
import type { RunEvent } from "../../src/contract/events.js";
import { parseExperiment } from "../../src/experiment/loader.js";
import { runExperiment } from "../../src/engine/runner.js";
import { revertPerformer } from "../../src/engine/rollback.js";

function memoryBackend(switches: Switch[]): TemplateBackend & { seen: boolean[] } {
  const byName = new Map(switches.map((s) => [s.name, { ...s }]));
  const seen: boolean[] = [];
  return {
    seen,
    list: async () => [...byName.values()].map((s) => ({ ...s })),
    get: async (name) => {
      const found = byName.get(name);
      return found && { ...found };
    },
    set: async (name, on) => {
      const found = byName.get(name);
      if (found) found.on = on;
      seen.push(on);
    },
  };
}

function setUp() {
  const backend = memoryBackend([
    { name: "recommendations", on: true, labels: {} },
    { name: "billing", on: true, labels: { "chaoscast.io/exclude": "true" } },
  ]);
  const registry = new RegistryView([createTemplateAdapter(() => backend)]);
  return { backend, registry };
}

const experiment = `version: 1
title: recommendations switched off
duration: 200ms
targets:
  switches: { template: { endpoint: memory } }
faults:
  - { name: switch off, target: switches, action: template.flip, with: { on: false } }
`;

describe("the adapter template", () => {
  it("is validated by the loader like any adapter, with file:line:col for its own keys", () => {
    const { registry } = setUp();
    expect(() => parseExperiment(experiment.replace("endpoint: memory", "endpoint: memory, colour: red"), "t.yaml", { registry, vars: { cli: {}, env: {} } })).toThrow(/t\.yaml:5:\d+.*colour/s);
  });

  it("flips every selected switch, never an excluded one, and sets it back at the end", async () => {
    const { backend, registry } = setUp();
    const compiled = parseExperiment(experiment, "t.yaml", { registry, vars: { cli: {}, env: {} } });
    const events: RunEvent[] = [];
    const result = await runExperiment(compiled, { registry, runId: "template", seed: "s", sink: (e) => events.push(e), interrupt: new AbortController().signal });
    expect(result.outcome).toBe("passed");
    expect(backend.seen).toEqual([false, true]);
    expect((await backend.get("recommendations"))?.on).toBe(true);
    expect((await backend.get("billing"))?.on).toBe(true);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["fault-injected", "fault-reverted"]));
  });

  it("is reverted from the recorded data alone, verifies it, and reverts again as a no-op", async () => {
    const { backend, registry } = setUp();
    const action = registry.actions.get("template.flip")!;
    const [target] = await registry.targetKinds.get("template")!.resolve({ endpoint: "memory", names: ["recommendations"] }, { signal: new AbortController().signal, runId: "t", note: () => {}, defer: () => {} });
    const ctx = { signal: new AbortController().signal, runId: "t", note: () => {}, defer: () => {} };
    const injection = await action.prepare({ on: false }, target!, ctx);
    await injection.apply(ctx);
    expect((await backend.get("recommendations"))?.on).toBe(false);
    const recorded = JSON.parse(JSON.stringify(injection.revert));
    const perform = revertPerformer(registry.reverts);
    await perform(recorded, ctx);
    expect((await backend.get("recommendations"))?.on).toBe(true);
    expect(await registry.reverts.get("template.restore")!.verify!(recorded.data, ctx)).toBeNull();
    const writes = backend.seen.length;
    await perform(recorded, ctx);
    expect(backend.seen).toHaveLength(writes);
  });
});
