// A suite as JUnit XML (`run --junit`, `report --junit`): one testcase per experiment, and with
// `probes` one more per steady-state probe. Deviated, aborted, unrecovered and rollback-failed are
// failures with the reason; refused is an error (it could not be tried); skipped and never-run are
// skipped. system-out holds the journal's path and the run's story, probe by probe.

import type { Outcome, RunEvent } from "../contract/events.js";
import type { Journal } from "./journal.js";
import { renderJUnit, type JUnitCase } from "./junit.js";
import type { FinishedRun, SuiteResult } from "./reporter.js";
import { cohortVerdictText, humanMs, runFacts } from "./run-facts.js";
import { scoreRun } from "./score.js";

type Observation = Extract<RunEvent, { type: "observation" }>;

const FAILED: readonly Outcome[] = ["deviated", "aborted", "unrecovered", "rollback-failed"];

export interface JUnitOptions {
  /** A testcase per steady-state probe too, failed when the probe breached. */
  probes: boolean;
}

export function suiteToJUnit(suite: SuiteResult, options: JUnitOptions): string {
  const cases: JUnitCase[] = [];
  for (const run of suite.runs) {
    cases.push(experimentCase(run));
    if (options.probes) cases.push(...probeCases(run.journal));
  }
  for (const skipped of suite.notRun) {
    cases.push({ name: skipped.title, classname: classname(skipped.file), timeSeconds: 0, result: { kind: "skipped", message: `not run: ${skipped.reason}` } });
  }
  return renderJUnit([{ name: "chaoscast run", timestamp: suite.startedAt, cases }]);
}

function classname(file: string): string {
  return `chaoscast.${file}`;
}

function experimentCase(run: FinishedRun): JUnitCase {
  const j = run.journal;
  const message = `${j.outcome} (exit ${j.exitCode}): ${j.reason}`;
  const detail = j.stillInjected.length ? `Still injected, fix by hand:\n${j.stillInjected.map((s) => `  ${s}`).join("\n")}` : undefined;
  const result: JUnitCase["result"] = FAILED.includes(j.outcome)
    ? { kind: "failure", message, ...(detail ? { detail } : {}) }
    : j.outcome === "refused"
      ? { kind: "error", message }
      : j.outcome === "skipped"
        ? { kind: "skipped", message }
        : { kind: "passed" };
  return { name: j.title, classname: classname(j.file), timeSeconds: j.durationMs / 1000, result, systemOut: narrative(run) };
}

function probeCases(j: Journal): JUnitCase[] {
  const facts = runFacts(j.events);
  const names = facts.hypothesis.length ? facts.hypothesis.map((h) => h.name) : [...new Set(observations(j.events).map((o) => o.probe))];
  return names.map((name) => {
    const seen = observations(j.events).filter((o) => o.probe === name);
    const breaches = seen.filter((o) => !o.ok && o.counted);
    const line = facts.hypothesis.find((h) => h.name === name);
    const result: JUnitCase["result"] =
      seen.length === 0
        ? { kind: "skipped", message: "never observed" }
        : breaches.length > 0
          ? { kind: "failure", message: `breached in ${breaches.length} of ${seen.length} observation(s); first: ${breaches[0]!.failures.join("; ") || breaches[0]!.summary}` }
          : { kind: "passed" };
    return {
      name: `${j.title} › ${name}`,
      classname: classname(j.file),
      timeSeconds: seen.reduce((sum, o) => sum + o.durationMs, 0) / 1000,
      result,
      systemOut: [line ? `expect ${line.expect}` : "", ...seen.map(observationLine)].filter(Boolean).join("\n"),
    };
  });
}

function observations(events: readonly RunEvent[]): Observation[] {
  return events.filter((e): e is Observation => e.type === "observation");
}

function observationLine(o: Observation): string {
  const mark = o.inconclusive !== undefined ? "?" : o.ok ? "✓" : o.counted ? "✗" : "~";
  const why = o.ok ? "" : ` (${o.failures.join("; ")})`;
  return `+${(o.t / 1000).toFixed(1)}s ${o.phase.padEnd(19)} ${mark} ${o.probe}: ${o.summary}${why}`;
}

/** The run told in plain lines: where its journal is, what was chosen and done, and every observation. */
export function narrative(run: FinishedRun): string {
  const j = run.journal;
  const facts = runFacts(j.events);
  const score = scoreRun(j);
  const lines = [
    `${j.title}: ${j.outcome} (exit ${j.exitCode})`,
    `reason: ${j.reason}`,
    ...(run.journalFile ? [`journal: ${run.journalFile}`] : []),
    `run ${j.runId}, seed ${j.seed}, started ${j.startedAt}, ${humanMs(j.durationMs)}`,
    `resilience score: ${score.score ?? "none"} (${score.why})`,
  ];
  const cohorts = cohortVerdictText(j.events);
  if (cohorts) lines.push(`cohort verdict ${cohorts}`);
  if (facts.abortT !== null) lines.push(`abort latency ${humanMs(facts.abortLatencyMs)}: detected in ${humanMs(facts.detectionMs)}, rolled back in ${humanMs(facts.rollbackMs)}`);
  if (facts.timeToRecoveryMs !== null) lines.push(`steady state back ${humanMs(facts.timeToRecoveryMs)} after the rollback`);
  for (const e of j.events) {
    if (e.type === "targets-resolved") lines.push(`target ${e.target}: ${e.chosen.length} of ${e.candidates} chosen${e.chosen.length ? ` (${e.chosen.map((c) => c.label).join(", ")})` : ""}${e.excluded.length ? `, ${e.excluded.length} excluded` : ""}`);
  }
  for (const f of j.faults) lines.push(`fault ${f.fault} (${f.action})${f.target ? ` on ${f.target}` : ""}: ${f.status}${f.revert ? `; revert: ${f.revert}` : ""}`);
  lines.push("timeline:");
  for (const e of j.events) {
    if (e.type === "observation") lines.push(`  ${observationLine(e)}`);
    else if (e.type === "fault-injected") lines.push(`  +${(e.t / 1000).toFixed(1)}s injected ${e.fault}${e.target ? ` → ${e.target.label}` : ""}`);
    else if (e.type === "fault-reverted") lines.push(`  +${(e.t / 1000).toFixed(1)}s reverted ${e.fault}${e.target ? ` on ${e.target.label}` : ""}`);
    else if (e.type === "abort") lines.push(`  +${(e.t / 1000).toFixed(1)}s ABORT: ${e.reason}`);
    else if (e.type === "revert-failed") lines.push(`  +${(e.t / 1000).toFixed(1)}s STILL INJECTED ${e.fault}: ${e.error}`);
  }
  return lines.join("\n");
}
