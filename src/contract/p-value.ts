// How a p-value is written wherever it is shown: two significant digits, and scientific notation
// below 0.001, where "0.00" would hide how small it is.

export function formatP(p: number): string {
  if (p === 0) return "0";
  return p < 0.001 ? p.toExponential(1) : p.toPrecision(2);
}
