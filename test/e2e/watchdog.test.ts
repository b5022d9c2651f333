import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { pollUntil, processState, readJournalsSafe, runCli, startServer, waitForOutput, workdir, writeExperiment, type TestServer } from "../helpers/processes.js";

let server: TestServer;
let dir: string;

beforeEach(async () => {
  server = await startServer();
  dir = workdir();
});
afterEach(async () => {
  if (processState(server.pid) === "T") process.kill(server.pid, "SIGCONT");
  await server.stop();
});

const freezeFor = (duration: string) => `version: 1\ntitle: watched freeze\nduration: ${duration}\ntargets:\n  api: { process: { port: ${server.port} } }\nfaults:\n  - { name: freeze, target: api, action: process.suspend }\n`;

/** Pids of watchdog processes guarding runs whose state lives in `dir`. */
function watchdogsOf(runPid: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0");
      if (argv.includes("chaoscast-watchdog") && argv.includes(String(runPid))) found.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

function watchdogLog(): Record<string, unknown>[] {
  try {
    return readFileSync(path.join(dir, ".chaoscast", "watchdog.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  } catch {
    return [];
  }
}

describe.skipIf(process.platform !== "linux")("the run's watchdog", () => {
  it("reverts the faults of a run killed with SIGKILL, with no one running rollback, and writes its journal", async () => {
    const child = runCli(["run", writeExperiment(dir, "kill.yaml", freezeFor("60s")), "--yes"], { cwd: dir });
    await waitForOutput(child, "injected freeze");
    expect(processState(server.pid)).toBe("T");
    const runPid = child.pid!;
    expect(watchdogsOf(runPid)).toHaveLength(1);
    child.kill("SIGKILL");
    await child;
    await pollUntil(() => processState(server.pid) !== "T", 10_000);
    // The watchdog writes the journal, then its own log line (which names the journal), then exits:
    // its exit is the one signal that all of it is on disk.
    await pollUntil(() => watchdogsOf(runPid).length === 0, 10_000);
    const [journal] = readJournalsSafe(dir);
    expect(journal).toMatchObject({ outcome: "aborted", reason: expect.stringMatching(/died before it finished rolling back; the watchdog reverted 1 of 1 fault/) });
    expect((journal!.events as { type: string }[]).map((e) => e.type)).toEqual(expect.arrayContaining(["run-started", "fault-injected", "watchdog", "fault-reverted", "run-finished"]));
    expect(readdirSync(path.join(dir, ".chaoscast", "state"))).toEqual([]);
    expect(watchdogLog()).toEqual([expect.objectContaining({ reverted: [expect.stringMatching(/^freeze on /)], failed: [] })]);
    // What happened is the first thing the next rollback says; there is nothing left to do.
    const rollback = await runCli(["rollback", "--dry-run"], { cwd: dir });
    expect(rollback.exitCode, rollback.all).toBe(0);
    expect(rollback.stdout).toMatch(/the watchdog of run .* took over .*died before it finished rolling back; 1 fault\(s\) reverted/);
  });

  it("ends a run that stops responding (a stopped process) after the hang bound and reverts its faults", async () => {
    const child = runCli(["run", writeExperiment(dir, "hang.yaml", freezeFor("60s")), "--yes", "--watchdog", "1s"], { cwd: dir });
    await waitForOutput(child, "injected freeze");
    process.kill(child.pid!, "SIGSTOP");
    await pollUntil(() => processState(server.pid) !== "T", 10_000);
    const result = await child;
    expect(result.signal).toBe("SIGKILL");
    await pollUntil(() => readJournalsSafe(dir).length > 0, 10_000);
    expect(readJournalsSafe(dir)[0]).toMatchObject({ outcome: "aborted", reason: expect.stringMatching(/stopped responding: no heartbeat .* ended it with SIGKILL/) });
  });

  it("ends with the run when the run ends normally, leaving no process and no record behind", async () => {
    const child = runCli(["run", writeExperiment(dir, "ok.yaml", freezeFor("300ms")), "--yes"], { cwd: dir });
    await waitForOutput(child, "injected freeze");
    const runPid = child.pid!;
    const result = await child;
    expect(result.exitCode, result.all).toBe(0);
    await pollUntil(() => watchdogsOf(runPid).length === 0, 5_000);
    expect(watchdogLog()).toEqual([]);
    expect(readJournalsSafe(dir)[0]).toMatchObject({ outcome: "passed" });
  });

  it("is not started with --watchdog off, and refuses a bound too short to tell a pause from a hang", async () => {
    const child = runCli(["run", writeExperiment(dir, "off.yaml", freezeFor("300ms")), "--yes", "--watchdog", "off"], { cwd: dir });
    await waitForOutput(child, "injected freeze");
    expect(watchdogsOf(child.pid!)).toEqual([]);
    expect((await child).exitCode).toBe(0);
    const short = await runCli(["run", path.join(dir, "off.yaml"), "--yes", "--watchdog", "200ms"], { cwd: dir });
    expect(short.exitCode).toBe(4);
    expect(short.stderr).toMatch(/--watchdog 200ms: at least 1s/);
  });
});
