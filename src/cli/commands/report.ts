// `chaoscast report JOURNAL…`: render the reports of `run` (HTML, JUnit, Markdown, the table) from
// journals already on disk, and compare runs of the same experiment over time. Journals are
// untrusted input: every one is checked before anything is written.

import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { ExperimentError, UsageError, type Problem } from "../../errors.js";
import { OUTCOME_EXIT, worstOutcome } from "../../engine/outcome.js";
import type { Journal } from "../../report/journal.js";
import { readJournalFile } from "../../report/journal-file.js";
import type { SuiteResult } from "../../report/reporter.js";
import { trendsOf, type Trend } from "../../report/trend.js";
import { humanMs } from "../../report/run-facts.js";
import { displayPath } from "../../util/display-path.js";
import { writeOutputFile } from "../../util/output-file.js";
import { forTerminal, terminalSafeJson } from "../../util/terminal-text.js";
import { checkOutputFile } from "../output-target.js";
import { makeStyle } from "../render/style.js";
import { suiteTable } from "../render/text.js";
import { runsDir, type CommonOptions } from "../shared.js";

export interface ReportOptions extends CommonOptions {
  html?: string;
  junit?: string;
  junitProbes?: boolean;
  summary?: string;
}

export async function reportCommand(paths: string[], options: ReportOptions): Promise<number> {
  for (const [flag, file] of [["--html", options.html], ["--junit", options.junit], ["--summary", options.summary]] as const) {
    if (file !== undefined) await checkOutputFile(flag, file);
  }
  const files = await journalFiles(paths);
  const problems: Problem[] = [];
  const runs: { journal: Journal; journalFile: string }[] = [];
  for (const file of files) {
    const read = await readJournalFile(file);
    if ("problem" in read) problems.push(read.problem);
    else runs.push({ journal: read.journal, journalFile: file });
  }
  if (problems.length > 0) throw new ExperimentError(problems);
  runs.sort((a, b) => a.journal.startedAt.localeCompare(b.journal.startedAt));
  const outcome = worstOutcome(runs.map((r) => r.journal.outcome));
  const suite: SuiteResult = {
    startedAt: runs[0]!.journal.startedAt,
    finishedAt: runs.at(-1)!.journal.finishedAt,
    runs,
    notRun: [],
    outcome,
    exitCode: OUTCOME_EXIT[outcome],
  };
  const trends = trendsOf(runs.map((r) => r.journal));
  const style = makeStyle(process.stdout, options.color);
  const written = (file: string) => process.stderr.write(style.dim(`wrote ${forTerminal(displayPath(file))}\n`));
  if (options.html) {
    const { renderHtml } = await import("../../report/html.js");
    await writeOutputFile(options.html, renderHtml(suite, { trends }));
    written(options.html);
  }
  if (options.junit) {
    const { suiteToJUnit } = await import("../../report/junit-report.js");
    await writeOutputFile(options.junit, suiteToJUnit(suite, { probes: options.junitProbes ?? false }));
    written(options.junit);
  }
  if (options.summary) {
    const { suiteToMarkdown } = await import("../../report/markdown.js");
    await writeOutputFile(options.summary, suiteToMarkdown(suite));
    written(options.summary);
  }
  if (options.output === "json") {
    const { scoreRun, suiteScore } = await import("../../report/score.js");
    const { runFacts } = await import("../../report/run-facts.js");
    const scores = runs.map((r) => scoreRun(r.journal));
    const body = {
      outcome,
      exitCode: suite.exitCode,
      score: suiteScore(scores.map((s) => s.score)),
      runs: runs.map((r, i) => {
        const facts = runFacts(r.journal.events);
        return { journal: r.journalFile, runId: r.journal.runId, title: r.journal.title, file: r.journal.file, startedAt: r.journal.startedAt, outcome: r.journal.outcome, score: scores[i]!.score, scoreWhy: scores[i]!.why, abortLatencyMs: facts.abortLatencyMs, timeToRecoveryMs: facts.timeToRecoveryMs };
      }),
      trends,
    };
    process.stdout.write(`${terminalSafeJson(body, 2)}\n`);
    return 0;
  }
  for (const line of suiteTable(suite, style)) process.stdout.write(`${line.replace(/^\n/, "")}\n`);
  for (const trend of trends) process.stdout.write(trendText(trend, style));
  return 0;
}

function trendText(trend: Trend, s: ReturnType<typeof makeStyle>): string {
  const lines = [`\n${s.bold(`Over time: ${forTerminal(trend.title)}`)} ${s.dim(`(${forTerminal(displayPath(trend.file))})`)}`];
  lines.push(s.dim(`  ${"started".padEnd(25)} ${"outcome".padEnd(15)} ${"abort latency".padStart(13)} ${"recovery".padStart(10)} ${"score".padStart(5)}`));
  for (const p of trend.points) {
    lines.push(`  ${forTerminal(p.startedAt).padEnd(25)} ${p.outcome.padEnd(15)} ${humanMs(p.abortLatencyMs).padStart(13)} ${humanMs(p.timeToRecoveryMs).padStart(10)} ${String(p.score ?? "–").padStart(5)}`);
  }
  lines.push(`  ${forTerminal(trend.verdict)}`);
  return `${lines.join("\n")}\n`;
}

/** The journals named: files as given, directories' own *.json files (the runs/ directory, a --journal dir). */
async function journalFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const p of paths) {
    const info = await stat(p).catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`${p}: ${err.code === "ENOENT" ? "no such file or directory" : (err.code ?? err.message)}`);
    });
    if (info.isDirectory()) {
      const names = (await readdir(p)).filter((n) => n.endsWith(".json")).sort();
      files.push(...names.map((n) => path.join(p, n)));
    } else files.push(p);
  }
  if (files.length === 0) throw new UsageError(`no journals found in ${paths.join(", ")} (journals are the .json files run writes, by default in ${displayPath(runsDir())})`);
  return files;
}
