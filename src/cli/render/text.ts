// Human output for `run`: a spinner per phase and a live status line of probe values on a
// terminal; anywhere else (a CI log, a cron mail) plain lines stamped with the time, and while
// faults are held a progress line every few seconds, so a log never goes quiet for a whole method.

import type { ChalkInstance } from "chalk";
import type { Ora } from "ora";
import type { Phase, RunEvent, RunEventBody } from "../../contract/events.js";
import { formatDuration } from "../../contract/duration.js";
import { formatP } from "../../contract/p-value.js";
import { forTerminal, forTerminalDeep } from "../../util/terminal-text.js";
import type { Reporter, SuiteResult } from "../../report/reporter.js";
import { scoreRun, suiteScore } from "../../report/score.js";
import { displayPath } from "../../util/display-path.js";

/** How often a log without a live status line hears how the method is going. */
export const PROGRESS_EVERY_MS = 5_000;

interface ProbeTally {
  rounds: number;
  held: number;
  min: number | undefined;
  max: number | undefined;
  metric: string | undefined;
}

const PHASE_LABEL: Record<Phase, string> = {
  preflight: "Preflight: resolving targets",
  "steady-state-before": "Steady state before",
  method: "Method: faults injected, hypothesis watched",
  rollback: "Rollback",
  recovery: "Recovery: waiting for steady state",
};

const OUTCOME_STYLE: Record<string, (s: ChalkInstance) => ChalkInstance> = {
  passed: (s) => s.green.bold,
  "dry-run": (s) => s.green.bold,
  deviated: (s) => s.yellow.bold,
  aborted: (s) => s.magenta.bold,
  unrecovered: (s) => s.red.bold,
  "rollback-failed": (s) => s.red.bold,
  refused: (s) => s.red.bold,
  skipped: (s) => s.blue.bold,
};

export class TextRenderer implements Reporter {
  readonly name = "terminal output";
  private spinner: Ora | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private methodStartedAt = 0;
  private breaches = 0;
  private readonly tallies = new Map<string, ProbeTally>();
  private metrics = new Map<string, string>();
  private methodStarted = 0;
  private methodMs = 0;
  private readonly lastState = new Map<string, string>();
  private cohortLooks = 0;
  private readonly status = new Map<string, string>();

  constructor(
    private readonly style: ChalkInstance,
    private readonly interactive: boolean,
    private readonly makeSpinner: ((text: string) => Ora) | undefined,
  ) {}

  /** Print a line without tearing the spinner; without a terminal, stamped with the time (UTC). */
  line(text: string, at: string = new Date().toISOString()): void {
    if (!this.interactive) {
      const stamp = this.style.dim(at.slice(11, 19));
      process.stdout.write(text.startsWith("\n") ? `\n${stamp} ${text.slice(1)}\n` : `${stamp} ${text}\n`);
      return;
    }
    if (this.spinner?.isSpinning) {
      this.spinner.clear();
      process.stdout.write(`${text}\n`);
      this.spinner.render();
    } else process.stdout.write(`${text}\n`);
  }

  pause(): void {
    this.spinner?.stop();
  }

  /** Keeps the figures of the progress line, and starts and stops its timer with the method. */
  private track(e: RunEvent): void {
    if (this.interactive) return;
    if (e.type === "run-started") this.metrics = new Map((e.hypothesis ?? []).map((h) => [h.name, h.metric]));
    else if (e.type === "phase-started" && e.phase === "method") {
      this.tallies.clear();
      this.breaches = 0;
      this.methodStartedAt = Date.now();
      this.progressTimer = setInterval(() => this.progress(), PROGRESS_EVERY_MS);
      this.progressTimer.unref();
    } else if (e.type === "observation" && e.phase === "method") {
      const tally = this.tallies.get(e.probe) ?? { rounds: 0, held: 0, min: undefined, max: undefined, metric: this.metrics.get(e.probe) };
      tally.rounds += 1;
      if (e.ok && e.inconclusive === undefined) tally.held += 1;
      if (e.metric !== undefined) {
        tally.min = Math.min(tally.min ?? e.metric, e.metric);
        tally.max = Math.max(tally.max ?? e.metric, e.metric);
      }
      this.tallies.set(e.probe, tally);
    } else if (e.type === "breach") this.breaches += 1;
    else if ((e.type === "phase-finished" && e.phase === "method") || e.type === "run-finished") this.stopProgress();
  }

