// The big red switch and the guards: `chaoscast halt` from a second terminal ends a long run with
// everything reverted; a guard file, a guard URL that stops answering 2xx, and the halt file stop
// runs as a breach would, and keep new ones from starting.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { processState, readJournals, runCli, startServer, waitForOutput, workdir, writeExperiment, type TestServer } from "../helpers/processes.js";

let server: TestServer;
let dir: string;

beforeEach(async () => {
  server = await startServer();
  dir = workdir();
});
afterEach(async () => {
  await server.stop();
});

const longFreeze = (port: number) => `version: 1
title: A long freeze
duration: 60s
targets:
  api: { process: { port: ${port} } }
abort: { interval: 500ms, after: 1000 }
faults:
  - { name: freeze, target: api, action: process.suspend, at: 200ms }
recovery: { timeout: 5s }
`;

describe("chaoscast halt", () => {
  it("from a second terminal ends a long run with everything reverted, and no run starts until --clear", async () => {
    const file = writeExperiment(dir, "long.yaml", longFreeze(server.port));
    const run = runCli(["run", "--yes", file], { cwd: dir });
    await waitForOutput(run, "injected freeze", 30_000);
    expect(processState(server.pid)).toBe("T");
    const halted = performance.now();
    const halt = await runCli(["halt", "--reason", "incident INC-42"], { cwd: dir });
    const result = await run;
    const ms = Math.round(performance.now() - halted);
    expect(halt.exitCode, halt.all).toBe(0);
    expect(halt.stdout).toMatch(/rolled back and ended \d+ ms after the halt/);
    expect(result.exitCode, result.all).toBe(2);
    expect(processState(server.pid)).not.toBe("T");
    // Whichever reaches the run first, halt's SIGTERM or the halt file, its reason carries the halt's line.
    expect(readJournals(dir)[0]).toMatchObject({ outcome: "aborted", faults: [{ status: "reverted" }], reason: expect.stringMatching(/chaoscast halt.*: halted .* incident INC-42/) });
    process.stderr.write(`  halt → run ended, everything reverted: ${ms} ms (halt command included)\n`);

    // While the halt is in force, nothing starts; --clear lifts it.
    const blocked = await runCli(["run", "--yes", file], { cwd: dir });
    expect(blocked.exitCode, blocked.all).toBe(5);
    expect(blocked.all).toMatch(/halted: the guard file .*halt exists \(chaoscast halt\): halted .* incident INC-42/);
    expect(processState(server.pid)).not.toBe("T");
    expect((await runCli(["halt", "--clear"], { cwd: dir })).stdout).toMatch(/Halt lifted/);
    const again = await runCli(["run", "--yes", "--dry-run", file], { cwd: dir });
    expect(again.exitCode, again.all).toBe(0);
  });
});

describe("chaoscast halt before the method", () => {
  it("stops a run still checking its steady state (no state file yet, only its lock): nothing is injected", async () => {
    const slow = longFreeze(server.port).replace("abort: { interval: 500ms, after: 1000 }", `steadyState:\n  - { name: slow check, probe: http, with: { url: "http://127.0.0.1:${server.port}/slow?ms=3000", timeout: 5s }, expect: { status: 200 } }\nabort: { interval: 5s, after: 1000 }`);
    const file = writeExperiment(dir, "slow.yaml", slow);
    const run = runCli(["run", "--yes", file], { cwd: dir });
    await waitForOutput(run, "Steady state before", 30_000);
    const halt = await runCli(["halt"], { cwd: dir });
    const result = await run;
    expect(halt.exitCode, halt.all).toBe(0);
    expect(halt.stdout).toMatch(/SIGTERM sent to pid \d+/);
    expect(result.exitCode, result.all).toBe(5);
    expect(result.all).not.toMatch(/injected freeze/);
    expect(processState(server.pid)).not.toBe("T");
    await runCli(["halt", "--clear"], { cwd: dir });
  });
});

describe("guards", () => {
  it("a guard file in the policy aborts a running experiment as a breach would", async () => {
    const switchFile = path.join(dir, "no-chaos-now");
    writeFileSync(path.join(dir, ".chaoscast.yaml"), `policy:\n  guards:\n    - file: ${switchFile}\n`);
    const file = writeExperiment(dir, "long.yaml", longFreeze(server.port));
    const run = runCli(["run", "--yes", file], { cwd: dir });
    await waitForOutput(run, "injected freeze", 30_000);
    writeFileSync(switchFile, "the live finale is on\n");
    const result = await run;
    expect(result.exitCode, result.all).toBe(2);
    expect(result.all).toMatch(/abort: halted by a guard: the guard file .*no-chaos-now exists \(.*\.chaoscast\.yaml.*\): the live finale is on/);
    expect(processState(server.pid)).not.toBe("T");
  });

  it("a guard URL that stops answering 2xx keeps a run from starting, and one that cannot be reached too", async () => {
    let status = 503;
    const alarm = http.createServer((_req, res) => {
      res.statusCode = status;
      res.end();
    });
    await new Promise<void>((resolve) => alarm.listen(0, "127.0.0.1", resolve));
    const port = (alarm.address() as AddressInfo).port;
    try {
      writeFileSync(path.join(dir, ".chaoscast.yaml"), `policy:\n  guards:\n    - http: { url: "http://127.0.0.1:${port}/chaos-allowed" }\n`);
      const file = writeExperiment(dir, "short.yaml", longFreeze(server.port).replace("duration: 60s", "duration: 1s"));
      const refused = await runCli(["run", "--yes", file], { cwd: dir });
      expect(refused.exitCode, refused.all).toBe(5);
      expect(refused.all).toMatch(/the guard URL http:\/\/127\.0\.0\.1:\d+\/chaos-allowed answered 503, not 2xx/);
      expect(processState(server.pid)).not.toBe("T");
      status = 200;
      const allowed = await runCli(["run", "--yes", file], { cwd: dir });
      expect(allowed.exitCode, allowed.all).toBe(0);
    } finally {
      alarm.close();
    }
    const unreachable = await runCli(["run", "--yes", path.join(dir, "short.yaml")], { cwd: dir });
    expect(unreachable.exitCode, unreachable.all).toBe(5);
    expect(unreachable.all).toMatch(/did not answer .*a guard that cannot be checked says no/);
  });
});
