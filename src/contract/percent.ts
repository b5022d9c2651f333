// Percentages: "25%" or 25, always 0..100.

/** The percentage as a number 0..100, or undefined when the input is not one. */
export function parsePercent(input: string | number): number | undefined {
  const n = typeof input === "number" ? input : /^\s*\d+(\.\d+)?\s*%?\s*$/.test(input) ? Number.parseFloat(input) : NaN;
  return Number.isFinite(n) && n >= 0 && n <= 100 ? n : undefined;
}