  private stopProgress(): void {
    clearInterval(this.progressTimer);
    this.progressTimer = undefined;
  }

  private progress(): void {
    const elapsed = formatDuration(Math.round((Date.now() - this.methodStartedAt) / 1000) * 1000);
    const probes = [...this.tallies.entries()].map(([name, t]) => {
      const range = t.min === undefined ? "" : `, ${t.metric ?? "value"} ${round(t.min)}–${round(t.max!)}`;
      return `${name} ${t.held}/${t.rounds} held${range}`;
    });
    const rounds = Math.max(0, ...[...this.tallies.values()].map((t) => t.rounds));
    const watched = probes.length ? `${rounds} probe round(s), ${this.breaches} breach(es) so far · ${probes.join(" · ")}` : "faults held, no steady-state probe to watch";
    this.line(this.style.dim(`  … method ${elapsed}/${formatDuration(this.methodMs)}: ${watched}`));
  }

  /** A table of every experiment of a suite of more than one, with its outcome and score. */
  suiteFinished(suite: SuiteResult): void {
    this.stopProgress();
    if (suite.runs.length + suite.notRun.length < 2) return;
    for (const line of suiteTable(suite, this.style)) this.line(line);
  }

  event(raw: RunEvent): void {
    // Every string in an event came from outside (titles, fault names, what a service answered,
    // errors, labels): escaped once here, before any colour is added, so no field is forgotten.
    const e = forTerminalDeep(raw);
    const s = this.style;
    this.track(e);
    switch (e.type) {
      case "run-started":
        this.methodMs = e.methodMs;
        this.line(`${s.bold("▶")} ${s.bold(e.title)}  ${s.dim(`${e.file} · run ${e.runId} · method ${formatDuration(e.methodMs)} · ${e.faults} fault(s), ${e.probes} probe(s) · seed ${e.seed}`)}`);
        return;
      case "phase-started":
        if (e.phase === "method") this.methodStarted = e.t;
        this.lastState.clear();
        this.status.clear();
        if (this.interactive && this.makeSpinner) this.spinner = this.makeSpinner(PHASE_LABEL[e.phase]).start();
        else this.line(s.dim(`… ${PHASE_LABEL[e.phase]}`));
        return;
      case "phase-finished": {
        const text = `${PHASE_LABEL[e.phase]}${e.detail ? `: ${e.detail}` : ""}`;
        if (this.spinner) {
          if (e.ok) this.spinner.succeed(text);
          else this.spinner.fail(text);
          this.spinner = undefined;
        } else this.line(`${e.ok ? s.green("✔") : s.red("✖")} ${text}`);
        return;
      }
      case "targets-resolved":
        this.line(`  target ${s.bold(e.target)}: ${e.chosen.length} of ${e.candidates} ${e.description}${e.chosen.length ? ` → ${e.chosen.map((c) => c.label).join(", ")}` : ""}`);
        return;
      case "observation": {
        const mark = e.ok ? s.green("✓") : e.counted ? s.red("✗") : s.yellow("~");
        const detail = e.ok || e.failures.join("; ") === e.summary ? "" : ` ${s.dim(`(${e.failures.join("; ")})`)}`;
        const text = `${mark} ${e.probe}: ${e.summary}${detail}`;
        if (e.phase === "method" && this.spinner) {
          this.status.set(e.probe, `${mark} ${e.probe} ${e.summary}`);
          const elapsed = formatDuration(Math.max(0, e.t - this.methodStarted));
          this.spinner.text = `${PHASE_LABEL.method} ${s.dim(`${elapsed}/${formatDuration(this.methodMs)}`)}  ${[...this.status.values()].join(s.dim(" │ "))}`;
          return;
        }
        // Without a live status line, print only changes of state so logs stay readable.
        const state = `${e.phase}:${e.ok}`;
        if (this.lastState.get(e.probe) === state) return;
        this.lastState.set(e.probe, state);
        this.line(`  ${text}`);
        return;
      }
      case "cohort": {
        const one = (c: { starts: number; good: number }) => `${c.good}/${c.starts}`;
        const p = e.pValue === null ? "collecting starts" : `p ${formatP(e.pValue)} (abort below ${formatP(e.threshold)})`;
        const mark = e.state === "diverged" ? s.red("✗") : e.state === "holding" ? s.green("✓") : s.dim("…");
        const text = `${mark} cohorts: experiment ${one(e.experiment)} good, control ${one(e.control)} good, ${p}`;
        if (this.spinner) {
          this.status.set("cohorts", text);
          const elapsed = formatDuration(Math.max(0, e.t - this.methodStarted));
          this.spinner.text = `${PHASE_LABEL.method} ${s.dim(`${elapsed}/${formatDuration(this.methodMs)}`)}  ${[...this.status.values()].join(s.dim(" │ "))}`;
          return;
        }
        // In a log: each change of state, and every fifth look in between.
        this.cohortLooks += 1;
        if (this.lastState.get("\0cohorts") === e.state && this.cohortLooks % 5 !== 0) return;
        this.lastState.set("\0cohorts", e.state);
        this.line(`  ${text}`);
        return;
      }
      case "cohort-verdict": {
        const mark = e.verdict === "no-difference" ? s.green("✓") : e.verdict === "diverged" ? s.red("✗") : s.yellow("?");
        this.line(`  ${mark} cohort verdict: ${e.detail} ${s.dim(`(${e.test}; alpha ${e.alpha} over ${e.looks} look(s))`)}`);
        return;
      }
      case "breach":
        // Each breach matters when a few abort the run; with a lenient rule, a streak is one story.
        if (e.inBand) {
          this.line(`  ${s.red("✗")} breach, seen in-band: ${e.probes.join(", ")}`);
        } else if (e.after <= 5 || e.consecutive === 1 || e.consecutive % 10 === 0) {
          this.line(`  ${s.red("✗")} breach ${e.consecutive}/${e.after} in a row: ${e.probes.join(", ")}`);
        }
        return;
      case "abort":
        this.line(`  ${s.magenta("■")} ${s.magenta("abort")}: ${e.reason}`);
        return;
      case "fault-injected":
        this.line(`  ${s.yellow("⚡")} injected ${s.bold(e.fault)} (${e.action})${e.target ? ` → ${e.target.label}` : ""} ${s.dim(e.revert ? `revert: ${e.revert}` : "cannot be reverted")}`);
        return;
      case "fault-failed":
        this.line(`  ${s.red("✖")} could not inject ${s.bold(e.fault)}${e.target ? ` into ${e.target.label}` : ""}: ${e.error}`);
        return;
      case "revert-retry":
      case "fault-reverted":
      case "revert-failed":
        this.line(revertEventLine(e, s)!);
        return;
      case "rollback-step":
        this.line(`  ${e.ok ? s.green("✔") : s.red("✖")} rollback step ${e.step} (${e.action})${e.error ? `: ${e.error}` : ""}`);
        return;
      case "note":
        this.line(revertEventLine(e, s)!);
        return;
      case "gate":
        // A run's gates are quiet when they pass; the budget's verdict is worth a line either way.
        if (e.status === "failed" || e.status === "refused") this.line(`  ${s.red("✖")} ${e.gate} gate: ${e.detail}`);
        else if (e.gate === "budget" && e.status === "passed") this.line(`  ${s.green("✓")} budget gate: ${e.detail}`);
        return;
      case "budget":
        if (e.stage === "during") {
          const sli = e.sli === null ? "no events" : `SLI ${(e.sli * 100).toFixed(3)}% over ${e.events} event(s)`;
          const spent = e.spent === null ? "" : `, spent ${(e.spent * 100).toFixed(3)}% of the error budget`;
          this.line(`  budget: during the method ${sli}${spent} (${e.chaosWindow === "charged" ? "charged to the SLO" : "excluded from the SLO by choice"})`);
        } else if (e.stage === "after" && e.remaining !== null) this.line(s.dim(`  budget: ${(e.remaining * 100).toFixed(2)}% of SLO ${e.slo}'s error budget left after the run`));
        return;
      case "watchdog":
        this.line(s.yellow(`  watchdog (pid ${e.watchdogPid}) took over: ${e.reason}`));
        return;
      case "run-finished": {
        this.spinner?.stop();
        this.spinner = undefined;
        const paint = (OUTCOME_STYLE[e.outcome] ?? ((x: ChalkInstance) => x))(s);
        this.line(`${paint(e.outcome.toUpperCase())} ${s.dim(`(exit ${e.exitCode})`)} ${e.reason}`);
        if (e.stillInjected.length) this.line(s.red.bold(`Still injected — fix by hand: ${e.stillInjected.join("; ")}`));
        return;
      }
    }
  }
}

