// The reports read from a journal's events: the score's maths, the abort latency, and every format's
// escaping of text that came from outside (titles, reasons, what services answered).

import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import type { Outcome, RunEvent, RunEventBody } from "../../src/contract/events.js";
import { buildJournal, type Journal } from "../../src/report/journal.js";
import type { SuiteResult } from "../../src/report/reporter.js";
import { heldShare, scoreRun, suiteScore } from "../../src/report/score.js";
import { runFacts } from "../../src/report/run-facts.js";
import { suiteToJUnit } from "../../src/report/junit-report.js";
import { suiteToMarkdown } from "../../src/report/markdown.js";
import { renderHtml } from "../../src/report/html.js";
import { formatAnnotation } from "../../src/report/github.js";
import { timelineSvg } from "../../src/report/html-timeline.js";
import { readJournalFile } from "../../src/report/journal-file.js";
import { ROOT } from "../helpers/processes.js";

const HOSTILE = `<script>alert(1)</script> ]]> | [x](http://evil) \u001b[2J & "q" 'a' \u0007 ::add-mask::x\n::error::y`;

/** A run's events, each stamped at the given time; a method of `methodMs` starting at 1000. */
function journalOf(bodies: [number, RunEventBody][], options: { title?: string; methodMs?: number } = {}): Journal {
  const started: RunEventBody = { type: "run-started", runId: "r1", title: options.title ?? "t", file: "e.yaml", seed: "s", methodMs: options.methodMs ?? 10_000, faults: 1, probes: 1, hypothesis: [{ name: "p", probe: "http", expect: "latencyMs: < 250", metric: "latencyMs", bound: { op: "<", value: 250 } }], intervalMs: 1000 };
  const events = [[0, started] as [number, RunEventBody], ...bodies].map(([t, body]) => ({ ...body, t, at: new Date(Date.UTC(2026, 11, 6, 12, 0, 0) + t).toISOString() }) as RunEvent);
  return buildJournal({ display: {}, secrets: [] }, events);
}

const obs = (phase: "method" | "recovery", ok: boolean, extra: Partial<Extract<RunEventBody, { type: "observation" }>> = {}): RunEventBody => ({ type: "observation", phase, probe: "p", ok, counted: true, summary: ok ? "fine" : "slow", failures: ok ? [] : ["latencyMs 900 is not < 250"], value: 200, metric: ok ? 20 : 900, durationMs: 5, ...extra });
const finished = (outcome: Outcome, recovered: boolean | null, exitCode = 0): RunEventBody => ({ type: "run-finished", outcome, exitCode, reason: "because", stillInjected: outcome === "rollback-failed" ? ["f on x"] : [], recovered });

/** Method from 1000 to 1000 + ms (or an abort at `abortAt`), probes every second. */
function method(pattern: boolean[], end: (t: number) => [number, RunEventBody][]): [number, RunEventBody][] {
  const events: [number, RunEventBody][] = [[1000, { type: "phase-started", phase: "method" }]];
  for (const [i, ok] of pattern.entries()) events.push([2000 + i * 1000, obs("method", ok)]);
  return [...events, ...end(2000 + pattern.length * 1000)];
}

describe("the resilience score", () => {
  it("is 100 when the hypothesis held the whole method and the steady state returned", () => {
    const j = journalOf([...method([true, true, true], () => [[11_000, { type: "phase-finished", phase: "method", ok: true }]]), [12_000, finished("passed", true)]]);
    expect(scoreRun(j)).toMatchObject({ score: 100, held: 1 });
  });

  it("counts the time an abort cut off as not held, and halves the score when the steady state did not return", () => {
    // Held 1000 → 3000 (the failing answer arrives at 3000), failing after; aborted at 4000 of a 10 s method.
    const events = method([true, false, false], (t) => [
      [t, { type: "abort", reason: "breached" }],
      [t, { type: "phase-finished", phase: "method", ok: false }],
    ]);
    expect(heldShare(journalOf([...events, [6000, finished("aborted", true, 2)]]).events)).toBeCloseTo(0.2, 5);
    expect(scoreRun(journalOf([...events, [6000, finished("aborted", true, 2)]])).score).toBe(20);
    expect(scoreRun(journalOf([...events, [6000, finished("unrecovered", false, 7)]])).score).toBe(10);
  });

  it("counts a breach in a grace period as held and 'no data' as not held", () => {
    const inGrace = (e: RunEventBody): RunEventBody => (e.type === "observation" && !e.ok ? { ...e, counted: false } : e);
    const bodies: [number, RunEventBody][] = [...method([true, false, true], () => [[11_000, { type: "phase-finished", phase: "method", ok: true }]]), [12_000, finished("passed", true)]];
    const grace = journalOf(bodies.map(([t, e]) => [t, inGrace(e)]));
    expect(scoreRun(grace).score).toBe(100);
    const noData = journalOf([
      [1000, { type: "phase-started", phase: "method" }],
      [6000, obs("method", true, { inconclusive: "no data in the window" })],
      [11_000, { type: "phase-finished", phase: "method", ok: true }],
      [12_000, finished("passed", true)],
    ]);
    expect(scoreRun(noData).score).toBe(50);
  });

  it("is 0 with a fault left injected, and absent when nothing was injected or the run was interrupted", () => {
    expect(scoreRun(journalOf([...method([true], () => []), [5000, finished("rollback-failed", null, 3)]])).score).toBe(0);
    expect(scoreRun(journalOf([[10, finished("skipped", null, 5)]]))).toMatchObject({ score: null, why: "nothing was injected" });
    expect(scoreRun(journalOf([...method([true], () => []), [5000, finished("aborted", null, 2)]]))).toMatchObject({ score: null, why: "the run was interrupted" });
    expect(suiteScore([100, null, 50])).toBe(75);
    expect(suiteScore([null])).toBeNull();
  });
});

