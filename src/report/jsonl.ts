// --output jsonl: every event of every run as one JSON object per line, for other tools to parse.
// Each line carries `eventVersion` (docs/events.md documents the shape it names).

import { EVENT_VERSION, type RunEvent } from "../contract/events.js";
import { terminalSafeJson } from "../util/terminal-text.js";
import type { Reporter } from "./reporter.js";

export class JsonLinesReporter implements Reporter {
  readonly name = "JSON lines output";

  constructor(private readonly write: (line: string) => void) {}

  event(event: RunEvent): void {
    // Terminal-safe: the stream is often read on a terminal, and values come from outside.
    this.write(`${terminalSafeJson({ eventVersion: EVENT_VERSION, ...event })}\n`);
  }
}
