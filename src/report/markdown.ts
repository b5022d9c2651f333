// The suite as Markdown (`run --summary`, and $GITHUB_STEP_SUMMARY under GitHub Actions): a verdict,
// a table of every experiment and, for the ones that did not pass, why and what it cost.

import type { Outcome } from "../contract/events.js";
import type { SuiteResult } from "./reporter.js";
import { cohortVerdictText, humanMs, runFacts } from "./run-facts.js";
import { scoreRun, suiteScore } from "./score.js";

const MARK: Record<Outcome, string> = {
  passed: "✅",
  "dry-run": "✅",
  deviated: "⚠️",
  aborted: "🛑",
  unrecovered: "❌",
  "rollback-failed": "❌",
  refused: "⛔",
  skipped: "⏭️",
};

/** Text from outside as Markdown that stays text: no HTML, no links, no table breaks, one line. */
export function mdText(text: string): string {
  return text
    .replace(/[\r\n\t]+/g, " ")
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, "\uFFFD")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/([\\`*_[\]|~#!])/g, "\\$1");
}

export function suiteToMarkdown(suite: SuiteResult): string {
  const scores = suite.runs.map((r) => scoreRun(r.journal).score);
  const overall = suiteScore(scores);
  const total = suite.runs.length + suite.notRun.length;
  const lines = [
    `## ${MARK[suite.outcome]} chaoscast: ${suite.outcome} (exit ${suite.exitCode})`,
    "",
    `${suite.runs.length} of ${total} experiment(s) run${overall === null ? "" : ` · resilience score ${overall}/100`} · ${suite.startedAt}`,
    "",
    "| | outcome | experiment | file | time | score | why |",
    "|---|---|---|---|---|---|---|",
  ];
  suite.runs.forEach((run, i) => {
    const j = run.journal;
    lines.push(`| ${MARK[j.outcome]} | ${j.outcome} | ${mdText(j.title)} | ${mdText(j.file)} | ${humanMs(j.durationMs)} | ${scores[i] ?? "–"} | ${mdText(j.reason)} |`);
  });
  for (const n of suite.notRun) lines.push(`| ⏸️ | not run | ${mdText(n.title)} | ${mdText(n.file)} | – | – | ${mdText(n.reason)} |`);
  const troubled = suite.runs.filter((r) => !["passed", "dry-run"].includes(r.journal.outcome));
  for (const run of troubled) {
    const j = run.journal;
    const facts = runFacts(j.events);
    lines.push("", `### ${MARK[j.outcome]} ${mdText(j.title)}`, "", `- **${j.outcome}**: ${mdText(j.reason)}`);
    const cohorts = cohortVerdictText(j.events);
    if (cohorts) lines.push(`- cohort verdict ${mdText(cohorts)}`);
    if (facts.abortT !== null) lines.push(`- abort latency ${humanMs(facts.abortLatencyMs)} (detected in ${humanMs(facts.detectionMs)}, rolled back in ${humanMs(facts.rollbackMs)})`);
    if (facts.timeToRecoveryMs !== null) lines.push(`- steady state back ${humanMs(facts.timeToRecoveryMs)} after the rollback`);
    for (const s of j.stillInjected) lines.push(`- **still injected**: ${mdText(s)}`);
    if (run.journalFile) lines.push(`- journal: ${mdText(run.journalFile)}`);
  }
  return `${lines.join("\n")}\n`;
}
