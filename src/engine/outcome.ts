// Outcomes and their exit codes, and how outcomes of several experiments combine.

import { EXIT } from "../errors.js";
import { OUTCOMES_WORST_FIRST, type Outcome } from "../contract/events.js";

export const OUTCOME_EXIT: Record<Outcome, number> = {
  passed: EXIT.passed,
  "dry-run": EXIT.passed,
  deviated: EXIT.deviated,
  aborted: EXIT.aborted,
  unrecovered: EXIT.unrecovered,
  "rollback-failed": EXIT.rollbackFailed,
  /** The blast-radius policy forbids the run; nothing was injected. */
  refused: EXIT.invalid,
  skipped: EXIT.skipped,
};

// Worst first: something left injected matters more than anything else, then a system that did not heal.
export function worstOutcome(outcomes: readonly Outcome[]): Outcome {
  for (const outcome of OUTCOMES_WORST_FIRST) if (outcomes.includes(outcome)) return outcome;
  return "passed";
}
