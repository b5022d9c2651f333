import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { lockFileOf } from "../../src/engine/lock.js";
import { readJournals, runCli, waitForOutput, workdir, writeExperiment, CLI } from "../helpers/processes.js";

const experiment = (title: string, lock?: string, duration = "1500ms") => `version: 1
title: ${title}
${lock ? `lock: ${lock}\n` : ""}duration: ${duration}
faults:
  - { name: touch, action: command.run, with: { command: ["true"] } }
`;

function startRun(dir: string, file: string) {
  return execa(process.execPath, [CLI, "run", file, "--yes"], { cwd: dir, env: { CI: "1", NO_COLOR: "1", CHAOSCAST_DIR: path.join(dir, ".chaoscast") }, reject: false, stdin: "ignore", all: true });
}

describe("run locks", () => {
  it("skips a second run of the same experiment while the first holds its lock", async () => {
    const dir = workdir();
    // Held long enough for a second CLI to start on a loaded machine.
    writeExperiment(dir, "exp.yaml", experiment("locked", undefined, "8s"));
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
    writeExperiment(dir, "exp.yaml", experiment("queued", undefined, "6s"));
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
    writeExperiment(dir, "a.yaml", experiment("edge a", "edge", "8s"));
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

  it("lets exactly one of several runs take over a stale lock at once", async () => {
    const dir = workdir();
    // Long enough that every contender starts while the winner still holds the lock.
    const file = writeExperiment(dir, "exp.yaml", experiment("race", "race").replace("duration: 1500ms", "duration: 6s"));
    const dead = await execa(process.execPath, ["-e", "console.log(process.pid)"]);
    const locks = path.join(dir, ".chaoscast", "locks");
    mkdirSync(locks, { recursive: true });
    const holder = { scope: 'lock "race"', runId: "crashed-run", experiment: file, owner: { pid: Number(dead.stdout), startTime: "1", host: hostname() }, acquiredAt: "2026-11-24T00:00:00Z" };
    writeFileSync(lockFileOf(locks, 'lock "race"'), JSON.stringify(holder));
    const runs = await Promise.all(Array.from({ length: 6 }, () => runCli(["run", "exp.yaml", "--yes"], { cwd: dir })));
    expect(runs.map((r) => r.exitCode).sort()).toEqual([0, 5, 5, 5, 5, 5]);
    expect(runs.filter((r) => r.all.includes("taking over a stale lock"))).toHaveLength(1);
  });

  it("refuses, without spinning, a stale lock it cannot remove", async () => {
    const dir = workdir();
    const file = writeExperiment(dir, "exp.yaml", experiment("stuck"));
    const lock = lockFileOf(path.join(dir, ".chaoscast", "locks"), file);
    mkdirSync(path.join(lock, "not-empty"), { recursive: true });
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    const run = await runCli(["run", "exp.yaml", "--yes"], { cwd: dir });
    expect(run.exitCode).toBe(5);
    expect(run.all).toMatch(/cannot take over the stale lock .*; remove it by hand/);
  });
});
