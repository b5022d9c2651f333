import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { CLI, pollUntil, processState, readJournals, readJournalsSafe, waitForOutput, runCli, startServer, workdir, writeExperiment, type TestServer } from "../helpers/processes.js";

type Event = { type: string; t: number; at: string; [key: string]: unknown };

let server: TestServer;
let dir: string;

beforeEach(async () => {
  server = await startServer();
  dir = workdir();
});
afterEach(async () => {
  await server.stop();
});

const healthProbe = (port: number, timeout = "1s") => `steadyState:
  - name: health answers quickly
    probe: http
    with: { url: "http://127.0.0.1:${port}/health", timeout: ${timeout} }
    expect: { status: 200, latencyMs: "< 250" }
`;

describe("chaoscast run against a real local HTTP server", () => {
  it("aborts within two probe intervals when the server is frozen, resumes it, and exits 2", async () => {
    const file = writeExperiment(
      dir,
      "freeze.yaml",
      `version: 1
title: Freeze the API
duration: 20s
targets:
  api: { process: { port: ${server.port} } }
${healthProbe(server.port)}abort: { interval: 300ms, after: 2 }
faults:
  - { name: freeze, target: api, action: process.suspend, at: 500ms }
recovery: { timeout: 5s }
`,
    );
    const result = await runCli(["run", file], { cwd: dir });
    expect(result.exitCode, result.all).toBe(2);
    expect(result.all).toMatch(/ABORTED \(exit 2\)/);
    expect(processState(server.pid)).not.toBe("T");
    expect((await fetch(`${server.url}/health`)).status).toBe(200);

    const [journal] = readJournals(dir);
    const events = journal!.events as Event[];
    expect(journal).toMatchObject({ outcome: "aborted", exitCode: 2, recovered: true });
    expect(journal!.faults).toMatchObject([{ fault: "freeze", action: "process.suspend", status: "reverted" }]);
    const firstBreach = events.find((e) => e.type === "observation" && e.phase === "method" && e.ok === false)!;
    const abort = events.find((e) => e.type === "abort")!;
    const reverted = events.find((e) => e.type === "fault-reverted")!;
    expect(abort.t - firstBreach.t).toBeLessThanOrEqual(2 * 300);
    expect(firstBreach.failures).toEqual(["no answer within one abort interval (300ms)"]);
    expect(reverted.t).toBeGreaterThanOrEqual(abort.t);
    // The journal shows each step in order.
    const order = ["run-started", "targets-resolved", "fault-injected", "breach", "abort", "fault-reverted", "run-finished"].map((type) => events.findIndex((e) => e.type === type));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(order.every((i) => i >= 0)).toBe(true);
  });

  it("passes and exits 0 when the hypothesis holds, undoing a command fault", async () => {
    const marker = path.join(dir, "maintenance-flag");
    const file = writeExperiment(
      dir,
      "pass.yaml",
      `version: 1
title: A flag file does not hurt the API
duration: 1s
${healthProbe(server.port)}abort: { interval: 200ms }
faults:
  - name: raise the flag
    action: command.run
    with: { command: ["touch", "${marker}"], revert: ["rm", "-f", "${marker}"] }
recovery: { timeout: 2s }
`,
    );
    const result = await runCli(["run", file], { cwd: dir });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toMatch(/PASSED \(exit 0\)/);
    expect(existsSync(marker)).toBe(false);
    expect(readJournals(dir)[0]).toMatchObject({ outcome: "passed", faults: [{ status: "reverted" }] });
  });

  it("reports a deviation (exit 1) when the service does not come back", async () => {
    const file = writeExperiment(
      dir,
      "kill.yaml",
      `version: 1
title: Killing the only instance is survivable (it is not)
duration: 1s
targets:
  api: { process: { pid: ${server.pid} } }
${healthProbe(server.port)}abort: { interval: 200ms, after: 100 }
faults:
  - { name: kill, target: api, action: process.kill }
recovery: { timeout: 1s }
`,
    );
    const result = await runCli(["run", file], { cwd: dir });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.all).toMatch(/DEVIATED \(exit 1\)/);
    expect(processState(server.pid)).toBeUndefined();
  });

  it("skips (exit 5) and injects nothing when the steady state does not hold before", async () => {
    const marker = path.join(dir, "must-not-exist");
    const file = writeExperiment(
      dir,
      "skip.yaml",
      `version: 1
title: Nothing listens on port 1
duration: 1s
steadyState:
  - { name: nothing there, probe: tcp, with: { port: 1, timeout: 300ms } }
faults:
  - { name: touch, action: command.run, with: { command: ["touch", "${marker}"] } }
`,
    );
    const result = await runCli(["run", file], { cwd: dir });
    expect(result.exitCode, result.all).toBe(5);
    expect(result.all).toMatch(/SKIPPED \(exit 5\) not in steady state before the method/);
    expect(existsSync(marker)).toBe(false);
  });

  it("exits 3 and names what is still injected when a revert fails", async () => {
    const file = writeExperiment(
      dir,
      "stuck.yaml",
      `version: 1
title: A revert that cannot work
duration: 300ms
faults:
  - name: stuck switch
    action: command.run
    with: { command: ["true"], revert: ["false"] }
`,
    );
    const result = await runCli(["run", file], { cwd: dir });
    expect(result.exitCode, result.all).toBe(3);
    expect(result.all).toMatch(/ROLLBACK-FAILED \(exit 3\)/);
    expect(result.all).toMatch(/Still injected — fix by hand: stuck switch \(run false\)/);
  }, 40_000);

  it("rolls back before exiting when interrupted with SIGINT in the middle of a run", async () => {
    const file = writeExperiment(
      dir,
      "long.yaml",
      `version: 1
title: A long freeze, interrupted
duration: 60s
targets:
  api: { process: { port: ${server.port} } }
abort: { interval: 250ms, after: 1000 }
faults:
  - { name: freeze, target: api, action: process.suspend }
`,
    );
    const child = runCli(["run", file], { cwd: dir });
    await waitForOutput(child, "injected freeze");
    expect(processState(server.pid)).toBe("T");
    child.kill("SIGINT");
    const result = await child;
    expect(result.exitCode, result.all).toBe(2);
    expect(result.all).toMatch(/SIGINT: rolling back/);
    expect(result.all).toMatch(/reverted freeze/);
    expect(processState(server.pid)).not.toBe("T");
    expect(readJournals(dir)[0]).toMatchObject({ outcome: "aborted", reason: expect.stringMatching(/interrupted by SIGINT/) });
  });

  it("rolls back before exiting on SIGTERM too (as a scheduler stopping the job would send)", async () => {
    const file = writeExperiment(
      dir,
      "term.yaml",
      `version: 1
title: A freeze stopped by the scheduler
duration: 60s
targets:
  api: { process: { port: ${server.port} } }
faults:
  - { name: freeze, target: api, action: process.suspend }
`,
    );
    const child = runCli(["run", file, "--output", "jsonl"], { cwd: dir });
    await waitForOutput(child, '"fault-injected"');
    child.kill("SIGTERM");
    const result = await child;
    expect(result.exitCode, result.all).toBe(2);
    expect(processState(server.pid)).not.toBe("T");
    expect(result.stdout).toContain('"type":"fault-reverted"');
  });

  it("refuses to start when the journal cannot be written, before touching anything", async () => {
    const file = writeExperiment(dir, "j.yaml", `version: 1\ntitle: j\nduration: 1s\ntargets:\n  api: { process: { port: ${server.port} } }\nfaults:\n  - { name: freeze, target: api, action: process.suspend }\n`);
    writeExperiment(dir, "not-a-dir", "");
    const result = await runCli(["run", file, "--journal", "not-a-dir/run.json"], { cwd: dir });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toMatch(/--journal not-a-dir\/run\.json: cannot write to not-a-dir/);
    expect(readJournalsSafe(dir)).toEqual([]);
  });

  it("leaves alone a process that someone else had already stopped", async () => {
    process.kill(server.pid, "SIGSTOP");
    try {
      const file = writeExperiment(dir, "taken.yaml", `version: 1\ntitle: t\nduration: 1s\ntargets:\n  api: { process: { pid: ${server.pid} } }\nfaults:\n  - { name: freeze, target: api, action: process.suspend }\n`);
      const result = await runCli(["run", file], { cwd: dir });
      expect(result.exitCode, result.all).toBe(2);
      expect(result.all).toMatch(/is already stopped; chaoscast will not take over a freeze it did not make/);
      expect(processState(server.pid)).toBe("T");
    } finally {
      process.kill(server.pid, "SIGCONT");
    }
  });

  it("keeps rolling back when its output pipe is closed (chaoscast run … | head)", async () => {
    const file = writeExperiment(dir, "pipe.yaml", `version: 1\ntitle: p\nduration: 1500ms\ntargets:\n  api: { process: { port: ${server.port} } }\nabort: { interval: 100ms, after: 1000 }\n${healthProbe(server.port)}faults:\n  - { name: freeze, target: api, action: process.suspend }\n`);
    const child = runCli(["run", file], { cwd: dir });
    await waitForOutput(child, "injected freeze");
    child.stdout!.destroy();
    const result = await child;
    expect(processState(server.pid)).not.toBe("T");
    expect(result.stderr).not.toMatch(/bug in chaoscast|EPIPE/);
    expect(readJournals(dir)[0]).toMatchObject({ faults: [{ status: "reverted" }] });
  });

  it("rolls back by itself when the process that started it exits (an orphaned run)", async () => {
    const file = writeExperiment(dir, "orphan.yaml", `version: 1\ntitle: o\nduration: 60s\ntargets:\n  api: { process: { port: ${server.port} } }\nfaults:\n  - { name: freeze, target: api, action: process.suspend }\n`);
    // A launcher that starts chaoscast detached and exits once the fault is in, as a killed npx or
    // CI runner would. (Waiting for the fault, not for a fixed time, keeps a slow start on a busy
    // machine from turning this into a test of an orphan that never had a fault.)
    const launcher = `const { spawn } = require("node:child_process");
      const { readFileSync } = require("node:fs");
      const child = spawn(process.execPath, [process.argv[1], "run", process.argv[2]], { detached: true, stdio: "ignore", env: { ...process.env, CI: "1" } });
      child.unref();
      const stopped = () => readFileSync("/proc/" + process.argv[3] + "/stat", "utf8").split(") ")[1].startsWith("T");
      const deadline = Date.now() + 20000;
      const wait = setInterval(() => { if (stopped() || Date.now() > deadline) { clearInterval(wait); process.exit(0); } }, 50);`;
    await execa(process.execPath, ["-e", launcher, CLI, file, String(server.pid)], { cwd: dir, env: { CHAOSCAST_DIR: path.join(dir, ".chaoscast") } });
    expect(processState(server.pid)).toBe("T");
    await pollUntil(() => readJournalsSafe(dir).length > 0, 10_000);
    expect(processState(server.pid)).not.toBe("T");
    expect(readJournals(dir)[0]).toMatchObject({ outcome: "aborted", reason: expect.stringMatching(/the process that started chaoscast exited/) });
  });

  it("drives a service through http.request and undoes it with the revert request", async () => {
    const file = writeExperiment(
      dir,
      "flag.yaml",
      `version: 1
title: Breaking the health switch is noticed
duration: 10s
${healthProbe(server.port)}abort: { interval: 200ms, after: 2 }
faults:
  - name: break health
    action: http.request
    with: { url: "${server.url}/admin/break", method: POST, revert: { url: "${server.url}/admin/repair", method: POST } }
recovery: { timeout: 3s }
`,
    );
    const result = await runCli(["run", file], { cwd: dir });
    expect(result.exitCode, result.all).toBe(2);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it("never prints or journals a secret read from the environment", async () => {
    const secret = "tok-9f8e7d6c5b4a";
    const file = writeExperiment(
      dir,
      "secret.yaml",
      `version: 1
title: Authenticated health check
duration: 300ms
steadyState:
  - name: health with token
    probe: http
    with: { url: "http://127.0.0.1:${server.port}/health?token=\${env:API_TOKEN}", headers: { authorization: "Bearer \${env:API_TOKEN}" } }
faults:
  - { name: echo, action: command.run, with: { command: ["sh", "-c", "exit 3", "\${env:API_TOKEN}"] } }
`,
    );
    const result = await runCli(["run", file, "--output", "jsonl"], { cwd: dir, env: { API_TOKEN: secret } });
    expect(result.all).not.toContain(secret);
    const journal = JSON.stringify(readJournals(dir)[0]);
    expect(journal).not.toContain(secret);
    expect(journal).toContain("${env:API_TOKEN}");
  });

  it("streams every event as one JSON object per line with --output jsonl", async () => {
    const file = writeExperiment(dir, "jsonl.yaml", `version: 1\ntitle: jsonl\nduration: 300ms\n${healthProbe(server.port)}faults:\n  - { name: noop, action: command.run, with: { command: ["true"] } }\n`);
    const result = await runCli(["run", file, "--output", "jsonl"], { cwd: dir });
    expect(result.exitCode, result.all).toBe(0);
    const events = result.stdout.trim().split("\n").map((line) => JSON.parse(line) as Event);
    expect(events[0]!.type).toBe("run-started");
    expect(events.at(-1)).toMatchObject({ type: "run-finished", outcome: "passed", exitCode: 0 });
  });
});
