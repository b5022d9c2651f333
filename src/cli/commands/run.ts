// `chaoscast run`: validate every file first, then run each experiment in turn, writing a journal
// per run. Stops the batch after an interrupt or a failed rollback.

import { appendFile, stat } from "node:fs/promises";
import { lstatSync, readFileSync } from "node:fs";
import { checkOutputFile, checkWritableDir } from "../output-target.js";
import path from "node:path";
import { displayPath } from "../../util/display-path.js";
import { forTerminal, terminalSafeJson } from "../../util/terminal-text.js";
import { createInterface } from "node:readline/promises";
import type { CompiledExperiment } from "../../contract/compiled-experiment.js";
import { checkStatic, type Policy } from "../../policy/rules.js";
import { loadPolicy } from "../../policy/file.js";
import { parseDuration } from "../../contract/duration.js";
import type { ResolvedPlan } from "../../engine/runner.js";
import { runSuite, type SuiteOutcome } from "../../engine/suite.js";
import type { FinishedRun, Reporter, SuiteResult } from "../../report/reporter.js";
import { JsonLinesReporter } from "../../report/jsonl.js";
import { scoreRun, suiteScore } from "../../report/score.js";
import { errorMessage, ExperimentError, PolicyError, UsageError } from "../../errors.js";
import { staticFacts } from "../../engine/preflight.js";
import { JournalReporter } from "../../report/journal-reporter.js";
import { trapInterrupts } from "../interrupts.js";
import { currentOwner } from "../../util/process-owner.js";
import type { WatchdogGuard } from "../../watchdog/guard.js";
import { DEFAULT_HANG_MS, MIN_HANG_MS } from "../../watchdog/protocol.js";
import { budgetCheck, canPrompt, chaoscastDir, haltFile, defaultSeed, isInteractive, loadExperiments, locksDir, preparePrivateDirs, registry, runsDir, stateDir, type CommonOptions } from "../shared.js";
import { makeStyle } from "../render/style.js";
import { TextRenderer } from "../render/text.js";

export interface RunCommandOptions extends CommonOptions {
  dryRun?: boolean;
  yes?: boolean;
  journal?: string;
  waitLock?: string | boolean;
  respectSchedule?: boolean;
  /** Stop the suite after the first experiment that deviates, aborts or fails to roll back. */
  failFast?: boolean;
  /** Write a JUnit XML report here. */
  junit?: string;
  /** A JUnit testcase per steady-state probe too. */
  junitProbes?: boolean;
  /** Write the self-contained HTML report here. */
  report?: string;
  /** Write the Markdown summary here. */
  summary?: string;
  /** Post to this Slack-compatible webhook at start, abort and end (default: CHAOSCAST_NOTIFY_URL). */
  notify?: string;
  /** How long the run may stop heart-beating before its watchdog ends it and rolls back; "off" for none. */
  watchdog?: string;
}

/** What the policy forbids in the files themselves refuses the whole batch before anything runs. */
export function refuseStaticViolations(experiments: CompiledExperiment[], policy: Policy): void {
  const lines = experiments.flatMap((e) => checkStatic(staticFacts(e), policy).map((v) => `${e.file}: ${v.message}`));
  if (lines.length > 0) throw new PolicyError(`refused by the blast-radius policy; nothing was run:\n  ${lines.join("\n  ")}`);
}

const DEFAULT_LOCK_WAIT_MS = 10 * 60_000;

function lockWaitMs(option: string | boolean | undefined): number {
  if (option === undefined || option === false) return 0;
  if (option === true) return DEFAULT_LOCK_WAIT_MS;
  const ms = parseDuration(option);
  if (ms === undefined) throw new UsageError(`--wait-lock ${option}: expected a duration such as 90s, 10m or 1h`);
  return ms;
}

/** The hang bound in ms, or undefined for --watchdog off. */
function watchdogHangMs(option: string | undefined): number | undefined {
  if (option === undefined) return DEFAULT_HANG_MS;
  if (option === "off") return undefined;
  const ms = parseDuration(option);
  if (ms === undefined) throw new UsageError(`--watchdog ${option}: expected a duration such as 3s (how long the run may stop responding before its watchdog rolls back), or off`);
  if (ms < MIN_HANG_MS) throw new UsageError(`--watchdog ${option}: at least ${MIN_HANG_MS / 1000}s, or an ordinary pause (a long garbage collection, a loaded machine) could pass for a hang`);
  return ms;
}

export async function runCommand(paths: string[], options: RunCommandOptions): Promise<number> {
  return (await runSuiteCommand(paths, options)).exitCode;
}

