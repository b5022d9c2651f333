import { describe, expect, it } from "vitest";
import { ExperimentError, formatProblem } from "../../src/errors.js";
import { parseExperiment } from "../../src/experiment/loader.js";
import { registry } from "../../src/registry.js";

const load = (text: string, env: Record<string, string> = {}, cli: Record<string, string> = {}) =>
  parseExperiment(text, "exp.yaml", { registry, vars: { cli, env } });

/** The formatted problems of an invalid file. */
function problems(text: string, env: Record<string, string> = {}): string[] {
  try {
    load(text, env);
  } catch (err) {
    if (err instanceof ExperimentError) return err.problems.map(formatProblem);
    throw err;
  }
  throw new Error("expected the experiment to be invalid");
}

const VALID = `version: 1
title: Freeze the API
duration: 10s
targets:
  api: { process: { port: 8080 } }
steadyState:
  - name: health
    probe: http
    with: { url: "http://127.0.0.1:8080/health" }
    expect: { status: 200, latencyMs: "< 500" }
faults:
  - name: freeze
    target: api
    action: process.suspend
    at: 2s
    duration: 5s
`;

describe("loading a valid experiment", () => {
  it("compiles durations to milliseconds and applies defaults", () => {
    const exp = load(VALID);
    expect(exp.methodMs).toBe(10_000);
    expect(exp.faults[0]).toMatchObject({ name: "freeze", atMs: 2000, durationMs: 5000, target: "api" });
    expect(exp.faults[0]!.action.name).toBe("process.suspend");
    expect(exp.abort).toEqual({ intervalMs: 1000, after: 2, graceMs: 0 });
    expect(exp.recovery).toEqual({ timeoutMs: 30_000, intervalMs: 1000, holdMs: 0 });
    expect(exp.steadyState[0]!.params).toMatchObject({ url: "http://127.0.0.1:8080/health", method: "GET", timeout: 2000 });
  });

  it("reads the same experiment written as JSON", () => {
    const json = JSON.stringify({
      version: 1,
      title: "json",
      duration: "5s",
      targets: { api: { process: { port: 8080 } } },
      faults: [{ name: "freeze", target: "api", action: "process.suspend" }],
    });
    expect(parseExperiment(json, "exp.json", { registry, vars: { cli: {}, env: {} } }).faults).toHaveLength(1);
  });

  it("uses the method length from the faults when the experiment has no duration", () => {
    const exp = load(VALID.replace("duration: 10s\n", "").replace("    duration: 5s\n", "    duration: 4s\n"));
    expect(exp.methodMs).toBe(6000);
  });

  it("substitutes --var values into numeric fields", () => {
    const exp = load(VALID.replace("port: 8080", 'port: "${vars.port}"').replace("version: 1", "version: 1\nvars: { port: 1 }"), {}, { port: "9090" });
    expect(exp.targets[0]!.selector).toEqual({ port: 9090 });
  });
});

