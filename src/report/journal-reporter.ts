// The journal as a reporter of the suite: written the moment each run is over.

import { displayPath } from "../util/display-path.js";
import { writeJournal } from "./journal.js";
import type { FinishedRun, Reporter } from "./reporter.js";

/**
 * The journal as a reporter: each run's journal is written as soon as the run is over (before the
 * next one starts), so a suite killed half-way still leaves the record of what it finished.
 */
export class JournalReporter implements Reporter {
  readonly name = "journal";

  constructor(private readonly written?: (file: string) => void) {}

  async runFinished(run: FinishedRun): Promise<void> {
    if (run.journalFile === null) return;
    try {
      await writeJournal(run.journalFile, run.journal);
    } catch (err) {
      throw new Error(`could not write ${displayPath(run.journalFile)}: ${(err as Error).message}`);
    }
    this.written?.(run.journalFile);
  }
}
