// The blast-radius policy and the exclusion label, against real local processes. Each test runs
// copies of `sleep` under a name of its own, so no other process on the machine can be selected.

import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { execa, type ResultPromise } from "execa";
import { pollUntil, processState, readJournals, runCli, waitForOutput, workdir, writeExperiment } from "../helpers/processes.js";
import { holdsFor } from "../helpers/poll.js";

const children: ResultPromise[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill("SIGCONT");
    child.kill("SIGKILL");
    await child.catch(() => {});
  }
});

/** Start `count` sleepers named uniquely for this test; `excluded` of them carry the exclusion label. */
function sleepers(dir: string, count: number, excluded = 0): { name: string; pids: number[] } {
  const name = `ccpol${Math.random().toString(36).slice(2, 8)}`;
  const binary = path.join(dir, name);
  copyFileSync("/bin/sleep", binary);
  const pids: number[] = [];
  for (let i = 0; i < count; i++) {
    const env = i < excluded ? { CHAOSCAST_EXCLUDE: "true" } : {};
    const child = execa(binary, ["120"], { env, reject: false });
    children.push(child);
    pids.push(child.pid!);
  }
  return { name, pids };
}

const experiment = (name: string, select: string, duration = "300ms") => `version: 1
title: freeze some sleepers
duration: ${duration}
targets:
  sleepers: { process: { name: ${name} }, select: ${select} }
faults:
  - { name: freeze, action: process.suspend, target: sleepers }
`;

const policy = (dir: string, yaml: string) => writeFileSync(path.join(dir, ".chaoscast.yaml"), yaml);
const cli = (args: string[], dir: string) => runCli(args, { cwd: dir, env: { HOME: dir } });