describe("reporting problems with file, line and column", () => {
  it("names a misspelt key and suggests the right one", () => {
    expect(problems(VALID.replace("    at: 2s", "    att: 2s"))).toEqual([
      'exp.yaml:15:5: faults[0].att: unknown key "att" (did you mean "at"?); expected one of: name, action, target, with, at, duration',
    ]);
  });

  it("names an unknown action, suggests the closest and lists the known ones", () => {
    const [message] = problems(VALID.replace("action: process.suspend", "action: process.suspnd"));
    expect(message).toMatch(/^exp\.yaml:14:13: faults\[0\]\.action: unknown action "process\.suspnd" \(did you mean "process\.suspend"\?\); known actions: .*process\.kill/);
  });

  it("names an unknown probe", () => {
    expect(problems(VALID.replace("probe: http", "probe: htp"))[0]).toMatch(/^exp\.yaml:8:12: steadyState\[0\]\.probe: unknown probe "htp" \(did you mean "http"\?\)/);
  });

  it("names an unknown target with a suggestion", () => {
    expect(problems(VALID.replace("target: api", "target: apj"))).toEqual([
      'exp.yaml:13:13: faults[0].target: unknown target "apj" (did you mean "api"?); declared targets: api',
    ]);
  });

  it("refuses a duration without a unit, saying what was found", () => {
    expect(problems(VALID.replace("duration: 10s", "duration: 10"))).toEqual([
      "exp.yaml:3:11: duration: expected a duration like 250ms, 2s, 5m or 1h, found number 10 (add a unit)",
    ]);
  });

  it("reports a missing required key at its parent", () => {
    expect(problems(VALID.replace("title: Freeze the API\n", ""))).toEqual(['exp.yaml:1:1: title: missing required key "title"']);
  });

  it("reports YAML syntax errors with their position", () => {
    const [message] = problems("version: 1\ntitle: [unclosed\nfaults: []\n");
    expect(message).toMatch(/^exp\.yaml:\d+:\d+: not valid YAML\/JSON: /);
  });

  it("reports a duplicated key", () => {
    expect(problems(VALID.replace("version: 1", "version: 1\nversion: 1"))[0]).toMatch(/^exp\.yaml:2:1: .*unique/);
  });

  it("reports an expectation on a field the probe does not have", () => {
    expect(problems(VALID.replace("latencyMs:", "latncyMs:"))[0]).toMatch(/^exp\.yaml:10:28: steadyState\[0\]\.expect\.latncyMs: the http probe has no field "latncyMs" \(did you mean "latencyMs"\?\)/);
  });

  it("reports an invalid regular expression in expect", () => {
    expect(problems(VALID.replace("status: 200", 'status: "/(/"'))[0]).toMatch(/^exp\.yaml:10:23: steadyState\[0\]\.expect\.status: invalid regular expression/);
  });

  it("reports a regex RE2 cannot run at its place, saying why and what to write instead", () => {
    const [problem] = problems(VALID.replace('latencyMs: "< 500"', String.raw`body: '/(\w+) \1/'`));
    expect(problem).toContain(String.raw`exp.yaml:10:34: steadyState[0].expect.body: unsupported regular expression /(\w+) \1/: a backreference \1 at character 7 is not supported`);
    expect(problem).toMatch(/exponential time/);
    expect(problem).toMatch(/write out the text/);
  });

  it("refuses a fault that starts after the method ends", () => {
    expect(problems(VALID.replace("at: 2s", "at: 12s"))[0]).toMatch(/faults\[0\]\.at: fault "freeze" starts at 12s, after the method ends \(duration 10s\)/);
  });

  it("refuses a fault that would outlast the method", () => {
    expect(problems(VALID.replace("duration: 5s", "duration: 9s"))[0]).toMatch(/faults\[0\]\.duration: fault "freeze" would end at 11s/);
  });

  it("refuses a target on an action that takes none", () => {
    const text = VALID.replace("    action: process.suspend\n    at: 2s\n    duration: 5s\n", "    action: command.run\n    with: { command: [\"true\"] }\n");
    expect(problems(text)[0]).toMatch(/faults\[0\]\.target: command\.run acts on no target; remove "target"/);
  });

  it("refuses a shell string where an argument list is required", () => {
    const text = VALID.replace("    target: api\n    action: process.suspend\n    at: 2s\n    duration: 5s\n", '    action: command.run\n    with: { command: "rm -rf /tmp/x" }\n');
    expect(problems(text)[0]).toMatch(/faults\[0\]\.with\.command: expected a list of program and arguments .*chaoscast never runs shell strings/);
  });

  it("refuses an unknown signal name", () => {
    const text = VALID.replace("action: process.suspend", "action: process.signal\n    with: { signal: SIGFOO }");
    expect(problems(text)[0]).toMatch(/faults\[0\]\.with\.signal: expected a signal name such as SIGTERM/);
  });

  it("refuses two faults with the same name", () => {
    const text = `${VALID}  - name: freeze\n    target: api\n    action: process.kill\n`;
    expect(problems(text)[0]).toMatch(/faults\[1\]\.name: two faults are named "freeze"/);
  });

  it("names a missing environment variable where it is used", () => {
    expect(problems(VALID.replace('"http://127.0.0.1:8080/health"', '"http://127.0.0.1:8080/health?t=${env:NO_SUCH_TOKEN}"'))).toEqual([
      "exp.yaml:9:18: steadyState[0].with.url: environment variable NO_SUCH_TOKEN is not set (needed by ${env:NO_SUCH_TOKEN})",
    ]);
  });

  it("explains an empty file and a file that is not a mapping", () => {
    expect(problems("")[0]).toMatch(/exp\.yaml:1:1: the file is empty/);
    expect(problems("- a\n- b\n")[0]).toMatch(/exp\.yaml:1:1: expected a mapping with version, title, faults/);
  });

  it("rejects keys of later format features instead of ignoring them", () => {
    expect(problems(`${VALID}futureFeature: { slo: x }\n`)[0]).toMatch(/unknown key "futureFeature"/);
  });

  it("reports every problem of a file at once", () => {
    expect(problems(VALID.replace("duration: 10s", "duration: 10").replace("probe: http", "probe: htp"))).toHaveLength(2);
  });

  it("never quotes a secret in an error message", () => {
    const found = problems(VALID.replace("duration: 10s", 'duration: "${env:MYTOK}"'), { MYTOK: "supersecret" });
    expect(found.join("\n")).not.toContain("supersecret");
    expect(found[0]).toMatch(/found "\*\*\*"/);
  });

  it("refuses an unquoted comparator that YAML would read as a tag", () => {
    expect(problems(VALID.replace("status: 200", "status: != 500"))[0]).toMatch(/^exp\.yaml:10:23: unknown YAML tag !=; to write a comparator, quote it/);
  });

  it("checks matcher text in action parameters when loading, not when injecting", () => {
    const text = VALID.replace("    target: api\n    action: process.suspend\n    at: 2s\n    duration: 5s\n", '    action: http.request\n    with: { url: "http://127.0.0.1:1/x", expectStatus: ">= x" }\n');
    expect(problems(text)[0]).toMatch(/faults\[0\]\.with\.expectStatus: comparator ">= x" needs a number/);
  });

  it("refuses an abort interval too short to probe in", () => {
    expect(problems(`${VALID}abort: { interval: 0s }\n`)[0]).toMatch(/abort\.interval: expected at least 50ms, found 0ms/);
  });

  it("refuses selecting 0% of targets", () => {
    expect(problems(VALID.replace("api: { process: { port: 8080 } }", "api: { process: { port: 8080 }, select: { percent: 0 } }"))[0]).toMatch(/percent must be more than 0/);
  });

  it("refuses zero-length and day-long-plus durations", () => {
    expect(problems(VALID.replace("duration: 5s", "duration: 0s"))[0]).toMatch(/faults\[0\]\.duration: expected a duration longer than 0s/);
    expect(problems(VALID.replace("duration: 10s", "duration: 600h"))[0]).toMatch(/duration: expected a duration of at most 24h, found "600h"/);
  });

  it("holds .json files to strict JSON (no trailing commas)", () => {
    const json = '{"version": 1, "title": "t", "duration": "1s", "faults": [{"name": "x", "action": "command.run", "with": {"command": ["true"],}}]}';
    expect(() => parseExperiment(json, "exp.json", { registry, vars: { cli: {}, env: {} } })).toThrow(/exp\.json:1:\d+: not valid JSON/);
  });

  it("explains that a file holds one experiment", () => {
    expect(problems(`${VALID}---\nversion: 1\n`)[0]).toMatch(/a file holds one experiment, but a second YAML document/);
  });
});