/** A number short enough for a log line: at most three decimals, no trailing zeros. */
function round(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(Math.abs(value) >= 100 ? 0 : 3)));
}

/**
 * The line for a revert event (and a note), as `run` prints it and `rollback` prints it for what a
 * dead run left: one wording for both. Text from outside is escaped here; undefined for other events.
 */
export function revertEventLine(raw: RunEventBody, s: ChalkInstance): string | undefined {
  const e = forTerminalDeep(raw);
  const on = (target: { label: string } | null) => (target ? ` on ${target.label}` : "");
  switch (e.type) {
    case "revert-retry":
      return `  ${s.yellow("↻")} revert of ${e.fault} failed (attempt ${e.attempt}): ${e.error}; retrying in ${formatDuration(e.retryInMs)}`;
    case "fault-reverted":
      return `  ${s.green("↺")} reverted ${s.bold(e.fault)}${on(e.target)}${e.early ? s.dim(" (its duration ended)") : ""}${e.notes.length ? s.dim(` – ${e.notes.join("; ")}`) : ""}`;
    case "revert-failed":
      return `  ${s.red.bold("✖ STILL INJECTED")} ${e.fault}${on(e.target)}: ${e.revert} failed: ${e.error}`;
    case "note":
      return s.dim(`  note: ${e.message}`);
    default:
      return undefined;
  }
}

