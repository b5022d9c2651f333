// A report written once the suite is over (JUnit, HTML, Markdown): rendered from the suite and
// written as the journal is (atomically for a regular file, as a stream for a FIFO or device).

import { appendFile } from "node:fs/promises";
import { writeOutputFile } from "../util/output-file.js";
import { displayPath } from "../util/display-path.js";
import type { Reporter, SuiteResult } from "./reporter.js";

export class FileReporter implements Reporter {
  constructor(
    readonly name: string,
    private readonly file: string,
    private readonly render: (suite: SuiteResult) => string,
    private readonly written?: (file: string) => void,
  ) {}

  async suiteFinished(suite: SuiteResult): Promise<void> {
    try {
      await writeOutputFile(this.file, this.render(suite));
    } catch (err) {
      throw new Error(`could not write ${displayPath(this.file)}: ${(err as Error).message}`);
    }
    this.written?.(this.file);
  }
}

/** Appends to a file others write too ($GITHUB_STEP_SUMMARY holds every step's summary). */
export class AppendingReporter implements Reporter {
  constructor(
    readonly name: string,
    private readonly file: string,
    private readonly render: (suite: SuiteResult) => string,
  ) {}

  async suiteFinished(suite: SuiteResult): Promise<void> {
    await appendFile(this.file, this.render(suite), { mode: 0o600 });
  }
}
