// Suites and their reports, end to end: a directory with one experiment that passes and one that
// aborts, run as CI would run it, and every report checked the way its consumer would read it
// (JUnit against the schema with xmllint, the HTML for being self-contained, the step summary and
// the annotations as GitHub Actions would take them, the webhook as a local receiver).

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { ROOT, runCli, startServer, workdir, writeExperiment, type TestServer } from "../helpers/processes.js";
import { playerAvailability } from "../helpers/player.js";
import { launchChromium } from "../../src/adapters/player/browser.js";

const browserAvailable = await playerAvailability();

const XSD = path.join(ROOT, "test/fixtures/junit/junit.xsd");

let server: TestServer;
let dir: string;
let suiteDir: string;

beforeEach(async () => {
  server = await startServer();
  dir = workdir();
  suiteDir = path.join(dir, "suite");
  mkdirSync(suiteDir);
});
afterEach(async () => {
  await server.stop();
});

const probe = (port: number) => `steadyState:
  - name: health answers quickly
    probe: http
    with: { url: "http://127.0.0.1:${port}/health", timeout: 1s }
    expect: { status: 200, latencyMs: "< 250" }
`;

function writeSuite(names = { pass: "a-pass.yaml", abort: "b-freeze.yaml" }): void {
  writeExperiment(
    suiteDir,
    names.pass,
    `version: 1
title: A flag file does not hurt the API
duration: 1s
${probe(server.port)}abort: { interval: 200ms }
faults:
  - { name: raise the flag, action: command.run, with: { command: ["touch", "${dir}/flag"], revert: ["rm", "-f", "${dir}/flag"] } }
recovery: { timeout: 2s }
`,
  );
  writeExperiment(
    suiteDir,
    names.abort,
    `version: 1
title: Freeze the API
duration: 20s
targets:
  api: { process: { port: ${server.port} } }
${probe(server.port)}abort: { interval: 300ms, after: 2 }
faults:
  - { name: freeze, target: api, action: process.suspend, at: 500ms }
recovery: { timeout: 5s }
`,
  );
}

async function xmllint(): Promise<boolean> {
  try {
    await execa("xmllint", ["--version"], { stdin: "ignore" });
    return true;
  } catch {
    if (process.env.CHAOSCAST_REQUIRE_SERVICES === "1") throw new Error("CHAOSCAST_REQUIRE_SERVICES=1 but xmllint is missing (apt-get install libxml2-utils)");
    process.stderr.write("\n  skipped: JUnit schema validation, xmllint is missing (apt-get install libxml2-utils).\n\n");
    return false;
  }
}

