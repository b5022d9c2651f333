import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { lockFileOf } from "../../src/engine/lock.js";
import { readJournals, runCli, waitForOutput, workdir, writeExperiment, CLI } from "../helpers/processes.js";

const experiment = (title: string, lock?: string) => `version: 1
title: ${title}
${lock ? `lock: ${lock}\n` : ""}duration: 1500ms
faults:
  - { name: touch, action: command.run, with: { command: ["true"] } }
`;

function startRun(dir: string, file: string) {
  return execa(process.execPath, [CLI, "run", file, "--yes"], { cwd: dir, env: { CI: "1", NO_COLOR: "1" }, reject: false, stdin: "ignore", all: true });
}

describe("run locks", () => {
  it("skips a second run of the same experiment while the first holds its lock", async () => {
    const dir = workdir();
    writeExperiment(dir, "exp.yaml", experiment("locked"));
    const first = startRun(dir, "exp.yaml");
    await waitForOutput(first, "injected touch");
    const second = await runCli(["run", "exp.yaml", "--yes"], { cwd: dir });
    expect(second.exitCode).toBe(5);
    expect(second.all).toMatch(/the lock for .*exp\.yaml is held by run \S+-locked-\S+ \(pid \d+/);
    expect(second.all).toContain("--wait-lock");
    expect((await first).exitCode).toBe(0);
  });

  it("waits for the lock with --wait-lock, then runs", async () => {
    const dir = workdir();
    writeExperiment(dir, "exp.yaml", experiment("queued"));
    const first = startRun(dir, "exp.yaml");
    await waitForOutput(first, "injected touch");
    const second = await runCli(["run", "exp.yaml", "--yes", "--wait-lock", "20s"], { cwd: dir });
    expect(second.all).toMatch(/waiting up to 20s for the lock/);
    expect(second.exitCode).toBe(0);
    expect((await first).exitCode).toBe(0);
    expect(readJournals(dir).map((j) => (j as { outcome: string }).outcome)).toEqual(["passed", "passed"]);
  });

  it("shares one scope between files that name the same lock", async () => {
    const dir = workdir();
    writeExperiment(dir, "a.yaml", experiment("edge a", "edge"));
    writeExperiment(dir, "b.yaml", experiment("edge b", "edge"));
    const first = startRun(dir, "a.yaml");
    await waitForOutput(first, "injected touch");
    const second = await runCli(["run", "b.yaml", "--yes"], { cwd: dir });
    expect(second.exitCode).toBe(5);
    expect(second.all).toContain('the lock for lock "edge" is held by run');
    await first;
  });

  it("takes over a stale lock whose owner has died, with a warning", async () => {
    const dir = workdir();
    const file = writeExperiment(dir, "exp.yaml", experiment("stale"));
    const dead = await execa(process.execPath, ["-e", "console.log(process.pid)"]);
    const locks = path.join(dir, ".chaoscast", "locks");
    mkdirSync(locks, { recursive: true });
    const holder = { scope: file, runId: "crashed-run", experiment: file, owner: { pid: Number(dead.stdout), startTime: "1", host: (await import("node:os")).hostname() }, acquiredAt: "2026-11-24T00:00:00Z" };
    writeFileSync(lockFileOf(locks, file), JSON.stringify(holder));
    const run = await runCli(["run", "exp.yaml", "--yes"], { cwd: dir });
    expect(run.exitCode).toBe(0);
    expect(run.all).toMatch(/taking over a stale lock .* held by run crashed-run \(pid \d+.*no longer running/);
  });

  it("rejects a --wait-lock that is not a duration", async () => {
    const dir = workdir();
    writeExperiment(dir, "exp.yaml", experiment("bad flag"));
    const run = await runCli(["run", "exp.yaml", "--yes", "--wait-lock", "forever"], { cwd: dir });
    expect(run.exitCode).toBe(4);
    expect(run.all).toContain("--wait-lock forever: expected a duration");
  });
});
