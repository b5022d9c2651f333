// The one way text from outside chaoscast (file names, titles, fault names, run ids, values quoted
// in errors, what a service answered) reaches a terminal: every character that could move the
// cursor, recolour the screen, reorder the line or start a forged line is shown as an escape.

/**
 * C0 controls (newline and carriage return included, tab excepted), DEL, C1 controls (a lone
 * 0x9B is a CSI to many terminals), the Unicode line and paragraph separators, and every bidi
 * control (embeddings, overrides, isolates, marks) that can make a line read differently from
 * what it says.
 */
const UNSAFE = /[\x00-\x08\x0A-\x1F\x7F-\x9F\u061C\u200E\u200F\u2028-\u202E\u2066-\u2069]/g;

function escapeChar(c: string): string {
  if (c === "\n") return "\\n";
  if (c === "\r") return "\\r";
  if (c === "\x1B") return "\\e";
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
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

/** Does the text hold anything forTerminal would escape? */
export function hasUnsafeTerminalText(text: string): boolean {
  UNSAFE.lastIndex = 0;
  const found = UNSAFE.test(text);
  UNSAFE.lastIndex = 0;
  return found;
}

/**
 * JSON for output streams that may end up on a terminal (`--output json`/`jsonl`): JSON.stringify
 * escapes C0 controls but not C1 controls, DEL, line separators or bidi controls.
 */
export function terminalSafeJson(value: unknown, space?: number): string {
  const text = JSON.stringify(value, null, space) ?? "null";
  return text.replace(/[\x7F-\x9F\u061C\u200E\u200F\u2028-\u202E\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