/** `run` for callers that want the suite too (`demo`), with reporters of their own after the built-in ones. */
export async function runSuiteCommand(paths: string[], options: RunCommandOptions, extraReporters: Reporter[] = []): Promise<{ exitCode: number; suite: SuiteResult }> {
  const waitMs = lockWaitMs(options.waitLock);
  const hangMs = watchdogHangMs(options.watchdog);
  let experiments: CompiledExperiment[];
  try {
    experiments = await loadExperiments(paths, options);
  } catch (err) {
    if (err instanceof ExperimentError) await reportInvalidFiles(err, options);
    throw err;
  }
  const { policy } = await loadPolicy();
  refuseStaticViolations(experiments, policy);
  const journalTarget = await journalLocation(options.journal, experiments.length);
  const notifyUrl = options.notify ?? process.env.CHAOSCAST_NOTIFY_URL;
  if (notifyUrl !== undefined) checkWebhookUrl(notifyUrl);
  for (const [flag, file] of [["--junit", options.junit], ["--report", options.report], ["--summary", options.summary]] as const) {
    if (file !== undefined) await checkOutputFile(flag, file);
  }
  // Before anything runs: state and locks must live where no one else can write what rollback executes.
  await preparePrivateDirs(stateDir(), locksDir(), ...(options.journal ? [] : [runsDir()]));
  const output = options.output ?? "text";
  const style = makeStyle(process.stdout, options.color);
  const interactive = output === "text" && isInteractive();
  let renderer: TextRenderer | undefined;
  if (output === "text") {
    const makeSpinner = interactive ? (await import("ora")).default : undefined;
    renderer = new TextRenderer(style, interactive, makeSpinner ? (text) => makeSpinner({ text, stream: process.stderr }) : undefined);
  }
  const seed = options.seed ?? defaultSeed();
  await warnAboutLeftovers(style);
  const warn = (message: string) => {
    if (renderer) renderer.line(style.yellow(message));
    else process.stderr.write(`${message}\n`);
  };
  // A dry run injects nothing, so there is nothing for a watchdog to roll back.
  const guard = hangMs !== undefined && !options.dryRun ? await startWatchdog(hangMs, warn) : undefined;

  const interrupts = trapInterrupts(
    (signal, first) => {
      const message = first
        ? `${signal}: rolling back every injected fault before exiting…`
        : `${signal}: still rolling back; chaoscast exits as soon as every fault is reverted`;
      if (renderer) renderer.line(style.yellow(message));
      else process.stderr.write(`${message}\n`);
    },
    (signal) => (signal === "SIGTERM" ? haltNote() : undefined),
  );

  const reporters: Reporter[] = [
    // The watchdog hears of each event before anything is shown: whoever reads "injected" and
    // kills the run at once must find the fault on the watchdog's record.
    ...(guard ? [watchdogFeed(guard)] : []),
    // The journal next: the other reporters name its file, and it is the record that must exist.
    new JournalReporter((file) => renderer?.line(style.dim(`journal: ${forTerminal(displayPath(file))}`))),
    // Disarmed only once the journal is written: a run dying in between still gets one.
    ...(guard ? [{ name: "watchdog", runFinished: (run: FinishedRun) => guard.disarm(run.journal.runId) }] : []),
    ...(renderer ? [renderer] : []),
    ...(output === "jsonl" ? [new JsonLinesReporter((line) => process.stdout.write(line))] : []),
    ...(output === "json" ? [jsonOutput()] : []),
    ...(await reportReporters(options, notifyUrl, (message) => warn(`warning: ${message}`), (file) => renderer?.line(style.dim(`report: ${forTerminal(displayPath(file))}`)))),
    ...extraReporters,
  ];
  let suite: SuiteOutcome;
  try {
    suite = await runSuite(experiments, {
      reporters,
      reporterFailed: (name, err) => process.stderr.write(`chaoscast: ${forTerminal(name)}: ${forTerminal(errorMessage(err))}\n`),
      interrupt: interrupts.signal,
      failFast: options.failFast ?? false,
      runIdFor: makeRunId,
      journalFileFor: (runId) => (journalTarget.kind === "file" ? journalTarget.path : path.join(journalTarget.path, `${runId}.json`)),
      runOptions: (experiment, runId) => ({
        registry,
        seed,
        dryRun: options.dryRun ?? false,
        stateDir: stateDir(),
        policy,
        respectSchedule: options.respectSchedule ?? false,
        lock: { dir: locksDir(), waitMs },
        budget: budgetCheck,
        haltFile: haltFile(),
        ...(guard ? { arm: (stateFile: string) => guard.arm(runId, stateFile, journalFor(journalTarget, runId), experiment.display) } : {}),
        ...(output === "text" && !options.yes && canPrompt() ? { confirm: (plan: ResolvedPlan) => confirm(plan, renderer!, interrupts.signal) } : {}),
      }),
    });
  } finally {
    interrupts.dispose();
    await guard?.finish();
  }
  if (interrupts.crash() !== undefined) throw interrupts.crash();
  if (suite.internalError !== undefined) throw suite.internalError;
  return { exitCode: suite.exitCode, suite };
}