describe("abort latency", () => {
  it("runs from the failing answer that began the streak to the end of the rollback", () => {
    const j = journalOf([
      ...method([true, false, false], () => []),
      [3000, { type: "breach", probes: ["p"], consecutive: 1, after: 2 }],
      [4000, { type: "breach", probes: ["p"], consecutive: 2, after: 2 }],
      [4010, { type: "abort", reason: "breached" }],
      [4020, { type: "phase-finished", phase: "method", ok: false }],
      [4030, { type: "phase-started", phase: "rollback" }],
      [4250, { type: "phase-finished", phase: "rollback", ok: true }],
      [4260, { type: "phase-started", phase: "recovery" }],
      [5250, { type: "phase-finished", phase: "recovery", ok: true }],
      [5300, finished("aborted", true, 2)],
    ]);
    expect(runFacts(j.events)).toMatchObject({ firstBreachT: 3000, abortT: 4010, detectionMs: 1010, rollbackMs: 240, abortLatencyMs: 1250, timeToRecoveryMs: 1000 });
  });
});

function suiteOf(journal: Journal): SuiteResult {
  return { startedAt: journal.startedAt, finishedAt: journal.finishedAt, runs: [{ journal, journalFile: "/tmp/j.json" }], notRun: [{ file: "x.yaml", title: HOSTILE, reason: HOSTILE }], outcome: journal.outcome, exitCode: journal.exitCode };
}

const hostileRun = () =>
  journalOf(
    [
      [1000, { type: "phase-started", phase: "method" }],
      [1500, { type: "fault-injected", fault: HOSTILE, action: "proxy.latency", target: { id: "x", label: HOSTILE }, revert: HOSTILE }],
      [2000, obs("method", false, { summary: HOSTILE, failures: [HOSTILE], probe: HOSTILE })],
      [2100, { type: "abort", reason: HOSTILE }],
      [2200, { type: "fault-reverted", fault: HOSTILE, target: { id: "x", label: HOSTILE }, attempts: 1, early: false, notes: [HOSTILE] }],
      [2300, { type: "run-finished", outcome: "aborted", exitCode: 2, reason: HOSTILE, stillInjected: [], recovered: true }],
    ],
    { title: HOSTILE },
  );

describe("every report keeps outside text as text", () => {
  it("JUnit: well-formed and valid against the schema CI servers follow", async () => {
    const xml = suiteToJUnit(suiteOf(hostileRun()), { probes: true });
    expect(xml).not.toContain("<script>");
    expect(xml).not.toContain("\u001b");
    expect(xml.match(/<testcase /g)).toHaveLength(3);
    const dir = mkdtempSync(path.join(tmpdir(), "chaoscast-junit-"));
    writeFileSync(path.join(dir, "j.xml"), xml);
    const lint = await execa("xmllint", ["--noout", "--schema", path.join(ROOT, "test/fixtures/junit/junit.xsd"), path.join(dir, "j.xml")], { reject: false, all: true }).catch(() => undefined);
    if (lint && lint.exitCode !== 127 && !/ENOENT/.test(String(lint.all))) expect(lint.exitCode, lint.all).toBe(0);
  });

  it("Markdown: no HTML, no link, no broken table row", () => {
    const md = suiteToMarkdown(suiteOf(hostileRun()));
    expect(md).not.toMatch(/<script|<img/);
    expect(md).not.toMatch(/(?<!\\)\]\(http/);
    expect(md).not.toContain("\u001b");
    for (const row of md.split("\n").filter((l) => l.startsWith("| "))) expect(row.split(/(?<!\\)\|/).length).toBe(9);
  });

  it("HTML: no markup or script from a title, a fault name or a probe's answer", () => {
    const html = renderHtml(suiteOf(hostileRun()));
    expect(html).not.toContain("<script>alert");
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(html).not.toContain("\u001b");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });

  it("GitHub annotations: a newline or a colon cannot end the command or start another", () => {
    const line = formatAnnotation({ level: "error", file: "a,b:c.yaml", line: 3, title: HOSTILE, message: HOSTILE });
    expect(line.trimEnd().split("\n")).toHaveLength(1);
    expect(line).toMatch(/^::error file=a%2Cb%3Ac\.yaml,line=3,title=[^:]*::/);
    expect(line).toContain("%0A::error::y");
  });
});

