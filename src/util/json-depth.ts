// How deeply a JSON text nests, found by one linear scan before it is parsed: JSON.parse copes
// with any depth, but what later walks the value recursively (structuredClone, JSON.stringify, a
// schema) can run out of stack on a file planted with a million nested brackets.

/** Whether `text` nests arrays and objects more than `max` levels deep (strings are skipped). */
export function jsonNestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
