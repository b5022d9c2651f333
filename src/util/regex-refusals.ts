// What an `expect` regex may not use and what to write instead: JavaScript features RE2 cannot run
// (found before RE2 sees the pattern, since RE2's own errors name the wrong thing) and RE2's errors.

/** Said of every feature refused because only a backtracking engine can run it. */
const WHY =
  "chaoscast matches regexes with RE2, in time linear in the text; this feature needs a backtracking engine, which can take exponential time on some texts and freeze a run";

export interface Refusal {
  /** "invalid" for a pattern no engine would take; "unsupported" for one RE2 will not run. */
  kind: "invalid" | "unsupported";
  message: string;
}

const unsupported = (message: string): Refusal => ({ kind: "unsupported", message });
const invalid = (message: string): Refusal => ({ kind: "invalid", message });

/** Group openings RE2 refuses (or, for lookbehinds, misreports as a bad group name). */
const GROUPS: readonly { opening: string; what: string; instead: string }[] = [
  { opening: "(?<=", what: "a lookbehind", instead: "match the text before as part of the pattern: /(?<=id=)\\d+/ becomes /id=\\d+/" },
  { opening: "(?<!", what: "a negative lookbehind", instead: "match what may come before, e.g. /(?<!x)y/ as /(?:^|[^x])y/" },
  { opening: "(?=", what: "a lookahead", instead: "match the text that follows as part of the pattern: /foo(?=bar)/ becomes /foobar/" },
  { opening: "(?!", what: "a negative lookahead", instead: "match what may follow, e.g. /a(?!b)/ as /a(?:[^b]|$)/" },
  { opening: "(?>", what: "an atomic group", instead: "write a plain group (?:…): RE2 never backtracks, so it needs no protection from it" },
  { opening: "(?P=", what: "a backreference", instead: "write out the text you expect to be repeated (there is no linear-time equivalent)" },
];

/** The first thing in a JavaScript-style pattern that RE2 cannot run or would read differently. */
export function findUnsupported(pattern: string): Refusal | undefined {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    const at = `at character ${i + 1}`;
    if (c === "\\") {
      const refusal = escapeRefusal(pattern, i, inClass);
      if (refusal) return refusal;
      i++; // the escaped character is never syntax
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") {
      // JavaScript reads [] as "nothing" and [^] as "anything"; RE2 reads that ] as a literal.
      if (pattern.startsWith("[^]", i)) return unsupported(`[^] (JavaScript for any character) ${at} is not RE2 syntax: write (?s:.) instead`);
      if (pattern.startsWith("[]", i)) {
        return unsupported(`the empty class [] ${at} never matches in JavaScript, and RE2 would read its ] as a literal: remove it, or write \\] for a literal ]`);
      }
      inClass = true;
      if (pattern[i + 1] === "^") i++;
      continue;
    }
    if (c === "(") {
      const group = GROUPS.find((g) => pattern.startsWith(g.opening, i));
      if (group) return unsupported(`${group.what} ${group.opening}…) ${at} is not supported: ${WHY}. Instead, ${group.instead}`);
    }
  }
  return undefined;
}

function escapeRefusal(pattern: string, i: number, inClass: boolean): Refusal | undefined {
  const next = pattern[i + 1];
  const at = `at character ${i + 1}`;
  if (next === "u") {
    const braced = /^\\u\{([0-9a-fA-F]+)\}/.exec(pattern.slice(i));
    const plain = /^\\u([0-9a-fA-F]{4})/.exec(pattern.slice(i));
    const hex = braced?.[1] ?? plain?.[1];
    const written = braced?.[0] ?? plain?.[0] ?? "\\u";
    const instead = hex === undefined ? "\\x{00e9} for a code point, or u for the letter" : `\\x{${hex}}`;
    return unsupported(`${written} ${at} is JavaScript syntax; RE2 writes code points as \\x{…}: write ${instead}`);
  }
  if (next === "c") {
    const letter = pattern[i + 2];
    if (letter !== undefined && /[A-Za-z]/.test(letter)) {
      const code = (letter.charCodeAt(0) % 32).toString(16).padStart(2, "0");
      return unsupported(`the control escape \\c${letter} ${at} is JavaScript syntax: write \\x{${code}}`);
    }
    return unsupported(`\\c ${at} is JavaScript syntax for a control character: write it as \\x{…}, e.g. \\x{01}`);
  }
  if (next === "Z") {
    return unsupported(`\\Z ${at} is not supported: write \\z for the end of the text (JavaScript itself read \\Z as the letter Z)`);
  }
  if (!inClass && next !== undefined && /[1-9]/.test(next)) {
    const written = /^\\\d+/.exec(pattern.slice(i))![0];
    return unsupported(`a backreference ${written} ${at} is not supported: ${WHY}. Instead, write out the text you expect to be repeated (there is no linear-time equivalent)`);
  }
  if (!inClass && next === "k" && pattern[i + 2] === "<") {
    return unsupported(`a named backreference \\k<…> ${at} is not supported: ${WHY}. Instead, write out the text you expect to be repeated (there is no linear-time equivalent)`);
  }
  return undefined;
}

/** RE2's "error parsing regexp: <code>: `<text>`", said for a user with what to write instead. */
export function explainRe2Error(raw: string): Refusal {
  const m = /^(?:error parsing regexp: )?(.*?): `(.*)`$/s.exec(raw);
  if (!m) return invalid(raw.replace(/^error parsing regexp: /, ""));
  const [, code, text] = m as unknown as [string, string, string];
  switch (code) {
    case "missing closing ]":
      return invalid(`a character class opened with [ is not closed (write \\[ for a literal [)`);
    case "missing closing )":
      return invalid(`a group opened with ( is not closed (write \\( for a literal ()`);
    case "unexpected )":
      return invalid(`a ) closes no group (write \\) for a literal ))`);
    case "missing argument to repetition operator":
      return invalid(`${text} has nothing before it to repeat (write \\${text[0]} for a literal ${text[0]})`);
    case "invalid nested repetition operator":
      if (/[*+?}]\+$/.test(text)) {
        return unsupported(`the possessive quantifier ${text} is not supported: ${WHY}. Instead, write ${text.slice(0, -1)}: RE2 never backtracks, so it needs no protection from it`);
      }
      return invalid(`${text} repeats a repetition: put the first one in a group, e.g. (?:a{2}){3}`);
    case "invalid repeat count":
      return invalid(`the repeat count ${text} is too large: RE2 allows at most 1000, nested repeats multiplied together`);
    case "invalid escape sequence":
      if (text.startsWith("\\x")) return invalid(`${text} is not a valid \\x escape: write two hex digits (\\x41) or a code point up to 10FFFF in braces (\\x{e9})`);
      return invalid(`RE2 has no escape ${text}: write the character itself, or see https://github.com/google/re2/wiki/Syntax`);
    case "invalid character class range":
      if (/^\\[pP]/.test(text)) return invalid(`RE2 has no Unicode class ${text}: it names general categories and scripts, e.g. \\p{L}, \\p{Lu}, \\p{Greek}`);
      if (text.startsWith("[:")) return invalid(`RE2 has no POSIX class ${text}; it has [:alpha:], [:digit:], [:space:], [:word:] and the like`);
      return invalid(`the character range ${text} is empty or invalid`);
    case "invalid or unsupported Perl syntax":
      return invalid(`RE2 does not support the group syntax ${text}`);
    case "invalid named capture":
      return invalid(`the group name in ${text} is not valid`);
    case "duplicate capture group name":
      return invalid(`two groups are named ${text}`);
    default:
      return invalid(`${code}: ${text}`);
  }
}
