import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { readFileSync } from "node:fs";
import path from "node:path";
import { runCli, startServer, workdir, writeExperiment } from "../helpers/processes.js";

const BROKEN = `version: 1
title: Broken on purpose
duration: 10
faults:
  - name: freeze
    target: api
    action: process.suspnd
`;

describe("validating experiments", () => {
  it("names the file, line and column of each problem and exits 4 without a stack trace", async () => {
    const dir = workdir();
    writeExperiment(dir, "broken.yaml", BROKEN);
    const result = await runCli(["validate", "broken.yaml"], { cwd: dir });
    expect(result.exitCode).toBe(4);
    expect(result.all).toContain("broken.yaml:3:11: duration: expected a duration like 250ms, 2s, 5m or 1h, found number 10 (add a unit)");
    expect(result.all).toMatch(/broken\.yaml:7:13: faults\[0\]\.action: unknown action "process\.suspnd" \(did you mean "process\.suspend"\?\)/);
    expect(result.all).not.toMatch(/\n\s+at .*\.js:\d+/);
  });

  it("reports every problem of a file in one pass, an unknown action hiding none, header and details on one stream", async () => {
    const dir = workdir();
    writeExperiment(
      dir,
      "many.yaml",
      `version: 1
title: many problems
duration: 5s
targets:
  api: { process: { port: 80 } }
faults:
  - { name: a, action: process.suspnd, target: api }
  - { name: b, action: process.suspend, target: apii }
  - { name: a, action: process.suspend, target: api }
steadyState:
  - { name: p, probe: http, with: { url: "http://127.0.0.1:1/" }, expect: { latencyMs: "< fast" } }
`,
    );
    const result = await runCli(["validate", "many.yaml"], { cwd: dir, env: { GITHUB_ACTIONS: "true" } });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("many.yaml: 4 problem(s)");
    expect(result.stdout).toMatch(/many\.yaml:7:\d+: faults\[0\]\.action: unknown action "process\.suspnd"/);
    expect(result.stdout).toMatch(/many\.yaml:8:\d+: faults\[1\]\.target: unknown target "apii"/);
    expect(result.stdout).toMatch(/many\.yaml:9:\d+: faults\[2\]\.name: two faults are named "a"/);
    expect(result.stdout).toMatch(/many\.yaml:11:\d+: steadyState\[0\]\.expect\.latencyMs: comparator "< fast" needs a number/);
    // Under GitHub Actions each problem is also an annotation on its line.
    expect(result.stdout).toMatch(/^::error file=many\.yaml,line=8,col=\d+,title=chaoscast%3A invalid experiment::faults\[1\]\.target: unknown target/m);
  });

  it("refuses to run anything when one file of a batch is invalid", async () => {
    const dir = workdir();
    const marker = path.join(dir, "touched");
    writeExperiment(dir, "a-good.yaml", `version: 1\ntitle: good\nduration: 100ms\nfaults:\n  - { name: touch, action: command.run, with: { command: ["touch", "${marker}"] } }\n`);
    writeExperiment(dir, "b-bad.yaml", BROKEN);
    const result = await runCli(["run", "."], { cwd: dir });
    expect(result.exitCode).toBe(4);
    expect(result.all).toMatch(/b-bad\.yaml:3:11/);
    expect(() => readFileSync(marker)).toThrow();
  });

  it("validates a whole directory and reports the count", async () => {
    const dir = workdir();
    writeExperiment(dir, "one.yaml", `version: 1\ntitle: one\nduration: 1s\nfaults:\n  - { name: x, action: command.run, with: { command: ["true"] } }\n`);
    writeExperiment(dir, "two.json", JSON.stringify({ version: 1, title: "two", duration: "1s", faults: [{ name: "x", action: "command.run", with: { command: ["true"] } }] }));
    const result = await runCli(["validate", "."], { cwd: dir });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain("2 of 2 file(s) valid");
  });

  it("gives JSON output that tools can read", async () => {
    const dir = workdir();
    writeExperiment(dir, "broken.yaml", BROKEN);
    const result = await runCli(["validate", "broken.yaml", "--output", "json"], { cwd: dir });
    const report = JSON.parse(result.stdout) as { valid: boolean; files: { problems: { line: number; col: number }[] }[] };
    expect(report.valid).toBe(false);
    expect(report.files[0]!.problems[0]).toMatchObject({ line: 3, col: 11 });
  });

  it("refuses a --var that no experiment uses, suggesting the right name", async () => {
    const dir = workdir();
    await runCli(["init", "exp.yaml"], { cwd: dir });
    const result = await runCli(["validate", "exp.yaml", "--var", "prot=9090"], { cwd: dir });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toMatch(/--var prot=…: no experiment declares or uses a variable "prot" \(did you mean "port"\?\)/);
  });

  it("explains a missing file and an unknown option with exit 4", async () => {
    const dir = workdir();
    const missing = await runCli(["validate", "nope.yaml"], { cwd: dir });
    expect(missing.exitCode).toBe(4);
    expect(missing.stderr).toBe("nope.yaml: no such file or directory");
    const option = await runCli(["run", "x.yaml", "--dryrun"], { cwd: dir });
    expect(option.exitCode).toBe(4);
    expect(option.stderr).toMatch(/unknown option '--dryrun'[\s\S]*Did you mean --dry-run\?/);
  });
});

