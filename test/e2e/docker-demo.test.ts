// The game-day check: `chaoscast demo up --docker` runs payment and recommendations as
// containers, and experiments/docker/ kills the payment container: playback stays healthy
// (passed) and the container is running again afterwards.

import { execa } from "execa";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineAvailable, ensureImages } from "../helpers/docker.js";
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
    await waitForOutput(demo, "Run an experiment against it");
  }, 120_000);
  afterAll(async () => {
    demo?.kill("SIGTERM");
    await demo;
  });

  it("kills the payment container without hurting playback, and it runs again afterwards", async () => {
    const vars = [...output.matchAll(/--var (\w+=\S+)/g)].map((m) => m[1]!).filter((v) => !v.startsWith("duration="));
    const dir = workdir();
    const run = await runCli(["run", `${ROOT}/experiments/docker`, ...vars.flatMap((v) => ["--var", v]), "--var", "duration=6s", "--yes"], { cwd: dir });
    expect(run.exitCode, run.all).toBe(0);
    expect(readJournals(dir).map((j) => (j as { outcome: string }).outcome)).toEqual(["passed"]);
    const [payment] = await new Docker().listContainers({ filters: JSON.stringify({ label: ["ott.role=payment", "chaoscast.demo=1"] }) });
    expect(payment?.State).toBe("running");
  }, 90_000);

  it("removes its containers when the stack stops", async () => {
    demo!.kill("SIGTERM");
    await demo;
    const left = await new Docker().listContainers({ all: true, filters: JSON.stringify({ label: ["chaoscast.demo=1"] }) });
    expect(left).toEqual([]);
  }, 30_000);
});
