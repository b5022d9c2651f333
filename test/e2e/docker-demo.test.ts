// The game-day check: `chaoscast demo up --docker` runs origin, edge, payment and
// recommendations as containers, and experiments/docker/ kills the payment container (playback
// stays healthy: passed), freezes the edge (caught: aborted) and starves the origin of CPU (passed);
// each ends as its file documents, and every container runs unharmed afterwards. `demo down` stops
// the stack from elsewhere and removes what a killed demo left.

import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { execa } from "execa";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUSYBOX, engineAvailable, ensureImages } from "../helpers/docker.js";
import { CLI, ROOT, readJournals, runCli, waitForOutput, workdir } from "../helpers/processes.js";

const available = await engineAvailable();

describe.skipIf(!available)("the demo stack in Docker containers", () => {
  let demo: ReturnType<typeof execa> | undefined;
  let output = "";
  beforeAll(async () => {
    await ensureImages();
    // Stopping removes containers, which takes a while on a busy engine: never let execa SIGKILL it.
    demo = execa(process.execPath, [CLI, "demo", "up", "--docker", "--viewers", "40"], { cwd: ROOT, env: { CI: "1", NO_COLOR: "1" }, reject: false, stdin: "ignore", forceKillAfterDelay: false });
    demo.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    // The suggested command line carries the ports; it arrives after the heading, maybe in a later
    // chunk, and ends with the duration, so wait for that rather than for the heading.
    await waitForOutput(demo, "--var duration=20s");
  }, 120_000);
  afterAll(async () => {
    demo?.kill("SIGTERM");
    await demo;
  });

  it("runs the container game day: each experiment ends as documented, and every container runs unharmed afterwards", async () => {
    const vars = [...output.matchAll(/--var (\w+=\S+)/g)].map((m) => m[1]!).filter((v) => !v.startsWith("duration="));
    expect(vars.map((v) => v.split("=")[0]), output).toEqual(["proxy_api", "viewers_metrics", "cdn"]);
    const dir = workdir();
    const run = await runCli(["run", `${ROOT}/experiments/docker`, ...vars.flatMap((v) => ["--var", v]), "--var", "duration=6s", "--yes"], { cwd: dir });
    const journals = readJournals(dir) as { file: string; outcome: string }[];
    const outcomes = Object.fromEntries(journals.map((j) => [path.basename(j.file), j.outcome]));
    const documented = Object.fromEntries(journals.map((j) => [path.basename(j.file), /Expected outcome: ([a-z-]+)/.exec(readFileSync(path.resolve(dir, j.file), "utf8"))![1]]));
    expect(outcomes, run.all).toEqual({
      "01-payment-container-killed.yaml": "passed",
      "02-edge-container-paused.yaml": "aborted",
      "03-origin-cpu-squeezed.yaml": "passed",
    });
    expect(outcomes).toEqual(documented);

    const docker = new Docker();
    const containers = await docker.listContainers({ all: true, filters: JSON.stringify({ label: ["chaoscast.demo=1"] }) });
    expect(containers.map((c) => `${c.Labels["ott.role"]}: ${c.State}`).sort()).toEqual(["edge: running", "origin: running", "payment: running", "recommendations: running"]);
    const origin = containers.find((c) => c.Labels["ott.role"] === "origin")!;
    const info = await docker.info();
    expect((await docker.getContainer(origin.Id).inspect()).HostConfig.NanoCpus).toBe(info.NCPU * 1e9);
  }, 150_000);

  it("refuses a second stack while one runs; demo down stops it and removes its containers, and those of a demo killed earlier", async () => {
    const docker = new Docker();
    const second = await runCli(["demo", "up", "--docker"], { cwd: workdir() });
    expect(second.exitCode, second.all).toBe(5);
    expect(second.all).toContain(`another demo stack is running in Docker (chaoscast pid ${demo!.pid}`);
    // What a `kill -9` of a demo leaves: a labelled container whose chaoscast is gone.
    const dead = execa("true");
    await dead;
    const leftover = await docker.createContainer({
      Image: BUSYBOX,
      name: `chaoscast-demo-leftover-${Math.random().toString(36).slice(2, 8)}`,
      Cmd: ["sleep", "600"],
      Labels: { "ott.role": "payment", "chaoscast.demo": "1", "chaoscast.demo.pid": String(dead.pid), "chaoscast.demo.host": hostname() },
      HostConfig: { NetworkMode: "none" },
    });
    await leftover.start();

    const down = await runCli(["demo", "down"], { cwd: workdir() });
    expect(down.exitCode, down.all).toBe(0);
    expect(down.all).toContain("Removed 1 container(s) an earlier demo left behind: chaoscast-demo-leftover-");
    expect(down.all).toContain(`Stopping the demo stack of chaoscast pid ${demo!.pid}`);
    expect((await demo)!.exitCode).toBe(0);
    const left = await docker.listContainers({ all: true, filters: JSON.stringify({ label: ["chaoscast.demo=1"] }) });
    expect(left).toEqual([]);
  }, 60_000);
});
