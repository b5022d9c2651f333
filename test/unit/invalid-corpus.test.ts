// A corpus of broken experiment files, each a mistake an SRE makes for real, each with what
// chaoscast must say about it and where. Every file goes through the loader exactly as `chaoscast
// validate` / `run` load files (expandPaths + loadAll), and must come back as a structured
// ExperimentError (exit 4) with the expected message at the expected file:line:col: never a
// crash, never a vague message at the wrong place.
//
// The expectation is in the file's leading comment block:
//   # expect: <text the problem ("path: message") must contain>
//   # at: <line>:<col>
//   # var: name=value      (optional, repeatable: as --var name=value)
// or, for JSON and for files that cannot hold a comment, in a sidecar <name>.expect with the same
// lines without "# ".

import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type ChaoscastError, EXIT, ExperimentError, formatProblem } from "../../src/errors.js";
import { expandPaths, loadAll } from "../../src/experiment/loader.js";
import { registry } from "../../src/registry.js";
import { ROOT, runCli } from "../helpers/processes.js";

const DIR = path.join(ROOT, "test/fixtures/invalid");
const SHOWN_DIR = path.relative(process.cwd(), DIR);

interface Expectation {
  file: string;
  expect: string;
  at: string;
  vars: Record<string, string>;
}

function expectationOf(file: string): Expectation {
  const sidecar = path.join(DIR, `${file}.expect`);
  let lines: string[];
  try {
    lines = readFileSync(sidecar, "utf8").split("\n");
  } catch {
    const text = readFileSync(path.join(DIR, file)).toString("utf8");
    const header: string[] = [];
    for (const line of text.split("\n")) {
      if (!line.startsWith("#")) break;
      header.push(line.replace(/^#\s?/, ""));
    }
    lines = header;
  }
  const found: Expectation = { file, expect: "", at: "", vars: {} };
  for (const line of lines) {
    const m = /^(expect|at|var):\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    if (m[1] === "var") {
      const eq = m[2]!.indexOf("=");
      found.vars[m[2]!.slice(0, eq)] = m[2]!.slice(eq + 1);
    } else found[m[1] as "expect" | "at"] = m[2]!;
  }
  return found;
}

const files = readdirSync(DIR)
  .filter((f) => !f.endsWith(".expect"))
  .sort();
const cases = files.map(expectationOf);

/** The environment validate would see, without the variables that would change the outcome. */
function cleanEnv(): Record<string, string | undefined> {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith("CHAOSCAST_VAR_") || name.startsWith("CHAOSCAST_TEST_UNSET_")) delete env[name];
  return env;
}

describe("the corpus of invalid experiments", () => {
  it("has at least 45 files, each with an expectation", () => {
    expect(files.length).toBeGreaterThanOrEqual(45);
    expect(files.filter((f) => f.endsWith(".json")).length).toBeGreaterThanOrEqual(3);
    for (const c of cases) {
      expect(c.expect, `${c.file}: no "expect:"`).not.toBe("");
      expect(c.at, `${c.file}: no "at: line:col"`).toMatch(/^\d+:\d+$/);
    }
  });

  it.each(cases.map((c) => [c.file, c] as const))("%s is refused with its message at its place", async (_name, c) => {
    let error: unknown;
    try {
      const loaded = await loadAll(await expandPaths([path.join(SHOWN_DIR, c.file)]), { registry, vars: { cli: c.vars, env: cleanEnv() } });
      error = new Error(`loaded without a problem: ${loaded.map((e) => e.title).join(", ")}`);
    } catch (err) {
      error = err;
    }
    // How fast (billion laughs and deep nesting included) is bench/loader.js's to measure.
    expect(error).toBeInstanceOf(ExperimentError);
    const problems = (error as ExperimentError).problems;
    expect((error as ChaoscastError).exitCode).toBe(EXIT.invalid);
    const text = problems.map(formatProblem);
    const matching = problems.filter((p) => `${p.path ? `${p.path}: ` : ""}${p.message}`.includes(c.expect));
    expect(matching.map(formatProblem), `expected "${c.expect}" among:\n${text.join("\n")}`).not.toEqual([]);
    expect(matching.map((p) => `${p.file}:${p.line}:${p.col}`)).toContain(`${path.join(SHOWN_DIR, c.file)}:${c.at}`);
    for (const line of text) {
      // One problem per line, nothing raw from the file that could drive the terminal.
      expect(line).not.toMatch(/[\n\r\x00-\x08\x0b-\x1f\x7f]/);
      expect(line).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m);
    }
  });
});

describe("chaoscast validate on the whole corpus (built CLI)", () => {
  it("exits 4, names every file and prints no stack trace", async () => {
    const result = await runCli(["validate", DIR], { cwd: ROOT });
    expect(result.exitCode).toBe(EXIT.invalid);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.all).not.toMatch(/This is a bug in chaoscast|RangeError|TypeError|ReferenceError/);
    expect(result.stdout).toContain(`0 of ${files.length} file(s) valid`);
    for (const file of files) expect(result.stdout).toContain(`✖ ${path.join("test/fixtures/invalid", file)}:`);
  });
});
