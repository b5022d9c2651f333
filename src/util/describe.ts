// Short, human descriptions of found values for error messages ("found the number 60").

export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") return value.length > 60 ? `"${value.slice(0, 57)}..."` : `"${value}"`;
  // Ten significant digits: the value as written, without binary noise (0.1 + 0.2 is shown as 0.3).
  if (typeof value === "number") return `number ${Number.isFinite(value) ? Number(value.toPrecision(10)) : value}`;
  if (typeof value === "boolean") return `boolean ${value}`;
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === "object") return "a mapping";
  return typeof value;
}
