// Reporters: subscribers of the one RunEvent stream. The terminal text, --output jsonl, the journal,
// JUnit, the HTML report, the step summary and the webhook are all reporters of a suite; the engine
// calls them in order and none of them can change a run's outcome.

import type { Outcome, RunEvent } from "../contract/events.js";
import type { Journal } from "./journal.js";

/** One experiment of a suite, once it is over: its journal, and where the journal was written. */
export interface FinishedRun {
  journal: Journal;
  /** Where the journal reporter writes (or wrote) it; null when no journal is kept. */
  journalFile: string | null;
}

/** An experiment of the suite that was never started, and why. */
export interface UnrunExperiment {
  file: string;
  title: string;
  reason: string;
}

export interface SuiteResult {
  startedAt: string;
  finishedAt: string;
  runs: FinishedRun[];
  notRun: UnrunExperiment[];
  /** The worst outcome of the runs (passed for an empty suite). */
  outcome: Outcome;
  exitCode: number;
}

export interface Reporter {
  /** Names the reporter in a warning when it fails, e.g. "JUnit report j.xml". */
  readonly name: string;
  suiteStarted?(experiments: readonly { file: string; title: string }[]): void | Promise<void>;
  /** Every event of every run, as it happens. Must not throw and must not wait. */
  event?(event: RunEvent): void;
  runFinished?(run: FinishedRun): void | Promise<void>;
  suiteFinished?(suite: SuiteResult): void | Promise<void>;
}

/** Why a reporter failed: the run's outcome stands, but the person running it must hear of it. */
export type ReporterFailure = (reporter: string, error: unknown) => void;

/**
 * Calls each reporter in turn. A reporter that throws is named through `failed` and the others go
 * on: a full disk or a dead webhook loses a report, never a rollback or an outcome.
 */
export class ReporterFanout {
  constructor(
    private readonly reporters: readonly Reporter[],
    private readonly failed: ReporterFailure,
  ) {}

  event(event: RunEvent): void {
    for (const reporter of this.reporters) {
      try {
        reporter.event?.(event);
      } catch (err) {
        this.failed(reporter.name, err);
      }
    }
  }

  async suiteStarted(experiments: readonly { file: string; title: string }[]): Promise<void> {
    await this.each((r) => r.suiteStarted?.(experiments));
  }

  async runFinished(run: FinishedRun): Promise<void> {
    await this.each((r) => r.runFinished?.(run));
  }

  async suiteFinished(suite: SuiteResult): Promise<void> {
    await this.each((r) => r.suiteFinished?.(suite));
  }

  private async each(call: (reporter: Reporter) => void | Promise<void>): Promise<void> {
    for (const reporter of this.reporters) {
      try {
        await call(reporter);
      } catch (err) {
        this.failed(reporter.name, err);
      }
    }
  }
}