/** The suite as a table for a terminal or a log: a headline, then one line per experiment. */
export function suiteTable(suite: SuiteResult, s: ChalkInstance): string[] {
  const total = suite.runs.length + suite.notRun.length;
  const scores = suite.runs.map((r) => scoreRun(r.journal).score);
  const overall = suiteScore(scores);
  const paint = (outcome: string) => (OUTCOME_STYLE[outcome] ?? ((x: ChalkInstance) => x))(s);
  const lines = [`\n${s.bold(`Suite: ${suite.runs.length} of ${total} experiment(s) run`)} · worst outcome ${paint(suite.outcome)(suite.outcome)} ${s.dim(`(exit ${suite.exitCode})`)}${overall === null ? "" : ` · resilience ${overall}/100`}`];
  suite.runs.forEach((run, i) => {
    const j = run.journal;
    const score = scores[i] === null ? "    –" : String(scores[i]).padStart(5);
    lines.push(`  ${paint(j.outcome)(j.outcome.padEnd(15))} exit ${String(j.exitCode).padEnd(3)} ${formatDuration(Math.round(j.durationMs / 100) * 100).padStart(7)}  score${score}  ${forTerminal(j.title)} ${s.dim(`(${forTerminal(displayPath(j.file))})`)}`);
  });
  for (const skipped of suite.notRun) {
    lines.push(s.dim(`  ${"not run".padEnd(15)} ${" ".repeat(31)}${forTerminal(skipped.title)} (${forTerminal(displayPath(skipped.file))}): ${forTerminal(skipped.reason)}`));
  }
  return lines;
}
