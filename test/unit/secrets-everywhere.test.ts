// A secret written into the text that names things (a title, a fault, a probe, a rollback step)
// must not travel wherever names go: the compiled experiment, the events, the journal and the
// run's state file all keep the placeholder as written.

import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseExperiment } from "../../src/experiment/loader.js";
import { runExperiment } from "../../src/engine/runner.js";
import type { RunEvent } from "../../src/contract/events.js";
import type { RunState } from "../../src/engine/state.js";
import { buildJournal } from "../../src/report/journal.js";
import { ExperimentError } from "../../src/errors.js";
import { makeWorld, memoryRegistry } from "../helpers/memory-adapter.js";
import { tempDir } from "../helpers/temp.js";

const SECRET = "s3cr3t-token-42";
const FROM_VAR = "team-secret-7";
const env = { TOKEN: SECRET, CHAOSCAST_VAR_team: FROM_VAR };

const yaml = `version: 1
title: "Edge for \${vars.team} with \${env:TOKEN}"
description: "token \${env:TOKEN}"
tags: ["\${env:TOKEN}"]
duration: 200ms
targets:
  a: { mem: { prefix: a } }
  b: { mem: { prefix: b } }
steadyState:
  - { name: "a healthy for \${env:TOKEN}", probe: mem, with: { item: a } }
abort: { interval: 50ms, after: 2 }
recovery: { timeout: 300ms, interval: 50ms }
faults:
  - { name: "break b as \${vars.team}", target: b, action: mem.break }
rollbacks:
  - { name: "say \${env:TOKEN}", action: command.run, with: { command: ["true"] } }
`;

/** The secrets in the forms a file would hold them. */
const leaks = (text: string) => [SECRET, FROM_VAR].filter((s) => text.includes(s) || text.includes(JSON.stringify(s).slice(1, -1)));

describe("a secret used in a name", () => {
  it("never appears in the compiled experiment's title, description, tags or names", () => {
    const experiment = parseExperiment(yaml, "mem.yaml", { registry: memoryRegistry(makeWorld()), vars: { cli: {}, env } });
    expect(experiment.title).toBe("Edge for ${vars.team} with ${env:TOKEN}");
    expect(experiment.faults.map((f) => f.name)).toEqual(["break b as ${vars.team}"]);
    expect(experiment.steadyState.map((p) => p.name)).toEqual(["a healthy for ${env:TOKEN}"]);
    expect(experiment.rollbacks.map((r) => r.name)).toEqual(["say ${env:TOKEN}"]);
    const named = JSON.stringify([experiment.title, experiment.description, experiment.tags, experiment.faults.map((f) => f.name), experiment.steadyState.map((p) => p.name), experiment.rollbacks.map((r) => r.name)]);
    expect(leaks(named)).toEqual([]);
  });

  it("never reaches the events, the journal or the state-file record of a run", async () => {
    const dir = tempDir("chaoscast-secret-names-");
    const world = makeWorld();
    // The revert fails for good, so the state file is kept and can be read after the run too.
    world.revertFailures.set("b", Infinity);
    const atApply: string[] = [];
    world.onApply = () => atApply.push(readFileSync(path.join(dir, "run-1.json"), "utf8"));
    const registry = memoryRegistry(world);
    const experiment = parseExperiment(yaml, "mem.yaml", { registry, vars: { cli: {}, env } });
    const events: RunEvent[] = [];
    const result = await runExperiment(experiment, { registry, runId: "run-1", seed: "s", sink: (e) => events.push(e), interrupt: new AbortController().signal, stateDir: dir });
    expect(result.outcome).toBe("rollback-failed");

    const journal = JSON.stringify(buildJournal(experiment, events));
    expect(leaks(journal)).toEqual([]);
    expect(journal).toContain("break b as ${vars.team}");

    expect(atApply).toHaveLength(1);
    const kept = readFileSync(path.join(dir, "run-1.json"), "utf8");
    for (const record of [atApply[0]!, kept]) {
      expect(leaks(record)).toEqual([]);
      const state = JSON.parse(record) as RunState;
      expect(state.experiment.title).toBe("Edge for ${vars.team} with ${env:TOKEN}");
      expect(state.faults.map((f) => f.fault)).toEqual(["break b as ${vars.team}"]);
    }
  });

  it("in lock: is refused, located at the lock key, without quoting the value", () => {
    const text = yaml.replace("duration: 200ms", 'lock: "edge-${env:TOKEN}"\nduration: 200ms');
    let error: unknown;
    try {
      parseExperiment(text, "mem.yaml", { registry: memoryRegistry(makeWorld()), vars: { cli: {}, env } });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ExperimentError);
    const problems = (error as ExperimentError).problems;
    expect(problems.map((p) => [p.path, p.line, p.col])).toEqual([["lock", 5, 7]]);
    expect(problems[0]!.message).toMatch(/^secrets cannot be used in lock: edge-\$\{env:TOKEN\}/);
    expect(leaks(JSON.stringify(problems))).toEqual([]);
  });
});
