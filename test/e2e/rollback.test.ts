// `chaoscast rollback` as a user meets it after a crash: the warning on the next run, --dry-run,
// a revert that cannot be done yet (exit 3, kept on record) and the retry that finishes it.

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { startProxyServer } from "../../src/proxy/server.js";
import { CLI, freePort, processState, runCli, startServer, waitForOutput, workdir, writeExperiment } from "../helpers/processes.js";
import { holdsFor } from "../helpers/poll.js";

/** Start a run of `file` without its watchdog and SIGKILL it once it has printed `after`: what is left is rollback's to undo. */
async function crashRun(dir: string, file: string, after: string): Promise<void> {
  const child = execa(process.execPath, [CLI, "run", file, "--yes", "--watchdog", "off"], { cwd: dir, env: { CI: "1", NO_COLOR: "1", CHAOSCAST_DIR: path.join(dir, ".chaoscast") }, reject: false, stdin: "ignore" });
  await waitForOutput(child, after);
  child.kill("SIGKILL");
  await child;
}

describe("chaoscast rollback", () => {
  it("shows what a killed run left, warns the next run about it, and reverts it", async () => {
    const server = await startServer();
    try {
      const dir = workdir();
      writeExperiment(dir, "freeze.yaml", `version: 1\ntitle: freeze\nduration: 30s\ntargets:\n  s: { process: { pid: ${server.pid} } }\nfaults:\n  - { name: freeze it, action: process.suspend, target: s }\n`);
      await crashRun(dir, "freeze.yaml", "injected freeze it");
      expect(processState(server.pid)).toBe("T");

      // A gate for CI: --dry-run exits 3 while a fault is in effect.
      const dry = await runCli(["rollback", "--dry-run"], { cwd: dir });
      expect(dry.exitCode).toBe(3);
      expect(dry.all).toMatch(/in effect\s+freeze it on \S+ \(pid \d+\): \S+ \(pid \d+\) is still stopped; revert: send SIGCONT/);
      expect(processState(server.pid)).toBe("T");

      writeExperiment(dir, "other.yaml", `version: 1\ntitle: other\nduration: 100ms\nfaults:\n  - { name: noop, action: command.run, with: { command: ["true"] } }\n`);
      const next = await runCli(["run", "other.yaml", "--yes"], { cwd: dir });
      expect(next.all).toContain("warning: 1 earlier run(s) left 1 fault(s) that may still be injected");

      const unknown = await runCli(["rollback", "--run", "no-such-run"], { cwd: dir });
      expect(unknown.exitCode).toBe(4);
      expect(unknown.all).toMatch(/--run no-such-run: no state for that run .*runs with state: \S+-freeze-/);

      const rollback = await runCli(["rollback", "--output", "json"], { cwd: dir });
      expect(rollback.exitCode).toBe(0);
      const report = JSON.parse(rollback.stdout) as { runs: { reverted: { fault: string }[]; failed: unknown[] }[] };
      expect(report.runs[0]).toMatchObject({ reverted: [{ fault: "freeze it" }], failed: [] });
      expect(processState(server.pid)).not.toBe("T");
    } finally {
      await server.stop();
    }
  });

  it("exits 3 naming what it cannot revert, keeps it on record, and finishes the job later", async () => {
    const upstream = await startServer();
    const apiPort = await freePort();
    const api = `127.0.0.1:${apiPort}`;
    let proxy = await startProxyServer({ api, proxies: [{ name: "edge", upstream: `127.0.0.1:${upstream.port}` }] });
    try {
      const dir = workdir();
      writeExperiment(dir, "slow.yaml", `version: 1\ntitle: slow edge\nduration: 30s\ntargets:\n  edge: { proxy: { name: edge, api: "${api}", lease: 60s } }\nfaults:\n  - { name: slow edge, action: proxy.latency, target: edge, with: { latency: 100ms } }\n`);
      await crashRun(dir, "slow.yaml", "injected slow edge");
      expect(proxy.collection.get("edge").listToxics()).toHaveLength(1);

      // The fault proxy is unreachable: the toxic's removal cannot be done, or checked.
      await proxy.close();
      const failed = await runCli(["rollback"], { cwd: dir });
      expect(failed.exitCode).toBe(3);
      expect(failed.all).toMatch(/✖ STILL INJECTED slow edge on proxy edge .*: no fault proxy answers at 127\.0\.0\.1:\d+/);
      expect(failed.all).toContain(`they are still recorded in ${path.join(dir, ".chaoscast", "state")}, so \`chaoscast rollback\` can try again`);

      // Back again (a fresh proxy has no toxics): the retry confirms the toxic is gone and clears the record.
      proxy = await startProxyServer({ api, proxies: [{ name: "edge", upstream: `127.0.0.1:${upstream.port}` }] });
      const retried = await runCli(["rollback"], { cwd: dir });
      expect(retried.exitCode, retried.all).toBe(0);
      expect(retried.all).toContain("slow edge on proxy edge");
      expect((await runCli(["rollback"], { cwd: dir })).all).toContain("Nothing to roll back");
    } finally {
      await proxy.close();
      await upstream.stop();
    }
  });

  it("forgets one run's record on request, reverting nothing and saying what the user now owns", async () => {
    const upstream = await startServer();
    const api = `127.0.0.1:${await freePort()}`;
    const proxy = await startProxyServer({ api, proxies: [{ name: "edge", upstream: `127.0.0.1:${upstream.port}` }] });
    try {
      const dir = workdir();
      writeExperiment(dir, "slow.yaml", `version: 1\ntitle: slow edge\nduration: 30s\ntargets:\n  edge: { proxy: { name: edge, api: "${api}", lease: 60s } }\nfaults:\n  - { name: slow edge, action: proxy.latency, target: edge, with: { latency: 100ms } }\n`);
      await crashRun(dir, "slow.yaml", "injected slow edge");
      await proxy.close(); // gone for good: the revert can never be done
      expect((await runCli(["rollback"], { cwd: dir })).exitCode).toBe(3);

      const unscoped = await runCli(["rollback", "--forget"], { cwd: dir });
      expect(unscoped.exitCode).toBe(4);
      expect(unscoped.all).toContain("--forget needs --run <id>");
      const runId = readdirSync(path.join(dir, ".chaoscast", "state")).find((f) => f.endsWith(".json"))!.replace(/\.json$/, "");
      const forgot = await runCli(["rollback", "--run", runId, "--forget"], { cwd: dir });
      expect(forgot.exitCode, forgot.all).toBe(0);
      expect(forgot.all).toMatch(/! slow edge on proxy edge .*: not reverted by chaoscast; make sure it is undone \(remove toxic/);
      expect((await runCli(["rollback"], { cwd: dir })).all).toContain("Nothing to roll back");
    } finally {
      await proxy.close().catch(() => {});
      await upstream.stop();
    }
  });

  it("never reverts a run recorded on another host, whose pids and loopback addresses are not ours", async () => {
    const server = await startServer();
    try {
      const dir = workdir();
      writeExperiment(dir, "freeze.yaml", `version: 1\ntitle: freeze\nduration: 30s\ntargets:\n  s: { process: { pid: ${server.pid} } }\nfaults:\n  - { name: freeze it, action: process.suspend, target: s }\n`);
      await crashRun(dir, "freeze.yaml", "injected freeze it");
      const stateDir = path.join(dir, ".chaoscast", "state");
      const [file] = readdirSync(stateDir);
      const state = JSON.parse(readFileSync(path.join(stateDir, file!), "utf8")) as { runId: string; owner: { host: string } };
      state.owner.host = "another-host";
      writeFileSync(path.join(stateDir, file!), JSON.stringify(state));

      const all = await runCli(["rollback", "--all"], { cwd: dir });
      expect(all.exitCode).toBe(0);
      expect(all.all).toContain("it ran on another host; its faults can only be reverted there (run chaoscast rollback on another-host)");
      const one = await runCli(["rollback", "--run", state.runId], { cwd: dir });
      expect(one.exitCode).toBe(5);
      expect(one.all).toContain("ran on another-host, not on this host");
      expect(processState(server.pid)).toBe("T");
      expect(readdirSync(stateDir)).toEqual([file]);
    } finally {
      await server.stop();
    }
  });

  it("clears the record of a run killed before its first injection", async () => {
    const dir = workdir();
    const dead = await execa(process.execPath, ["-e", "console.log(process.pid)"]);
    const stateDir = path.join(dir, ".chaoscast", "state");
    mkdirSync(stateDir, { recursive: true });
    const now = new Date().toISOString();
    const state = { version: 1, runId: "early-kill", owner: { pid: Number(dead.stdout), startTime: "1", host: hostname() }, experiment: { file: "/x.yaml", title: "x" }, startedAt: now, updatedAt: now, status: "running", faults: [] };
    writeFileSync(path.join(stateDir, "early-kill.json"), JSON.stringify(state));
    const dry = await runCli(["rollback", "--dry-run"], { cwd: dir });
    expect(dry.all).toContain("would clear the record of early-kill");
    expect(readdirSync(stateDir)).toEqual(["early-kill.json"]);
    const rollback = await runCli(["rollback"], { cwd: dir });
    expect(rollback.exitCode).toBe(0);
    expect(rollback.all).toContain("cleared the record of early-kill");
    expect(readdirSync(stateDir)).toEqual([]);
  });

  it("undoes a revert that needs a secret from the environment, which the state file never holds", async () => {
    const server = await startServer();
    try {
      const dir = workdir();
      const token = "tok-9f8e7d6c5b4a";
      writeExperiment(dir, "switch.yaml", `version: 1
title: kill switch
duration: 30s
faults:
  - name: switch off
    action: http.request
    with:
      url: "${server.url}/admin/break?token=\${env:ADMIN_TOKEN}"
      method: POST
      revert: { url: "${server.url}/admin/repair?token=\${env:ADMIN_TOKEN}" }
`);
      const child = execa(process.execPath, [CLI, "run", "switch.yaml", "--yes", "--watchdog", "off"], { cwd: dir, env: { CI: "1", NO_COLOR: "1", CHAOSCAST_DIR: path.join(dir, ".chaoscast"), ADMIN_TOKEN: token, CHAOSCAST_VAR_n: "1" }, reject: false, stdin: "ignore" });
      await waitForOutput(child, "injected switch off");
      child.kill("SIGKILL");
      await child;
      expect((await fetch(`${server.url}/health`)).status).toBe(503);
      const stateDir = path.join(dir, ".chaoscast", "state");
      const stateText = readFileSync(path.join(stateDir, readdirSync(stateDir)[0]!), "utf8");
      expect(stateText).not.toContain(token);
      expect(stateText).toContain("${env:ADMIN_TOKEN}");

      const without = await runCli(["rollback"], { cwd: dir });
      expect(without.exitCode).toBe(3);
      expect(without.all).toContain("needs the environment variable ADMIN_TOKEN");
      const rotated = await runCli(["rollback"], { cwd: dir, env: { ADMIN_TOKEN: "another-token-value" } });
      expect(rotated.exitCode).toBe(3);
      expect(rotated.all).toContain("ADMIN_TOKEN no longer holds the value the run used");
      const withToken = await runCli(["rollback"], { cwd: dir, env: { ADMIN_TOKEN: token } });
      expect(withToken.exitCode, withToken.all).toBe(0);
      expect(withToken.all).not.toContain(token);
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it("with --all, ends a live run before reverting, so it cannot redo its faults", async () => {
    const upstream = await startServer();
    const proxy = await startProxyServer({ api: "127.0.0.1:0", proxies: [{ name: "edge", upstream: `127.0.0.1:${upstream.port}` }] });
    const api = proxy.url.replace("http://", "");
    try {
      const dir = workdir();
      writeExperiment(dir, "down.yaml", `version: 1\ntitle: edge down\nduration: 60s\ntargets:\n  edge: { proxy: { name: edge, api: "${api}", lease: 3s } }\nfaults:\n  - { name: edge down, action: proxy.down, target: edge }\n`);
      const child = execa(process.execPath, [CLI, "run", "down.yaml", "--yes", "--watchdog", "off"], { cwd: dir, env: { CI: "1", NO_COLOR: "1", CHAOSCAST_DIR: path.join(dir, ".chaoscast") }, reject: false, stdin: "ignore" });
      await waitForOutput(child, "injected edge down");
      const plain = await runCli(["rollback"], { cwd: dir });
      expect(plain.all).toContain("still running");
      expect(proxy.collection.get("edge").enabled).toBe(false);

      const all = await runCli(["rollback", "--all"], { cwd: dir });
      expect(all.exitCode, all.all).toBe(0);
      expect(all.all).toMatch(/ended its process \(pid \d+\) with SIGKILL/);
      expect((await child).signal).toBe("SIGKILL");
      // Watched for 2.5 s, past two of the run's lease refreshes (one a second for a 3 s lease):
      // nothing brings the link down again at any moment.
      await holdsFor(() => expect(proxy.collection.get("edge").enabled, "the link, after rollback --all").toBe(true), 2_500);
    } finally {
      await proxy.close();
      await upstream.stop();
    }
  });
});
