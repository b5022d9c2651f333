// The error-budget arithmetic, after the SRE Workbook ("Alerting on SLOs"): the budget is the
// share of events the objective allows to fail (1 − objective); a burn rate is how fast a window's
// error ratio spends it (1 = exactly the whole budget over the whole period); and the budget a
// window consumes is burn rate × window / period.

/** One multiwindow pair: it fires when both windows burn faster than `rate`. */
export interface BurnPair {
  severity: "page" | "ticket";
  rate: number;
  longMs: number;
  shortMs: number;
  /** Budget the long window consumes when it burns at `rate`: rate × long / period. */
  consumes: number;
}

const DAY = 86_400_000;
const MINUTE = 60_000;

/**
 * The Workbook's recommended pairs for a 30-day period: page at 14.4× over 1h and 5m (2% of the
 * budget in an hour) and 6× over 6h and 30m (5% in six hours); ticket at 1× over 3d and 6h (10%
 * in three days). For another period the windows scale with it (the same shares of the period, so
 * the same rates consume the same shares of the budget), rounded to the minute; short windows are
 * 1/12 of the long ones, as in the Workbook.
 */
export function burnPairs(periodMs: number): BurnPair[] {
  const scale = periodMs / (30 * DAY);
  const rows: [BurnPair["severity"], number, number][] = [
    ["page", 14.4, 60 * MINUTE],
    ["page", 6, 6 * 60 * MINUTE],
    ["ticket", 1, 3 * DAY],
  ];
  return rows.map(([severity, rate, long30]) => {
    const longMs = Math.max(MINUTE, Math.round((long30 * scale) / MINUTE) * MINUTE);
    const shortMs = Math.max(MINUTE, Math.round(longMs / 12 / MINUTE) * MINUTE);
    return { severity, rate, longMs, shortMs, consumes: (rate * longMs) / periodMs };
  });
}

/** The error ratio the objective allows: 0.001 for 99.9%. */
export function errorBudget(objective: number): number {
  return 1 - objective;
}

/** How fast an error ratio spends the budget: 1 spends it exactly over the period. */
export function burnRate(errorRatio: number, objective: number): number {
  return errorRatio / errorBudget(objective);
}

/**
 * The share of the period's budget still unspent, given the error ratio over the whole period:
 * 1 when nothing failed, 0 when exactly the budget failed, negative when overspent.
 */
export function budgetRemaining(periodErrorRatio: number, objective: number): number {
  return 1 - burnRate(periodErrorRatio, objective);
}

/** The share of the period's budget a window spent: burn rate × window / period. */
export function budgetConsumed(windowErrorRatio: number, objective: number, windowMs: number, periodMs: number): number {
  return (burnRate(windowErrorRatio, objective) * windowMs) / periodMs;
}