describe("planning, listing and scaffolding", () => {
  it("plan shows the resolved target and the timeline, and injects nothing", async () => {
    const server = await startServer();
    try {
      const dir = workdir();
      const init = await runCli(["init", "exp.yaml"], { cwd: dir });
      expect(init.exitCode).toBe(0);
      const result = await runCli(["plan", "exp.yaml", "--var", `port=${server.port}`], { cwd: dir });
      expect(result.exitCode, result.all).toBe(0);
      expect(result.stdout).toContain(`pid ${server.pid}`);
      expect(result.stdout).toMatch(/2s\s+inject freeze the api \(process\.suspend\)/);
      expect(result.stdout).toMatch(/7s\s+revert freeze the api/);
      expect(result.stdout).toContain("Nothing was injected.");
      const state = readFileSync(`/proc/${server.pid}/stat`, "utf8");
      expect(state.slice(state.lastIndexOf(")") + 2, state.lastIndexOf(")") + 3)).not.toBe("T");
    } finally {
      await server.stop();
    }
  });

  it("plan marks a fault that has no undo, and not one that has", async () => {
    const dir = workdir();
    writeExperiment(dir, "undo.yaml", `version: 1\ntitle: undo\nduration: 5s\nfaults:\n  - { name: no undo, action: command.run, with: { command: ["true"] } }\n  - { name: with undo, action: command.run, with: { command: ["true"], revert: ["true"] } }\n`);
    const result = await runCli(["plan", "undo.yaml"], { cwd: dir });
    expect(result.stdout).toMatch(/inject no undo \(command\.run\).*\[cannot be reverted\]/);
    expect(result.stdout).not.toMatch(/inject with undo .*\[cannot be reverted\]/);
  });

  it("plan exits 5 when a target matches nothing", async () => {
    const dir = workdir();
    await runCli(["init", "exp.yaml"], { cwd: dir });
    const result = await runCli(["plan", "exp.yaml", "--var", "port=1"], { cwd: dir });
    expect(result.exitCode).toBe(5);
    expect(result.stdout).toMatch(/target "api" matched nothing/);
  });

  it("init writes a valid experiment and refuses to overwrite without --force", async () => {
    const dir = workdir();
    expect((await runCli(["init", "exp.yaml"], { cwd: dir })).exitCode).toBe(0);
    expect((await runCli(["validate", "exp.yaml"], { cwd: dir })).exitCode).toBe(0);
    const again = await runCli(["init", "exp.yaml"], { cwd: dir });
    expect(again.exitCode).toBe(4);
    expect(again.stderr).toMatch(/already exists; use --force/);
    expect((await runCli(["init", "exp.yaml", "--force"], { cwd: dir })).exitCode).toBe(0);
  });

  it("init writes every template: experiments that validate, CI jobs that parse and use only options run has", async () => {
    const dir = workdir();
    for (const template of ["proxy", "docker", "kubernetes", "github-actions", "gitlab-ci"]) {
      const result = await runCli(["init", "--template", template], { cwd: dir });
      expect(result.exitCode, result.all).toBe(0);
    }
    const validated = await runCli(["validate", "chaoscast-proxy.yaml", "chaoscast-docker.yaml", "chaoscast-kubernetes.yaml"], { cwd: dir });
    expect(validated.exitCode, validated.all).toBe(0);
    const help = (await runCli(["run", "--help"], { cwd: dir })).stdout;
    for (const file of [".github/workflows/chaoscast.yml", "chaoscast.gitlab-ci.yml"]) {
      const text = readFileSync(path.join(dir, file), "utf8");
      expect(() => parseYaml(text)).not.toThrow();
      const flags = [...text.matchAll(/chaoscast run [^\n]*(?:\n\s+--[^\n]*)*/g)].flatMap((m) => m[0].match(/--[a-z-]+/g) ?? []);
      expect(flags.length).toBeGreaterThan(2);
      for (const flag of flags) expect(help, `${file} uses ${flag}`).toContain(flag);
    }
    expect((await runCli(["init", "--template", "nope"], { cwd: dir })).exitCode).toBe(4);
  });

  it("init --from writes a scenario of the library, lists them with what each teaches, and names a misspelt one", async () => {
    const dir = workdir();
    const list = await runCli(["init", "--from", "list"], { cwd: dir });
    expect(list.exitCode).toBe(0);
    const names = list.stdout.trim().split("\n").map((l) => l.split(/\s+/)[0]!);
    expect(names).toEqual(expect.arrayContaining(["cdn-edge-brownout", "origin-5xx-segments", "top-rendition-404", "drm-license-latency", "stale-live-manifest", "packager-az-loss"]));
    for (const line of list.stdout.trim().split("\n")) expect(line).toMatch(/^\S+\s+(whether|what|how) .+\.$/);
    for (const name of names) expect((await runCli(["init", "--from", name], { cwd: dir })).exitCode).toBe(0);
    const validated = await runCli(["validate", ...names.map((n) => `${n}.yaml`)], { cwd: dir });
    expect(validated.exitCode, validated.all).toBe(0);
    const typo = await runCli(["init", "--from", "cdn-edge-brownut"], { cwd: dir });
    expect(typo.exitCode).toBe(4);
    expect(typo.stderr).toMatch(/no such scenario \(did you mean "cdn-edge-brownout"\?\)/);
  });

  it("list shows every action and probe with parameters from their schemas", async () => {
    const result = await runCli(["list"], { cwd: workdir() });
    expect(result.exitCode).toBe(0);
    for (const name of ["process.kill", "process.suspend", "process.signal", "command.run", "http.request", "http", "command", "tcp"]) {
      expect(result.stdout).toContain(name);
    }
    expect(result.stdout).toMatch(/signal\s+signal name\s+The signal to send\. \(default "SIGKILL"\)/);
    const one = await runCli(["list", "process.suspnd"], { cwd: workdir() });
    expect(one.exitCode).toBe(4);
    expect(one.stderr).toMatch(/did you mean "process\.suspend"/);
  });

  it("--help lists the commands with examples and the exit codes", async () => {
    const result = await runCli(["--help"], { cwd: workdir() });
    expect(result.exitCode).toBe(0);
    for (const command of ["run", "validate", "plan", "list", "init"]) expect(result.stdout).toMatch(new RegExp(`\\n  ${command} `));
    expect(result.stdout).toContain("Examples:");
    expect(result.stdout).toContain("3  rollback-failed");
    const run = await runCli(["run", "--help"], { cwd: workdir() });
    expect(run.stdout).toContain("Ctrl-C (SIGINT), SIGTERM, SIGHUP or SIGQUIT at any time rolls back");
  });

  it("--version prints the package version", async () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    const result = await runCli(["--version"], { cwd: workdir() });
    expect(result.stdout).toBe(pkg.version);
  });
});