/**
 * An invalid file stops the suite before it starts (exit 4), but a CI job's report steps still get
 * their files, naming the problems. Best effort: a report path that cannot be written is left out.
 */
async function reportInvalidFiles(error: ExperimentError, options: RunCommandOptions): Promise<void> {
  const { invalidToJUnit, invalidToMarkdown } = await import("../../report/invalid.js");
  const { underGitHubActions } = await import("../../report/github.js");
  const { writeOutputFile } = await import("../../util/output-file.js");
  const write = async (flag: string, file: string | undefined, text: () => string) => {
    if (file === undefined) return;
    try {
      await checkOutputFile(flag, file);
      await writeOutputFile(file, text());
    } catch {
      // The invalid file is the error to report; a report that cannot be written adds nothing.
    }
  };
  await write("--junit", options.junit, () => invalidToJUnit(error.problems));
  await write("--summary", options.summary, () => invalidToMarkdown(error.problems));
  const stepSummary = underGitHubActions() ? process.env.GITHUB_STEP_SUMMARY : undefined;
  if (stepSummary) await appendFile(stepSummary, invalidToMarkdown(error.problems), { mode: 0o600 }).catch(() => {});
}

/** A webhook URL is checked before anything runs; only its origin is ever shown (its path is a token). */
function checkWebhookUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError("--notify: expected an http(s) URL such as a Slack incoming webhook (the value is not shown: it may hold a token)");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new UsageError(`--notify: expected an http: or https: URL, got ${parsed.protocol}`);
}

/** The reports asked for on the command line, loaded only when asked for. */
async function reportReporters(options: RunCommandOptions, notifyUrl: string | undefined, warn: (message: string) => void, written: (file: string) => void): Promise<Reporter[]> {
  const reporters: Reporter[] = [];
  const { FileReporter, AppendingReporter } = await import("../../report/file-reporter.js");
  if (options.junit) {
    const { suiteToJUnit } = await import("../../report/junit-report.js");
    reporters.push(new FileReporter("JUnit report", options.junit, (suite) => suiteToJUnit(suite, { probes: options.junitProbes ?? false }), written));
  }
  if (options.report) {
    const { renderHtml } = await import("../../report/html.js");
    reporters.push(new FileReporter("HTML report", options.report, (suite) => renderHtml(suite), written));
  }
  const github = await import("../../report/github.js");
  const stepSummary = github.underGitHubActions() ? process.env.GITHUB_STEP_SUMMARY : undefined;
  if (options.summary || stepSummary) {
    const { suiteToMarkdown } = await import("../../report/markdown.js");
    if (options.summary) reporters.push(new FileReporter("Markdown summary", options.summary, suiteToMarkdown, written));
    if (stepSummary) reporters.push(new AppendingReporter("GitHub step summary", stepSummary, suiteToMarkdown));
  }
  if (github.underGitHubActions()) {
    reporters.push({
      name: "GitHub annotations",
      suiteFinished: (suite) => {
        // The runner reads workflow commands on stderr too: with --output json or jsonl, stdout stays parseable.
        const stream = (options.output ?? "text") === "text" ? process.stdout : process.stderr;
        for (const a of github.annotationsOf(suite)) stream.write(`${forTerminal(github.formatAnnotation(a).trimEnd())}\n`);
      },
    });
  }
  if (notifyUrl !== undefined) {
    const { WebhookNotifier } = await import("../../report/notify.js");
    reporters.push(new WebhookNotifier(notifyUrl, { warn }));
  }
  return reporters;
}

/** --output json: the journal of a single run, or the suite's outcome and every journal. */
function jsonOutput(): Reporter {
  return {
    name: "JSON output",
    suiteFinished(suite) {
      const journals = suite.runs.map((r) => r.journal);
      const body =
        journals.length === 1 && suite.notRun.length === 0
          ? journals[0]
          : {
              outcome: suite.outcome,
              exitCode: suite.exitCode,
              score: suiteScore(suite.runs.map((r) => scoreRun(r.journal).score)),
              journalFiles: suite.runs.map((r) => r.journalFile),
              runs: journals,
              notRun: suite.notRun,
            };
      process.stdout.write(`${terminalSafeJson(body, 2)}\n`);
    },
  };
}

