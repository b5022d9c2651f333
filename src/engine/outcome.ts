// Outcomes and their exit codes, and how outcomes of several experiments combine.

import { EXIT } from "../errors.js";
import type { Outcome } from "../contract/events.js";

export const OUTCOME_EXIT: Record<Outcome, number> = {
  passed: EXIT.passed,
  "dry-run": EXIT.passed,
  deviated: EXIT.deviated,
  aborted: EXIT.aborted,
  "rollback-failed": EXIT.rollbackFailed,
  /** The blast-radius policy forbids the run; nothing was injected. */
  refused: EXIT.invalid,
  skipped: EXIT.skipped,
};

// Worst first: something left injected matters more than anything else.
const SEVERITY: Outcome[] = ["rollback-failed", "aborted", "deviated", "refused", "skipped", "passed", "dry-run"];

export function worstOutcome(outcomes: Outcome[]): Outcome {
  for (const outcome of SEVERITY) if (outcomes.includes(outcome)) return outcome;
  return "passed";
}
