// SLO files and the budget gate as input: what is wrong is refused before anything runs (exit 4,
// file:line:col), and what cannot be measured skips the run or is inconclusive. No Prometheus is
// needed: the one asked is a closed port on 127.0.0.1.

import { mkdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { freePort, runCli, workdir, writeExperiment } from "../helpers/processes.js";

const experiment = (slo: string, url: string) => `version: 1
title: Budget gate
duration: 1s
budget:
  slo: ${slo}
  prometheus: { url: "${url}", timeout: 2s }
faults:
  - { name: wait, action: command.run, with: { command: ["true"] } }
`;

const SLO = `slo: api-availability
objective: 99.9%
window: 30d
bad: http_requests_total{code=~"5.."}
total: http_requests_total
`;

describe("the SLO file an experiment's budget gate names", () => {
  it("is read with the experiment: a missing one makes the experiment invalid (exit 4)", async () => {
    const dir = workdir();
    writeExperiment(dir, "exp.yaml", experiment("slos/missing.yaml", "http://127.0.0.1:9"));
    const result = await runCli(["validate", "exp.yaml"], { cwd: dir });
    expect(result.exitCode, result.all).toBe(4);
    expect(result.all).toMatch(/slos\/missing\.yaml: cannot read the SLO file: .*no such file/i);
  });

  it("is checked like an experiment: a mistake in it is reported at its own file:line:col (exit 4)", async () => {
    const dir = workdir();
    writeExperiment(dir, "exp.yaml", experiment("slo.yaml", "http://127.0.0.1:9"));
    writeExperiment(dir, "slo.yaml", SLO.replace("window: 30d", "window: 1M"));
    const result = await runCli(["run", "exp.yaml", "--yes"], { cwd: dir });
    expect(result.exitCode, result.all).toBe(4);
    expect(result.all).toMatch(/slo\.yaml:3:9: window: expected a rolling period such as 28d, 30d, 4w or 24h/);
  });

  it("is picked by name with FILE#name from a file of several, and a wrong name lists the ones there", async () => {
    const dir = workdir();
    writeExperiment(dir, "slo.yaml", `${SLO}---\n${SLO.replace("api-availability", "api-latency")}`);
    writeExperiment(dir, "exp.yaml", experiment("slo.yaml#api-errors", "http://127.0.0.1:9"));
    const wrong = await runCli(["validate", "exp.yaml"], { cwd: dir });
    expect(wrong.exitCode, wrong.all).toBe(4);
    expect(wrong.all).toMatch(/no SLO named "api-errors" in the file; it has api-availability, api-latency/);
    writeExperiment(dir, "exp.yaml", experiment("slo.yaml#api-latency", "http://127.0.0.1:9"));
    expect((await runCli(["validate", "exp.yaml"], { cwd: dir })).exitCode).toBe(0);
  });
});

describe("an SLO named without its file", () => {
  it("is found in the SLO files next to the experiment or in its slos/ folder, and an unknown name lists where it looked", async () => {
    const dir = workdir();
    mkdirSync(path.join(dir, "slos"));
    writeExperiment(dir, "slos/api.yaml", SLO);
    writeExperiment(dir, "exp.yaml", experiment("api-availability", "http://127.0.0.1:9"));
    expect((await runCli(["validate", "exp.yaml"], { cwd: dir })).exitCode).toBe(0);
    writeExperiment(dir, "exp.yaml", experiment("api-errors", "http://127.0.0.1:9"));
    const unknown = await runCli(["validate", "exp.yaml"], { cwd: dir });
    expect(unknown.exitCode, unknown.all).toBe(4);
    expect(unknown.all).toMatch(/exp\.yaml:5:8: budget\.slo: no SLO named "api-errors" in the SLO files next to the experiment, slos\/, slo\/ \(slos\/api\.yaml\)/);
    writeExperiment(dir, "other.yaml", SLO);
    writeExperiment(dir, "exp.yaml", experiment("api-availability", "http://127.0.0.1:9"));
    const twice = await runCli(["validate", "exp.yaml"], { cwd: dir });
    expect(twice.exitCode, twice.all).toBe(4);
    expect(twice.all).toMatch(/2 SLOs are named "api-availability"/);
  });
});

describe("a directory of experiments", () => {
  it("leaves out the SLO files in it (OpenSLO or short form, YAML or JSON): they are read through budget:, not run", async () => {
    const dir = workdir();
    writeExperiment(dir, "exp.yaml", experiment("slos/api.yaml", "http://127.0.0.1:9"));
    mkdirSync(path.join(dir, "slos"));
    writeExperiment(dir, "slos/api.yaml", SLO);
    writeExperiment(dir, "slos/open.yaml", "# an OpenSLO file\napiVersion: openslo/v1\nkind: Service\nmetadata: { name: api }\nspec: {}\n");
    writeExperiment(dir, "slos/api.json", JSON.stringify({ slo: "x", objective: 0.99, window: "30d", bad: "a", total: "b" }));
    const result = await runCli(["validate", "."], { cwd: dir });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toMatch(/✔ exp\.yaml: Budget gate/);
    expect(result.all).not.toMatch(/slos\//);
    // Named on its own, an SLO file is still not an experiment.
    expect((await runCli(["validate", "slos/api.yaml"], { cwd: dir })).exitCode).toBe(4);
  });
});

describe("a budget gate that cannot be measured", () => {
  it("skips the run (exit 5), injecting nothing, and plan shows the gate failing", async () => {
    const dir = workdir();
    const port = await freePort();
    writeExperiment(dir, "slo.yaml", SLO);
    writeExperiment(dir, "exp.yaml", experiment("slo.yaml", `http://127.0.0.1:${port}`));
    const env = { CHAOSCAST_DIR: path.join(dir, ".chaoscast") };
    const run = await runCli(["run", "exp.yaml", "--yes", "--no-color"], { cwd: dir, env });
    expect(run.exitCode, run.all).toBe(5);
    expect(run.all).toMatch(/budget gate: cannot tell how much error budget is left, so nothing is spent: Prometheus at http:\/\/127\.0\.0\.1:\d+ did not answer: ECONNREFUSED/);
    expect(run.all).not.toMatch(/injected wait/);
    const plan = await runCli(["plan", "exp.yaml", "--no-color"], { cwd: dir, env });
    expect(plan.exitCode, plan.all).toBe(5);
    expect(plan.all).toMatch(/✖ budget {3}failed: cannot tell how much error budget is left/);
  });
});

describe("chaoscast budget", () => {
  it("needs a Prometheus to ask (exit 4), and never takes a password on the command line", async () => {
    const dir = workdir();
    writeExperiment(dir, "slo.yaml", SLO);
    const result = await runCli(["budget", "slo.yaml"], { cwd: dir, env: { CHAOSCAST_PROMETHEUS_URL: "" } });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toMatch(/--prometheus <url> is required/);
    const help = await runCli(["budget", "--help"], { cwd: dir });
    expect(help.stdout).toMatch(/CHAOSCAST_PROMETHEUS_TOKEN/);
    expect(help.stdout).not.toMatch(/--password|--token/);
  });

  it("shows an SLO name holding terminal escapes as text, never as commands to the terminal", async () => {
    const dir = workdir();
    writeExperiment(dir, "slo.yaml", SLO.replace("slo: api-availability", 'slo: "api\\e]0;owned\\a\\e[2J"'));
    const port = await freePort();
    const result = await runCli(["budget", "slo.yaml", "--prometheus", `http://127.0.0.1:${port}`, "--timeout", "1s"], { cwd: dir });
    expect(result.exitCode, result.all).toBe(6);
    expect(result.stdout).not.toMatch(/\u001b\]|\u001b\[2J|\u0007/);
    expect(result.stdout).toMatch(/SLO api/);
  });

  it("keeps the user name and password of a Prometheus URL out of what it prints", async () => {
    const dir = workdir();
    writeExperiment(dir, "slo.yaml", SLO);
    const port = await freePort();
    const result = await runCli(["budget", "slo.yaml", "--prometheus", `http://reader:s3cr3t-pw@127.0.0.1:${port}`, "--timeout", "1s", "--output", "json"], { cwd: dir });
    expect(result.exitCode, result.all).toBe(6);
    expect(result.all).not.toContain("s3cr3t-pw");
    expect(JSON.parse(result.stdout).prometheus).toBe(`http://127.0.0.1:${port}`);
  });
});
