// An SLO as chaoscast measures it, whichever file form it came from (OpenSLO v1 or the short
// form): a ratio of events over a rolling period, and an objective for it.

export interface SloQuery {
  /** The text as written in the file. */
  text: string;
  /**
   * selector: a plain counter selector, measured as sum(increase(SELECTOR[window])) (Pyrra's way).
   * placeholder: an expression holding {{.window}}, filled with each window (sloth's way).
   */
  form: "selector" | "placeholder";
}

export interface Slo {
  /** Where it was read, for messages: "file:line". */
  source: string;
  name: string;
  service: string | undefined;
  /** The objective as a fraction, e.g. 0.999. */
  objective: number;
  /** The rolling period the objective is held over (the error budget's period). */
  periodMs: number;
  /** good/total: the SLI is the ratio; bad/total: the SLI is one minus it. */
  ratio: { counts: "good" | "bad"; events: SloQuery; total: SloQuery };
}

/** A duration as PromQL writes it, units combined from the largest: 1h, 5h36m, 30d, 2d19h12m. */
export function promDuration(ms: number): string {
  const units: [string, number][] = [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
    ["ms", 1],
  ];
  let rest = Math.max(1, Math.round(ms));
  let text = "";
  for (const [unit, size] of units) {
    if (rest >= size) {
      text += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return text;
}

const WINDOW_PLACEHOLDER = /\{\{\s*\.window\s*\}\}/g;

/** The PromQL that counts the query's events over one window. */
export function renderQuery(query: SloQuery, windowMs: number): string {
  const window = promDuration(windowMs);
  return query.form === "selector" ? `sum(increase(${query.text.trim()}[${window}]))` : query.text.replace(WINDOW_PLACEHOLDER, window);
}

export function hasWindowPlaceholder(text: string): boolean {
  return new RegExp(WINDOW_PLACEHOLDER.source).test(text);
}

// A metric name with optional label matchers: name, name{a="b", c=~"d.*"}, or {__name__="x"}.
const LABEL_MATCHER = String.raw`\s*[A-Za-z_][A-Za-z0-9_]*\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*`;
const SELECTOR = new RegExp(String.raw`^(?:[A-Za-z_:][A-Za-z0-9_:]*(?:\s*\{(?:${LABEL_MATCHER}(?:,${LABEL_MATCHER})*,?\s*)?\})?|\{${LABEL_MATCHER}(?:,${LABEL_MATCHER})*,?\s*\})$`);

/** Trimmed first: blanks at either end would otherwise make the pattern backtrack over them. */
export function isCounterSelector(text: string): boolean {
  return SELECTOR.test(text.trim());
}
