// Path globs for traffic filters. `*` matches within a segment, `**` across segments (`**/` also
// matches no segment at all), `?` one character of a segment; any other character matches itself.
// A regex built from a glob backtracks: one GET with a glob such as /*a*a*a*a*a*a*z could hold the
// proxy's event loop for seconds on every exchange. So a glob is run as a small automaton over the
// path, one pass, keeping only the states still alive; redundant wildcards are folded first, the
// literal prefix and suffix are checked before anything else, and a glob may hold at most
// MAX_WILDCARDS wildcards (checkGlobs says why one is refused): the work per path is then at most
// its length times a small constant.

const STAR = -1;
const GLOBSTAR = -2;
/** A `**` followed by `/`: may also be skipped together with that slash. */
const GLOBSTAR_DIRS = -3;
const ONE = -4;
/** A character code, or one of the wildcards above. */
type Token = number;

export const MAX_GLOBS = 32;
export const MAX_WILDCARDS = 16;
const SLASH = 47;

function tokenize(glob: string): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      while (glob[i + 1] === "*") i++;
      tokens.push(glob[i + 1] === "/" ? GLOBSTAR_DIRS : GLOBSTAR);
    } else if (c === "*") tokens.push(STAR);
    else if (c === "?") tokens.push(ONE);
    else tokens.push(glob.charCodeAt(i));
  }
  // `**/` before another `**` adds nothing: `**/**/` is `**/`, and `**/**` is `**`.
  const folded: Token[] = [];
  for (let j = 0; j < tokens.length; j++) {
    if (tokens[j] === GLOBSTAR_DIRS && tokens[j + 1] === SLASH && (tokens[j + 2] === GLOBSTAR_DIRS || tokens[j + 2] === GLOBSTAR)) {
      j++;
      continue;
    }
    folded.push(tokens[j]!);
  }
  return folded;
}

const isWildcard = (t: Token) => t < 0 && t !== ONE;

/** Why these comma-separated globs are refused, or undefined when they are fine. */
export function checkGlobs(globs: string): string | undefined {
  const list = splitGlobs(globs);
  if (list.length > MAX_GLOBS) return `at most ${MAX_GLOBS} globs`;
  for (const glob of list) {
    if (!glob.startsWith("/") && !glob.startsWith("**")) return `"${glob}" can never match: a path starts with "/" (did you mean "**/${glob}"?)`;
    const wildcards = tokenize(glob).filter(isWildcard).length;
    if (wildcards > MAX_WILDCARDS) return `"${glob.slice(0, 60)}${glob.length > 60 ? "…" : ""}" has ${wildcards} wildcards; at most ${MAX_WILDCARDS}`;
  }
  return undefined;
}

/**
 * The states reachable from a state without reading a character (itself included). A `**\/`
 * entered may be skipped with its slash; one that has read characters may not: the slash must follow.
 */
function closure(tokens: Token[], start: number, looping: boolean): Int32Array {
  const n = tokens.length;
  const seen = new Set<number>([start]);
  const todo = [start];
  while (todo.length > 0) {
    const j = todo.pop()!;
    const t = tokens[j];
    const skip = t === GLOBSTAR_DIRS && !(looping && j === start);
    const next = t === STAR || t === GLOBSTAR || t === GLOBSTAR_DIRS ? (skip ? [j + 1, j + 2] : [j + 1]) : [];
    for (const k of next) {
      if (k <= n && !seen.has(k)) {
        seen.add(k);
        todo.push(k);
      }
    }
  }
  return Int32Array.from(seen);
}

export function compileGlob(glob: string): (path: string) => boolean {
  const tokens = tokenize(glob);
  const n = tokens.length;
  // Literal prefix and suffix: most paths that do not match are turned away by these alone.
  let p = 0;
  while (p < n && tokens[p]! >= 0) p++;
  const prefix = String.fromCharCode(...tokens.slice(0, p));
  if (p === n) return (path) => path === prefix;
  let s = n;
  while (s > p && tokens[s - 1]! >= 0) s--;
  // The slash after a `**` may be skipped with it: it is no part of the suffix every path must end with.
  if (tokens[s - 1] === GLOBSTAR_DIRS) s++;
  const suffix = String.fromCharCode(...tokens.slice(s));
  const reach = tokens.map((_, j) => closure(tokens, j, false)).concat([Int32Array.of(n)]);
  /** Where a wildcard that read a character may stand next. */
  const stay = tokens.map((_, j) => closure(tokens, j, true));
  const kinds = Int32Array.from(tokens);
  // Two state lists swapped at each character, and a stamp per state so each enters a list once.
  let current = new Int32Array(n + 1);
  let next = new Int32Array(n + 1);
  const stamp = new Int32Array(n + 1);
  let round = 0;
  return (path) => {
    if (path.length < prefix.length + suffix.length || !path.startsWith(prefix) || !path.endsWith(suffix)) return false;
    // Stamps are rounds; start them again long before they outgrow 32 bits.
    if (round > 1 << 30) {
      stamp.fill(0);
      round = 0;
    }
    round += 1;
    let count = 0;
    for (const k of reach[0]!) {
      stamp[k] = round;
      current[count++] = k;
    }
    for (let i = 0; i < path.length; i++) {
      const ch = path.charCodeAt(i);
      round += 1;
      let size = 0;
      for (let a = 0; a < count; a++) {
        const j = current[a]!;
        const t = kinds[j];
        let states: Int32Array | undefined;
        if (t === GLOBSTAR || t === GLOBSTAR_DIRS || (t === STAR && ch !== SLASH)) states = stay[j];
        else if ((t === ONE && ch !== SLASH) || t === ch) states = reach[j + 1];
        if (states === undefined) continue;
        for (let b = 0; b < states.length; b++) {
          const k = states[b]!;
          if (stamp[k] === round) continue;
          stamp[k] = round;
          next[size++] = k;
        }
      }
      if (size === 0) return false;
      [current, next] = [next, current];
      count = size;
    }
    for (let a = 0; a < count; a++) if (current[a] === n) return true;
    return false;
  };
}

function splitGlobs(globs: string): string[] {
  return globs
    .split(",")
    .map((g) => g.trim())
    .filter(Boolean);
}

/** Comma-separated globs: a path matches when any of them does. */
export function compileGlobs(globs: string): ((path: string) => boolean) | undefined {
  const matchers = splitGlobs(globs).map(compileGlob);
  if (matchers.length === 0) return undefined;
  return (path) => matchers.some((m) => m(path));
}
