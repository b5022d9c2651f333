// The one way text from outside chaoscast (file names, titles, fault names, run ids, values quoted
// in errors, what a service answered) reaches a terminal: every character that could move the
// cursor, recolour the screen, reorder the line or start a forged line is shown as an escape.

/**
 * C0 controls (newline and carriage return included, tab excepted), DEL, C1 controls (a lone
 * 0x9B is a CSI to many terminals), the Unicode line and paragraph separators, and every bidi
 * control (embeddings, overrides, isolates, marks) that can make a line read differently from
 * what it says. Also the invisible characters that make one name look like another or hide text
 * in it (zero-width space, word joiner and invisible operators, the byte-order mark, interlinear
 * annotations, tag characters); not the zero-width joiners, which emoji and scripts need.
 */
const UNSAFE_CLASS = "\\x00-\\x08\\x0A-\\x1F\\x7F-\\x9F\\u061C\\u180E\\u200B\\u200E\\u200F\\u2028-\\u202E\\u2060-\\u2069\\uFEFF\\uFFF9-\\uFFFB\\u{E0000}-\\u{E007F}";
const UNSAFE = new RegExp(`[${UNSAFE_CLASS}]`, "gu");
/** What JSON.stringify leaves as it is: everything above but the C0 controls, which it escapes. */
const UNSAFE_IN_JSON = new RegExp(`[${UNSAFE_CLASS.replace("\\x00-\\x08\\x0A-\\x1F", "")}]`, "gu");

/** `\\uXXXX` for each UTF-16 unit: valid in JSON and readable in text. */
function unicodeEscape(c: string): string {
  return [...Array(c.length).keys()].map((i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, "0")}`).join("");
}

function escapeChar(c: string): string {
  if (c === "\n") return "\\n";
  if (c === "\r") return "\\r";
  if (c === "\x1B") return "\\e";
  return unicodeEscape(c);
}

/** Text as it may be printed: one line, no escape sequences, read as written. */
export function forTerminal(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** Like forTerminal, but keeps line breaks: for multi-line text chaoscast itself composed. */
export function forTerminalLines(text: string): string {
  return text
    .split("\n")
    .map((line) => forTerminal(line))
    .join("\n");
}

/**
 * Every string in a value (an event, a plan: keys included) passed through forTerminal, for a
 * renderer that prints its fields as text. Not for JSON: that has terminalSafeJson.
 */
export function forTerminalDeep<T>(value: T): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return forTerminal(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [forTerminal(k), walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/** Does the text hold anything forTerminal would escape? */
export function hasUnsafeTerminalText(text: string): boolean {
  UNSAFE.lastIndex = 0;
  const found = UNSAFE.test(text);
  UNSAFE.lastIndex = 0;
  return found;
}

/**
 * JSON for output streams that may end up on a terminal (`--output json`/`jsonl`): JSON.stringify
 * escapes C0 controls but not C1 controls, DEL, line separators, bidi controls or invisible ones.
 */
export function terminalSafeJson(value: unknown, space?: number): string {
  const text = JSON.stringify(value, null, space) ?? "null";
  return text.replace(UNSAFE_IN_JSON, unicodeEscape);
}
