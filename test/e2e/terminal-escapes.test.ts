// The built CLI, given files whose names and titles hold escape sequences, prints them as text a
// terminal shows rather than acts on.

import { describe, expect, it } from "vitest";
import { runCli, workdir, writeExperiment } from "../helpers/processes.js";

/** What would drive a terminal (a C0 or C1 control, DEL, a line or bidi control), line breaks aside. */
const DRIVES_A_TERMINAL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
const NAME = "evil\x1b[2J\x9b31m\u202Egnp.yaml";
const SHOWN_NAME = "evil\\e[2J\\u009b31m\\u202egnp.yaml";

// YAML double-quoted escapes: \e is ESC, \x9b the C1 CSI, \n a line break.
const VALID = `version: 1
title: "Title \\e[2J\\e]8;;https://evil.example/\\e\\\\link\\e]8;;\\e\\\\ \\x9b31m\\u202Edone\\nPASSED (exit 0)"
duration: 1s
faults:
  - { name: "f", action: command.run, with: { command: ["true"] } }
`;
const SHOWN_TITLE = "Title \\e[2J\\e]8;;https://evil.example/\\e\\link\\e]8;;\\e\\ \\u009b31m\\u202edone\\nPASSED (exit 0)";

describe("chaoscast validate, given escape sequences in file names and titles", () => {
  it("prints the file name and the title escaped, on one line", async () => {
    const dir = workdir();
    writeExperiment(dir, NAME, VALID);
    const result = await runCli(["validate", NAME], { cwd: dir });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`✔ ${SHOWN_NAME}: ${SHOWN_TITLE}`);
    expect(result.all.replaceAll("\n", "")).not.toMatch(DRIVES_A_TERMINAL);
  });

  it("prints an invalid file's name and the values its problems quote escaped", async () => {
    const dir = workdir();
    writeExperiment(dir, NAME, VALID.replace("duration: 1s", 'duration: "\\e[2J1s"'));
    const result = await runCli(["validate", NAME], { cwd: dir });
    expect(result.exitCode).toBe(4);
    expect(result.stdout).toContain(`✖ ${SHOWN_NAME}: 1 problem(s)`);
    expect(result.stdout).toContain(`${SHOWN_NAME}:3:11: duration: expected a duration like 250ms, 2s, 5m or 1h, found "\\e[2J1s"`);
    expect(result.all.replaceAll("\n", "")).not.toMatch(DRIVES_A_TERMINAL);
  });

  it("writes --output json that holds them as JSON escapes a terminal does not act on", async () => {
    const dir = workdir();
    writeExperiment(dir, NAME, VALID);
    const result = await runCli(["validate", NAME, "--output", "json"], { cwd: dir });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.replaceAll("\n", "")).not.toMatch(DRIVES_A_TERMINAL);
    const parsed = JSON.parse(result.stdout) as { files: { file: string; title: string }[] };
    expect(parsed.files[0]!.file).toBe(NAME);
    expect(parsed.files[0]!.title).toContain("\x1b[2J");
  });
});
