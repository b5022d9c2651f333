// Human output for `run`: a spinner per phase and a live status line of probe values on a
// terminal; plain, line-by-line progress (no escape codes, no repetition) anywhere else.

import type { ChalkInstance } from "chalk";
import type { Ora } from "ora";
import type { Phase, RunEvent } from "../../contract/events.js";
import { formatDuration } from "../../contract/duration.js";
import { forTerminalDeep } from "../../util/terminal-text.js";

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

export class TextRenderer {
  private spinner: Ora | undefined;
  private methodStarted = 0;
  private methodMs = 0;
  private readonly lastState = new Map<string, string>();
  private readonly status = new Map<string, string>();

  constructor(
    private readonly style: ChalkInstance,
    private readonly interactive: boolean,
    private readonly makeSpinner: ((text: string) => Ora) | undefined,
  ) {}

  /** Print a line without tearing the spinner. */
  line(text: string): void {
    if (this.spinner?.isSpinning) {
      this.spinner.clear();
      process.stdout.write(`${text}\n`);
      this.spinner.render();
    } else process.stdout.write(`${text}\n`);
  }

  pause(): void {
    this.spinner?.stop();
  }

  event(raw: RunEvent): void {
    // Every string in an event came from outside (titles, fault names, what a service answered,
    // errors, labels): escaped once here, before any colour is added, so no field is forgotten.
    const e = forTerminalDeep(raw);
    const s = this.style;
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
      case "breach":
        // Each breach matters when a few abort the run; with a lenient rule, a streak is one story.
        if (e.after <= 5 || e.consecutive === 1 || e.consecutive % 10 === 0) {
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
        this.line(`  ${s.yellow("↻")} revert of ${e.fault} failed (attempt ${e.attempt}): ${e.error}; retrying in ${formatDuration(e.retryInMs)}`);
        return;
      case "fault-reverted":
        this.line(`  ${s.green("↺")} reverted ${s.bold(e.fault)}${e.target ? ` on ${e.target.label}` : ""}${e.early ? s.dim(" (its duration ended)") : ""}${e.notes.length ? s.dim(` – ${e.notes.join("; ")}`) : ""}`);
        return;
      case "revert-failed":
        this.line(`  ${s.red.bold("✖ STILL INJECTED")} ${e.fault}${e.target ? ` on ${e.target.label}` : ""}: ${e.revert} failed: ${e.error}`);
        return;
      case "rollback-step":
        this.line(`  ${e.ok ? s.green("✔") : s.red("✖")} rollback step ${e.step} (${e.action})${e.error ? `: ${e.error}` : ""}`);
        return;
      case "note":
        this.line(s.dim(`  note: ${e.message}`));
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
        const paint = (OUTCOME_STYLE[e.outcome] ?? ((x: ChalkInstance) => x))(s);
        this.line(`${paint(e.outcome.toUpperCase())} ${s.dim(`(exit ${e.exitCode})`)} ${e.reason}`);
        if (e.stillInjected.length) this.line(s.red.bold(`Still injected — fix by hand: ${e.stillInjected.join("; ")}`));
        return;
      }
    }
  }
}
