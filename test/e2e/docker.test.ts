// The docker adapter through the CLI, as a user runs it: a pause that is reverted at the end of
// the run, and one whose run is SIGKILLed mid-pause and undone by `chaoscast rollback`.

import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containerFactory, engineAvailable, ensureImages } from "../helpers/docker.js";
import { CLI, runCli, waitForOutput, workdir, writeExperiment } from "../helpers/processes.js";

const available = await engineAvailable();
const containers = containerFactory();

const experiment = (name: string, duration: string) => `version: 1
title: pause the edge container
duration: ${duration}
targets:
  edge: { docker: { names: ${name} } }
steadyState:
  - name: edge container exists
    probe: docker
    with: { containers: { names: ${name} } }
    expect: { total: 1 }
abort: { interval: 250ms }
faults:
  - { name: freeze edge, action: docker.pause, target: edge }
`;

describe.skipIf(!available)("docker experiments through the CLI", () => {
  beforeAll(async () => {
    await ensureImages();
  }, 60_000);
  afterAll(() => containers.cleanup());

  it("pauses a container for the method and unpauses it afterwards", async () => {
    const c = await containers.start();
    const dir = workdir();
    writeExperiment(dir, "pause.yaml", experiment(c.name, "1s"));
    const run = await runCli(["run", "pause.yaml", "--yes"], { cwd: dir });
    expect(run.exitCode, run.all).toBe(0);
    expect(run.all).toContain(`injected freeze edge (docker.pause) → container ${c.name}`);
    expect((await containers.state(c.id)).Paused).toBe(false);
  });

  it("undoes a pause left by a run killed with SIGKILL, through chaoscast rollback", async () => {
    const c = await containers.start();
    const dir = workdir();
    writeExperiment(dir, "pause.yaml", experiment(c.name, "60s"));
    const child = execa(process.execPath, [CLI, "run", "pause.yaml", "--yes"], { cwd: dir, env: { CI: "1", NO_COLOR: "1" }, reject: false, stdin: "ignore" });
    await waitForOutput(child, "injected freeze edge");
    child.kill("SIGKILL");
    await child;
    expect((await containers.state(c.id)).Paused).toBe(true);
    const dry = await runCli(["rollback", "--dry-run"], { cwd: dir });
    expect(dry.all).toContain(`container ${c.name} is still paused`);
    const rollback = await runCli(["rollback"], { cwd: dir });
    expect(rollback.exitCode, rollback.all).toBe(0);
    expect((await containers.state(c.id)).Paused).toBe(false);
  });
});