describe("a suite run as a CI stage", () => {
  it("exits 2 for one passing and one aborting experiment, with JUnit, HTML, a step summary and annotations", async () => {
    writeSuite();
    const stepSummary = path.join(dir, "step-summary.md");
    writeFileSync(stepSummary, "# earlier step\n");
    const result = await runCli(["run", "--yes", "--junit", "j.xml", "--report", "r.html", "--summary", "s.md", suiteDir], {
      cwd: dir,
      env: { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: stepSummary },
    });
    expect(result.exitCode, result.all).toBe(2);
    // The suite's table names both, with their outcomes.
    expect(result.stdout).toMatch(/Suite: 2 of 2 experiment\(s\) run · worst outcome aborted \(exit 2\)/);
    expect(result.stdout).toMatch(/passed +exit 0 .* A flag file does not hurt the API/);
    expect(result.stdout).toMatch(/aborted +exit 2 .* Freeze the API/);
    // Without a terminal, every line carries the time.
    expect(result.stdout.split("\n").filter(Boolean).every((line) => /^\d\d:\d\d:\d\d /.test(line) || line.startsWith("::"))).toBe(true);

    const junit = readFileSync(path.join(dir, "j.xml"), "utf8");
    expect(junit.match(/<testcase /g)).toHaveLength(2);
    expect(junit.match(/<failure /g)).toHaveLength(1);
    expect(junit).toMatch(/<testcase name="Freeze the API"[^>]*>\s*<failure message="aborted \(exit 2\): /);
    expect(junit).toMatch(/<system-out>[^<]*journal: [^<]*\.json/);
    if (await xmllint()) {
      const lint = await execa("xmllint", ["--noout", "--schema", XSD, path.join(dir, "j.xml")], { reject: false, all: true });
      expect(lint.exitCode, lint.all).toBe(0);
    }

    const html = readFileSync(path.join(dir, "r.html"), "utf8");
    expect(html).toContain("A flag file does not hurt the API");
    expect(html).toContain("Freeze the API");
    expect(html.match(/<svg class="timeline"/g)).toHaveLength(2);
    expect(html).toContain('class="marker"'); // the abort marker
    // Self-contained: nothing is fetched from anywhere.
    expect(html).not.toMatch(/\b(src|href)="(?!#)/);
    expect(html).not.toMatch(/url\(|@import/);

    const summary = readFileSync(stepSummary, "utf8");
    expect(summary.startsWith("# earlier step\n")).toBe(true);
    expect(summary).toContain("A flag file does not hurt the API");
    expect(summary).toContain("Freeze the API");
    expect(readFileSync(path.join(dir, "s.md"), "utf8")).toBe(summary.slice("# earlier step\n".length));
    // Paths as the run was given them (relative to the checkout), as GitHub places annotations.
    expect(result.stdout).toMatch(/^::error file=suite\/b-freeze\.yaml,line=1,title=chaoscast%3A Freeze the API aborted::steady state breached/m);
    expect(result.stdout).not.toMatch(/^::\w+ file=[^\n]*a-pass/m);
  });

  it("keeps --output jsonl parseable under GitHub Actions: annotations go to stderr", async () => {
    writeSuite();
    const result = await runCli(["run", "--yes", "--output", "jsonl", path.join(suiteDir, "b-freeze.yaml")], { cwd: dir, env: { GITHUB_ACTIONS: "true" } });
    expect(result.exitCode, result.all).toBe(2);
    const events = result.stdout.trim().split("\n").map((line) => JSON.parse(line) as { eventVersion: number; type: string });
    expect(events.every((e) => e.eventVersion === 1)).toBe(true);
    expect(events.at(-1)!.type).toBe("run-finished");
    expect(result.stderr).toMatch(/^::error file=suite\/b-freeze\.yaml/m);
  });

  it("stops after the first failure with --fail-fast and reports the rest as not run", async () => {
    writeSuite({ abort: "a-freeze.yaml", pass: "b-pass.yaml" });
    const result = await runCli(["run", "--yes", "--fail-fast", "--junit", "j.xml", suiteDir], { cwd: dir });
    expect(result.exitCode, result.all).toBe(2);
    expect(result.stdout).toMatch(/not run .*A flag file does not hurt the API .*--fail-fast: "Freeze the API" ended aborted/);
    const junit = readFileSync(path.join(dir, "j.xml"), "utf8");
    expect(junit).toMatch(/<testcase name="A flag file does not hurt the API"[^>]*>\s*<skipped message="not run: --fail-fast/);
    expect(readdirSync(path.join(dir, ".chaoscast", "runs"))).toHaveLength(1);
  });
});

describe("a suite with an invalid file", () => {
  it("runs nothing and exits 4, but still leaves a JUnit report and a step summary naming the problem", async () => {
    writeSuite();
    writeExperiment(suiteDir, "c-broken.yaml", "version: 1\ntitle: broken\nduration: 10x\nfaults: []\n");
    const stepSummary = path.join(dir, "step-summary.md");
    const result = await runCli(["run", "--yes", "--junit", "j.xml", suiteDir], { cwd: dir, env: { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: stepSummary } });
    expect(result.exitCode, result.all).toBe(4);
    const junit = readFileSync(path.join(dir, "j.xml"), "utf8");
    expect(junit).toMatch(/<testcase name="[^"]*c-broken\.yaml"[^>]*>\s*<error message="invalid experiment: \d problem\(s\); nothing was run">[^<]*c-broken\.yaml:3:11: duration/);
    expect(readFileSync(stepSummary, "utf8")).toMatch(/invalid experiment file\(s\) \(exit 4\)[\s\S]*c-broken\.yaml:3:11/);
    expect(readdirSync(dir)).not.toContain(".chaoscast");
    if (await xmllint()) {
      const lint = await execa("xmllint", ["--noout", "--schema", XSD, path.join(dir, "j.xml")], { reject: false, all: true });
      expect(lint.exitCode, lint.all).toBe(0);
    }
  });
});

describe("chaoscast report", () => {
  it("renders reports from journals and compares runs of the same experiment over time", async () => {
    writeSuite();
    const pass = path.join(suiteDir, "a-pass.yaml");
    for (let i = 0; i < 3; i++) expect((await runCli(["run", "--yes", pass], { cwd: dir })).exitCode).toBe(0);
    const runs = path.join(dir, ".chaoscast", "runs");
    const result = await runCli(["report", runs, "--html", "trend.html", "--junit", "trend.xml"], { cwd: dir });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toMatch(/Over time: A flag file does not hurt the API/);
    // A loaded machine may cost one run an isolated breach, and so a few points of score: the
    // verdict's form is checked, not the figures.
    expect(result.stdout).toMatch(/3 runs: 3 passed; latest passed; .*score \d+ against a median of \d+ before \((about the same|better|worse)\)\./);
    expect(readFileSync(path.join(dir, "trend.html"), "utf8")).toContain('<section id="trend">');
    expect(readFileSync(path.join(dir, "trend.xml"), "utf8").match(/<testcase /g)).toHaveLength(3);
  });

  it("names a file that is not a journal and exits 4, writing nothing", async () => {
    const bad = path.join(dir, "bad.json");
    writeFileSync(bad, '{"journalVersion": 1,\n "runId": 3}');
    const broken = path.join(dir, "broken.json");
    writeFileSync(broken, '{\n  "journalVersion": 1,\n  oops\n}');
    const result = await runCli(["report", bad, broken, "--html", "out.html"], { cwd: dir });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toMatch(/bad\.json: runId: expected a chaoscast journal \(version 1\)/);
    expect(result.stderr).toMatch(/broken\.json:3:\d+: expected a chaoscast journal \(JSON\), but it is not valid JSON here/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(dir)).not.toContain("out.html");
  });
});

describe("--notify", () => {
  it("posts Slack-compatible messages at start, abort and end, and a dead webhook never changes the outcome", async () => {
    writeSuite();
    const posts: { text: string }[] = [];
    const receiver = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        posts.push(JSON.parse(body) as { text: string });
        res.end("ok");
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const port = (receiver.address() as AddressInfo).port;
    try {
      const freeze = path.join(suiteDir, "b-freeze.yaml");
      const result = await runCli(["run", "--yes", "--notify", `http://127.0.0.1:${port}/services/T000/B000/secret-token`, freeze], { cwd: dir });
      expect(result.exitCode, result.all).toBe(2);
      expect(posts.map((p) => p.text.split(" ").slice(0, 3).join(" "))).toEqual([":test_tube: chaoscast started", ":rotating_light: chaoscast is", ":x: chaoscast finished"]);
      expect(posts[2]!.text).toContain("*Freeze the API*: aborted (exit 2)");
    } finally {
      receiver.close();
    }
    // Nothing listens there any more: the run's outcome stands, the warning names the origin only.
    const pass = path.join(suiteDir, "a-pass.yaml");
    const dead = await runCli(["run", "--yes", "--notify", `http://127.0.0.1:${port}/services/secret-token`, pass], { cwd: dir });
    expect(dead.exitCode, dead.all).toBe(0);
    expect(dead.all).toMatch(new RegExp(`warning: could not notify http://127\\.0\\.0\\.1:${port}: `));
    expect(dead.all).not.toContain("secret-token");
  });
});

describe.skipIf(!browserAvailable)("the HTML report in a real browser (headless Chromium)", () => {
  it("renders both timelines with no console error and no request beyond the file, and its filter works", async () => {
    writeSuite();
    const result = await runCli(["run", "--yes", "--report", "r.html", suiteDir], { cwd: dir });
    expect(result.exitCode, result.all).toBe(2);
    const browser = await launchChromium(30_000);
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const problems: string[] = [];
      const requests: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
      page.on("request", (r) => requests.push(r.url()));
      const url = `file://${path.join(dir, "r.html")}`;
      await page.goto(url);
      expect(await page.locator("svg.timeline").count()).toBe(2);
      expect(await page.locator("h2", { hasText: "Freeze the API" }).count()).toBe(1);
      // The aborted run's chart shows breaches in red and an abort marker.
      const aborted = page.locator("#run-2 svg.timeline");
      expect(await aborted.locator("circle.breach").count()).toBeGreaterThanOrEqual(2);
      expect(await aborted.locator("line.marker").count()).toBeGreaterThanOrEqual(2);
      const box = await aborted.boundingBox();
      expect(box!.width).toBeGreaterThan(500);
      const shot = await aborted.screenshot();
      expect(shot.byteLength).toBeGreaterThan(5_000);
      // The event filter hides rows that do not match.
      await page.locator("#run-2 details summary").click();
      await page.locator("#run-2 input.filter").fill("abort");
      const visible = await page.locator("#run-2 table.events tr:not([hidden])").count();
      const all = await page.locator("#run-2 table.events tr").count();
      expect(visible).toBeGreaterThan(0);
      expect(visible).toBeLessThan(all);
      expect(problems).toEqual([]);
      expect(requests).toEqual([url]);
    } finally {
      await browser.close();
    }
  });
});
