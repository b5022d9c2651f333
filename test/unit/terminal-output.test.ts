// What chaoscast prints about things from outside (titles, fault names, what a service answered,
// values quoted in errors) comes out as text: one escaped line each, never a sequence a terminal
// would act on, never a forged line.

import { writeFileSync } from "node:fs";
import path from "node:path";
import { Chalk } from "chalk";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { RunEvent, RunEventBody } from "../../src/contract/events.js";
import { TextRenderer } from "../../src/cli/render/text.js";
import { main } from "../../src/cli/main.js";
import { tempDir } from "../helpers/temp.js";

/** What would drive a terminal (a C0 or C1 control, DEL, a line or bidi control), line breaks aside. */
const DRIVES_A_TERMINAL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
const HOSTILE = "x\x1b[2J\x1b]52;c;ZXZpbA==\x07\nPASSED (exit 0) everything was reverted\u202E";

function capture(stream: NodeJS.WriteStream): string[] {
  const chunks: string[] = [];
  vi.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString());
    return true;
  });
  return chunks;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the run renderer", () => {
  const event = (body: RunEventBody): RunEvent => ({ ...body, at: "2026-01-01T00:00:00.000Z", t: 0 }) as RunEvent;
  const target = { id: "b", label: `item ${HOSTILE}` };

  it("prints each event whose fields hold escape sequences or a forged line as one escaped line", () => {
    const out = capture(process.stdout);
    const renderer = new TextRenderer(new Chalk({ level: 0 }), false, undefined);
    const events: RunEventBody[] = [
      { type: "run-started", runId: "r-1", title: `Edge ${HOSTILE}`, file: `exp${HOSTILE}.yaml`, seed: "s", methodMs: 1000, faults: 1, probes: 1 },
      { type: "targets-resolved", target: `t${HOSTILE}`, description: `items ${HOSTILE}`, candidates: 1, excluded: [], chosen: [target] },
      { type: "fault-injected", fault: `break ${HOSTILE}`, action: "mem.break", target, revert: `repair ${HOSTILE}` },
      { type: "observation", phase: "steady-state-before", probe: `probe ${HOSTILE}`, ok: false, counted: true, summary: `body ${HOSTILE}`, failures: [`status ${HOSTILE}`], value: HOSTILE, durationMs: 3 },
      { type: "breach", probes: [`probe ${HOSTILE}`], consecutive: 1, after: 2 },
      { type: "abort", reason: `breached ${HOSTILE}` },
      { type: "fault-failed", fault: `break ${HOSTILE}`, action: "mem.break", target, error: `refused ${HOSTILE}` },
      { type: "revert-retry", fault: `break ${HOSTILE}`, target, attempt: 1, error: `busy ${HOSTILE}`, retryInMs: 100 },
      { type: "fault-reverted", fault: `break ${HOSTILE}`, target, attempts: 1, early: false, notes: [`note ${HOSTILE}`] },
      { type: "revert-failed", fault: `break ${HOSTILE}`, target, revert: `repair ${HOSTILE}`, error: `gone ${HOSTILE}` },
      { type: "rollback-step", step: `step ${HOSTILE}`, action: "command.run", ok: false, error: `exit 1 ${HOSTILE}` },
      { type: "phase-finished", phase: "method", ok: false, detail: `detail ${HOSTILE}` },
      { type: "note", message: `note ${HOSTILE}` },
      { type: "run-finished", outcome: "aborted", exitCode: 2, reason: `reason ${HOSTILE}`, stillInjected: [`break ${HOSTILE}`], recovered: null },
    ];
    for (const body of events) renderer.event(event(body));

    expect(out.length).toBeGreaterThanOrEqual(events.length);
    for (const chunk of out) {
      expect(chunk.endsWith("\n")).toBe(true);
      const line = chunk.slice(0, -1);
      expect(line, JSON.stringify(chunk)).not.toContain("\n");
      expect(line, JSON.stringify(chunk)).not.toMatch(DRIVES_A_TERMINAL);
    }
    const text = out.join("");
    expect(text).not.toMatch(/^PASSED/m);
    expect(text).toContain("Edge x\\e[2J\\e]52;c;ZXZpbA==\\u0007\\nPASSED (exit 0) everything was reverted\\u202e");
    expect(text).toContain("injected break x\\e[2J");
  });
});

describe("main(), printing an error", () => {
  it("escapes a value the message quotes, so it cannot clear the screen or overwrite the line", async () => {
    const err = capture(process.stderr);
    capture(process.stdout);
    const code = await main(["validate", "missing\x1b[2J\x1b]52;c;ZXZpbA==\x07\rPASSED (exit 0)\x9b\u202E.yaml"]);
    expect(code).toBe(4);
    const text = err.join("");
    expect(text).toBe("missing\\e[2J\\e]52;c;ZXZpbA==\\u0007\\rPASSED (exit 0)\\u009b\\u202e.yaml: no such file or directory\n");
  });

  it("escapes every line of a message whose quoted value holds a line break", async () => {
    // main() cannot tell chaoscast's own line breaks from a quoted value's, so it keeps both; what
    // follows the break is escaped like the rest and cannot drive the terminal.
    const err = capture(process.stderr);
    capture(process.stdout);
    expect(await main(["validate", `missing${HOSTILE}.yaml`])).toBe(4);
    expect(err.join("").replaceAll("\n", "")).not.toMatch(DRIVES_A_TERMINAL);
  });

  it("keeps the lines of a message listing several problems, each escaped", async () => {
    const dir = tempDir("chaoscast-main-");
    const files = ["a", "b"].map((name) => {
      const file = path.join(dir, `${name}.yaml`);
      writeFileSync(file, "version: 1\ntitle: t\nfaults:\n  - { name: f, action: nope }\n");
      return file;
    });
    const err = capture(process.stderr);
    capture(process.stdout);
    expect(await main(["plan", ...files])).toBe(4);
    const lines = err.join("").trimEnd().split("\n");
    expect(lines.filter((l) => l.includes("unknown action")).length).toBe(2);
    expect(err.join("")).not.toMatch(DRIVES_A_TERMINAL);
  });
});