describe("the timeline", () => {
  it("keeps at most a dozen ticks on its axis however long the run, with labels that never read alike", () => {
    for (const end of [900, 1_750, 20_000, 3_600_000, 300 * 24 * 3600_000]) {
      const j = journalOf([[end, finished("passed", true)]]);
      const labels = [...timelineSvg(j).matchAll(/<text class="tick"[^>]*text-anchor="middle">([^<]*)</g)].map((m) => m[1]);
      expect(labels.length).toBeLessThanOrEqual(13);
      expect(new Set(labels).size).toBe(labels.length);
    }
  });

  it("draws an answer without a value on the top edge of a numeric chart, not among low values", () => {
    const j = journalOf([
      [1000, { type: "phase-started", phase: "method" }],
      [2000, obs("method", true)],
      [3000, { type: "observation", phase: "method", probe: "p", ok: false, counted: true, summary: "no answer in time", failures: ["no answer"], value: undefined, durationMs: 300 }],
      [4000, obs("method", true)],
      [5000, finished("aborted", true, 2)],
    ]);
    const svg = timelineSvg(j);
    const dots = [...svg.matchAll(/<circle class="obs (\w+)" cx="[\d.]+" cy="([\d.]+)"/g)].map((m) => ({ state: m[1], cy: Number(m[2]) }));
    const breach = dots.find((d) => d.state === "breach")!;
    expect(Math.min(...dots.map((d) => d.cy))).toBe(breach.cy);
    // The measured line is not drawn across the gap.
    expect(svg.match(/<polyline class="series"/g) ?? []).toHaveLength(0);
    expect(svg).toContain("top edge: no value");
  });
});

describe("journals read back are untrusted", () => {
  const write = (name: string, text: string) => {
    const dir = mkdtempSync(path.join(tmpdir(), "chaoscast-journal-"));
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it("reads back what run writes", async () => {
    const journal = hostileRun();
    const read = await readJournalFile(write("ok.json", JSON.stringify(journal)));
    expect(read).toEqual({ journal: JSON.parse(JSON.stringify(journal)) });
  });

  it("reads back a run whose probe never answered (an observation without a value)", async () => {
    const journal = journalOf([
      [1000, { type: "phase-started", phase: "method" }],
      [2000, { type: "observation", phase: "method", probe: "p", ok: false, counted: true, summary: "no answer in time", failures: ["no answer"], value: undefined, durationMs: 300 }],
      [2100, finished("aborted", true, 2)],
    ]);
    const read = await readJournalFile(write("timeout.json", JSON.stringify(journal)));
    expect("journal" in read).toBe(true);
  });

  it.each([
    ["not JSON", "{\n  \"a\": 1,\n  nope\n}", /line|valid JSON/],
    ["another JSON document", JSON.stringify({ hello: "world" }), /expected a chaoscast journal/],
    ["an event of the wrong shape", JSON.stringify({ ...hostileRun(), events: [{ type: "observation", t: 1, at: "x", probe: 3 }] }), /expected a chaoscast journal/],
    ["an event with no time", JSON.stringify({ ...hostileRun(), events: [{ type: "mystery" }] }), /expected a chaoscast journal/],
    ["no run-finished event", JSON.stringify({ ...hostileRun(), events: [] }), /run-started and run-finished/],
    ["a run a billion years long", JSON.stringify({ ...hostileRun(), durationMs: 1e308 }), /durationMs: .*expected a chaoscast journal .*(<=|too big|at most)/i],
    ["an event at 1e12 ms", JSON.stringify({ ...hostileRun(), events: hostileRun().events.map((e) => ({ ...e, t: 1e12 })) }), /events\[0\]\.t/],
    ["a start that is not a date", JSON.stringify({ ...hostileRun(), startedAt: "not a date" }), /ISO 8601/],
    ["an observation whose failures are not text", JSON.stringify({ ...hostileRun(), events: hostileRun().events.map((e) => (e.type === "observation" ? { ...e, failures: [3] } : e)) }), /events\[3\]\.failures\[0\]/],
    ["nesting without end", `${"[".repeat(10_000)}${"]".repeat(10_000)}`, /nests more than/],
  ])("refuses %s with a problem naming the file", async (_what, text, message) => {
    const file = write("bad.json", text);
    const read = await readJournalFile(file);
    expect("problem" in read && read.problem.file).toBe(file);
    expect("problem" in read && `${read.problem.path}: ${read.problem.message}`).toMatch(message);
  });
});