describe("the blast-radius policy", () => {
  it("refuses an experiment selecting 25% under maxPercent 10 before anything runs, naming both numbers", async () => {
    const dir = workdir();
    const { name, pids } = sleepers(dir, 4);
    policy(dir, "policy:\n  maxPercent: 10\n");
    writeExperiment(dir, "exp.yaml", experiment(name, "{ percent: 25 }"));
    const run = await cli(["run", "exp.yaml", "--yes"], dir);
    expect(run.exitCode).toBe(4);
    expect(run.all).toContain('target "sleepers" selects 25% of its candidates, over the policy\'s maxPercent of 10% (.chaoscast.yaml:2)');
    expect(run.all).not.toMatch(/^\s+at /m);
    expect(pids.map(processState)).not.toContain("T");
  });

  it("refuses in preflight when the share actually chosen is over the limit, and records the refusal", async () => {
    const dir = workdir();
    const { name, pids } = sleepers(dir, 4);
    policy(dir, "policy:\n  maxPercent: 10\n");
    writeExperiment(dir, "exp.yaml", experiment(name, "{ count: 1 }"));
    const run = await cli(["run", "exp.yaml", "--yes"], dir);
    expect(run.exitCode).toBe(4);
    expect(run.all).toContain("would hit 1 of 4 candidates (25%), over the policy's maxPercent of 10%");
    expect(readJournals(dir)[0]).toMatchObject({ outcome: "refused" });
    expect(pids.map(processState)).not.toContain("T");
  });

  it("shows the verdict in plan, and runs what stays within the policy", async () => {
    const dir = workdir();
    const { name } = sleepers(dir, 4);
    policy(dir, "policy:\n  maxPercent: 25\n  maxTargets: 1\n");
    writeExperiment(dir, "exp.yaml", experiment(name, "{ count: 1 }"));
    const plan = await cli(["plan", "exp.yaml"], dir);
    expect(plan.exitCode).toBe(0);
    expect(plan.all).toContain("✔ within the policy");
    const run = await cli(["run", "exp.yaml", "--yes"], dir);
    expect(run.exitCode, run.all).toBe(0);

    policy(dir, "policy:\n  maxTargets: 1\n");
    writeExperiment(dir, "two.yaml", experiment(name, "{ count: 2 }"));
    const refused = await cli(["plan", "two.yaml"], dir);
    expect(refused.exitCode).toBe(4);
    expect(refused.all).toContain("✖ refused: the run would hit 2 targets (sleepers: 2), over the policy's maxTargets of 1");
  });

  it("plan shows every preflight gate's verdict: a policy refusal stops the actions' checks, a held lock fails its gate", async () => {
    const dir = workdir();
    const { name } = sleepers(dir, 4);
    policy(dir, "policy:\n  maxPercent: 10\n");
    writeExperiment(dir, "exp.yaml", experiment(name, "{ percent: 25 }", "4s"));
    const refused = await cli(["plan", "exp.yaml", "--output", "json"], dir);
    expect(refused.exitCode, refused.all).toBe(4);
    const gates = (out: string) => (JSON.parse(out).preflight.gates as { gate: string; status: string }[]).map((g) => `${g.gate}:${g.status}`);
    expect(gates(refused.stdout)).toEqual(["guards:passed", "schedule:not-applicable", "lock:passed", "policy:refused", "targets:passed", "actions:not-reached", "budget:not-applicable"]);

    policy(dir, "policy:\n  maxPercent: 50\n");
    const run = cli(["run", "exp.yaml", "--yes"], dir);
    await waitForOutput(run, "injected freeze", 15_000);
    const held = await cli(["plan", "exp.yaml"], dir);
    await run;
    expect(held.exitCode, held.all).toBe(5);
    expect(held.all).toMatch(/✖ lock {5}failed: the lock for .*exp\.yaml is held by run /);
    expect(held.all).toMatch(/✔ actions/);
  });

  it("never selects a process labelled chaoscast.io/exclude=true", async () => {
    const dir = workdir();
    const { name, pids } = sleepers(dir, 3, 2);
    const [excluded, selectable] = [pids.slice(0, 2), pids[2]!];
    // The fault is held for 1.5 s, so there is a window in which to watch it.
    writeExperiment(dir, "exp.yaml", experiment(name, "{ percent: 100 }", "1500ms"));
    const plan = await cli(["plan", "exp.yaml"], dir);
    expect(plan.all).toContain("1 of 1 processes named");
    expect(plan.all.match(/excluded: chaoscast\.io\/exclude=true/g)).toHaveLength(2);
    const run = cli(["run", "exp.yaml", "--yes"], dir);
    await waitForOutput(run, "injected freeze", 15_000);
    // A stop shows in /proc once the kernel has delivered the signal.
    await pollUntil(() => processState(selectable) === "T", 5_000, `the unlabelled sleeper (pid ${selectable}) frozen`);
    // All the while the fault is held (watched for 800 ms of its 1.5 s; the rest covers the time
    // its output takes to get here), the unlabelled sleeper stays frozen and the labelled ones run:
    // a run that ignored the label would have frozen all three.
    await holdsFor(() => {
      expect(excluded.map(processState), "the labelled sleepers, while the fault is held").toEqual(["S", "S"]);
      expect(processState(selectable), "the unlabelled sleeper, while the fault is held").toBe("T");
    }, 800);
    const finished = await run;
    expect(finished.exitCode, finished.all).toBe(0);
    // The run's revert waits until the kernel shows the frozen one running again.
    expect(pids.map(processState)).toEqual(["S", "S", "S"]);

    writeExperiment(dir, "all-excluded.yaml", experiment(name, "{ percent: 100 }").replace(`name: ${name}`, `pid: ${pids[0]}`));
    const none = await cli(["run", "all-excluded.yaml", "--yes"], dir);
    expect(none.exitCode).toBe(5);
    expect(none.all).toContain("every one found (1) is labelled chaoscast.io/exclude=true");
  });

  it("refuses runs longer than maxDuration and, with requireWindow, experiments without a schedule", async () => {
    const dir = workdir();
    const { name } = sleepers(dir, 1);
    policy(dir, "policy:\n  maxDuration: 100ms\n  requireWindow: true\n");
    writeExperiment(dir, "exp.yaml", experiment(name, "{ count: 1 }"));
    const run = await cli(["run", "exp.yaml", "--yes"], dir);
    expect(run.exitCode).toBe(4);
    expect(run.all).toContain("the method lasts 300ms, longer than the policy's maxDuration of 100ms (.chaoscast.yaml:2)");
    expect(run.all).toContain("the policy requires a schedule window (.chaoscast.yaml:3), and the experiment has no schedule.windows");
  });

  it("skips a run outside its schedule window when the policy requires windows", async () => {
    const dir = workdir();
    const { name, pids } = sleepers(dir, 1);
    policy(dir, "policy:\n  requireWindow: true\n");
    // A window on a day that is not today (UTC) is never open now.
    const other = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][(new Date().getUTCDay() + 3) % 7];
    writeExperiment(dir, "exp.yaml", `${experiment(name, "{ count: 1 }")}schedule: { windows: ["${other} 00:00-23:59"], timezone: UTC }\n`);
    const run = await cli(["run", "exp.yaml", "--yes"], dir);
    expect(run.exitCode).toBe(5);
    expect(run.all).toMatch(/not inside the experiment's schedule: it is \w+ \d\d:\d\d in UTC, outside every window/);
    expect(processState(pids[0]!)).toBe("S");
  });

  it("reports a broken policy file with file, line and column", async () => {
    const dir = workdir();
    policy(dir, "policy:\n  maxPercnt: 10\n");
    writeExperiment(dir, "exp.yaml", experiment("nothing", "{ count: 1 }"));
    const run = await cli(["run", "exp.yaml", "--yes"], dir);
    expect(run.exitCode).toBe(4);
    expect(run.all).toMatch(/\.chaoscast\.yaml:2:3: policy\.maxPercnt: unknown key "maxPercnt" \(did you mean "maxPercent"\?\)/);
  });

  it("applies every .chaoscast.yaml up the tree: a nearer empty one cannot lift a parent's limit", async () => {
    const dir = workdir();
    const { name } = sleepers(dir, 4);
    policy(dir, "policy:\n  maxPercent: 10\n");
    const sub = path.join(dir, "team");
    mkdirSync(sub);
    writeFileSync(path.join(sub, ".chaoscast.yaml"), "");
    writeExperiment(sub, "exp.yaml", experiment(name, "{ count: 1 }"));
    const plan = await cli(["plan", "exp.yaml"], sub);
    expect(plan.exitCode).toBe(4);
    expect(plan.all).toContain("over the policy's maxPercent of 10%");
  });
});
