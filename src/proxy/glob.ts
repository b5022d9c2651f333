// Path globs for traffic filters, matched in time linear in the path times the glob, whatever the
// glob: a regex built from a glob backtracks, and one GET with a glob such as /*a*a*a*a*a*a*z could
// hold the proxy's event loop for seconds on every exchange. `*` matches within a segment, `**`
// across segments (`**/` also matches no segment at all), `?` one character of a segment; any
// other character matches itself.

const STAR = 1;
const GLOBSTAR = 2;
/** A `**` followed by `/`: may also be skipped together with that slash. */
const GLOBSTAR_DIRS = 3;
const ONE = 4;
type Token = typeof STAR | typeof GLOBSTAR | typeof GLOBSTAR_DIRS | typeof ONE | string;

function tokenize(glob: string): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      while (glob[i + 1] === "*") i++;
      tokens.push(glob[i + 1] === "/" ? GLOBSTAR_DIRS : GLOBSTAR);
    } else if (c === "*") tokens.push(STAR);
    else if (c === "?") tokens.push(ONE);
    else tokens.push(c);
  }
  return tokens;
}

/** Positions reachable without consuming a character: past stars, and past `**\/` with its slash. */
function close(reach: Uint8Array, tokens: Token[]): void {
  for (let j = 0; j < tokens.length; j++) {
    if (!reach[j]) continue;
    const t = tokens[j];
    if (t === STAR || t === GLOBSTAR || t === GLOBSTAR_DIRS) reach[j + 1] = 1;
    if (t === GLOBSTAR_DIRS) reach[j + 2] = 1;
  }
}

export function compileGlob(glob: string): (path: string) => boolean {
  const tokens = tokenize(glob);
  const n = tokens.length;
  return (path) => {
    let reach = new Uint8Array(n + 2);
    reach[0] = 1;
    close(reach, tokens);
    for (const ch of path) {
      const next = new Uint8Array(n + 2);
      let any = false;
      for (let j = 0; j < n; j++) {
        if (!reach[j]) continue;
        const t = tokens[j];
        if (t === GLOBSTAR || t === GLOBSTAR_DIRS) next[j] = 1;
        else if (t === STAR) {
          if (ch !== "/") next[j] = 1;
        } else if (t === ONE) {
          if (ch !== "/") next[j + 1] = 1;
        } else if (t === ch) next[j + 1] = 1;
        any ||= next[j] === 1 || next[j + 1] === 1;
      }
      if (!any) return false;
      close(next, tokens);
      reach = next;
    }
    return reach[n] === 1;
  };
}

/** Comma-separated globs: a path matches when any of them does. */
export function compileGlobs(globs: string): ((path: string) => boolean) | undefined {
  const matchers = globs
    .split(",")
    .map((g) => g.trim())
    .filter(Boolean)
    .map(compileGlob);
  if (matchers.length === 0) return undefined;
  return (path) => matchers.some((m) => m(path));
}