/** Feeds the run's events to its watchdog, which rolls back (and writes the journal) if the process dies. */
function watchdogFeed(guard: WatchdogGuard): Reporter {
  let runId = "";
  return {
    name: "watchdog",
    event(event) {
      if (event.type === "run-started") runId = event.runId;
      guard.event(runId, event);
    },
  };
}

async function startWatchdog(hangMs: number, warn: (message: string) => void): Promise<WatchdogGuard> {
  const { WatchdogGuard } = await import("../../watchdog/guard.js");
  return WatchdogGuard.start({
    run: await currentOwner(),
    hangMs,
    dirs: { chaoscast: chaoscastDir(), state: stateDir(), locks: locksDir(), runs: runsDir() },
    onLost: (why) => warn(`warning: ${why}; this run goes on without its watchdog (if it is killed or freezes now, \`chaoscast rollback\` undoes what it left)`),
  });
}

/** Where the watchdog writes the journal if it has to: an absolute path, as the run would have. */
function journalFor(target: JournalTarget, runId: string): JournalTarget {
  return target.kind === "dir" ? { kind: "file", path: path.resolve(target.path, `${runId}.json`) } : { kind: "file", path: path.resolve(target.path) };
}

/** Faults a dead run left behind would distort this run's results: say so before starting. */
async function warnAboutLeftovers(style: ReturnType<typeof makeStyle>): Promise<void> {
  try {
    const { findLeftovers } = await import("../../engine/leftovers.js");
    const { runs, unreadable } = await findLeftovers(stateDir());
    const left = runs.filter((r) => r.liveness === "dead" && r.pending.length > 0);
    if (left.length === 0 && unreadable.length === 0) return;
    const faults = left.reduce((n, r) => n + r.pending.length, 0);
    process.stderr.write(
      style.yellow(`warning: ${left.length} earlier run(s) left ${faults} fault(s) that may still be injected${unreadable.length ? `, and ${unreadable.length} state file(s) cannot be read` : ""}; see \`chaoscast rollback --dry-run\`, undo with \`chaoscast rollback\`\n`),
    );
  } catch {
    // Only a warning: never stop a run because the state directory could not be read.
  }
}

type JournalTarget = { kind: "file"; path: string } | { kind: "dir"; path: string };

async function journalLocation(option: string | undefined, count: number): Promise<JournalTarget> {
  if (!option) return { kind: "dir", path: runsDir() };
  const isDir = option.endsWith("/") || (await stat(option).then((s) => s.isDirectory(), () => false));
  if (!isDir && count > 1) throw new UsageError(`--journal ${option}: several experiments are being run, so --journal must be a directory (end it with /)`);
  if (!isDir) {
    await checkOutputFile("--journal", option);
    return { kind: "file", path: option };
  }
  // Find out now, not after the faults, that the journal cannot be written.
  await checkWritableDir("--journal", option, option);
  return { kind: "dir", path: option };
}

/** Now as a compact UTC stamp (20261206T013000Z): the start of run ids and of the demo's journal directory. */
export function compactStamp(date = new Date()): string {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

export function makeRunId(title: string): string {
  const stamp = compactStamp();
  const slug = title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 32) || "run";
  return `${stamp}-${slug}-${Math.random().toString(16).slice(2, 6)}`;
}

async function confirm(plan: ResolvedPlan, renderer: TextRenderer, signal: AbortSignal): Promise<boolean> {
  renderer.pause();
  const targets = [...plan.targets.values()].reduce((n, list) => n + list.length, 0);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`Inject ${plan.experiment.faults.length} fault(s) into ${targets} target(s)? [y/N] `, { signal });
    return /^y(es)?$/i.test(answer.trim());
  } catch {
    // Ctrl-C, Ctrl-D or a signal at the prompt all mean "no".
    process.stderr.write("\n");
    return false;
  } finally {
    rl.close();
  }
}

/**
 * The halt file's line, when `chaoscast halt` is what sent the SIGTERM: read in the signal handler,
 * so only a small regular file, and only its first line.
 */
function haltNote(): string | undefined {
  const file = haltFile();
  const info = lstatSync(file, { throwIfNoEntry: false });
  if (!info?.isFile() || info.size > 4096) return undefined;
  const line = readFileSync(file, "utf8").split("\n")[0]!.trim().slice(0, 200);
  return `chaoscast halt: ${line}`;
}
