// Reads the Prometheus / OpenMetrics text exposition format into samples. Pure: text in, samples out.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export class MetricsParseError extends Error {}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const name = NAME.exec(line)?.[0];
    if (!name) throw new MetricsParseError(`line ${index + 1}: expected a metric name, found ${JSON.stringify(line.slice(0, 40))}`);
    let rest = line.slice(name.length);
    const labels: Record<string, string> = {};
    if (rest.startsWith("{")) {
      const parsed = parseLabels(rest, index + 1);
      Object.assign(labels, parsed.labels);
      rest = rest.slice(parsed.length);
    }
    const valueText = rest.trim().split(/\s+/)[0] ?? "";
    const value = parseValue(valueText);
    if (value === undefined) throw new MetricsParseError(`line ${index + 1}: ${name} has no number value (found ${JSON.stringify(valueText)})`);
    samples.push({ name, labels, value });
  }
  return samples;
}

function parseValue(text: string): number | undefined {
  if (text === "+Inf" || text === "Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  if (text === "") return undefined;
  const n = Number(text);
  return Number.isNaN(n) ? undefined : n;
}

/** Labels `{a="x",b="y\"z"}` with the format's escapes (\\, \", \n). */
function parseLabels(text: string, line: number): { labels: Record<string, string>; length: number } {
  const labels: Record<string, string> = {};
  let i = 1;
  while (i < text.length) {
    while (text[i] === " " || text[i] === ",") i++;
    if (text[i] === "}") return { labels, length: i + 1 };
    const name = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i))?.[0];
    if (!name || text[i + name.length] !== "=" || text[i + name.length + 1] !== '"') throw new MetricsParseError(`line ${line}: malformed labels`);
    i += name.length + 2;
    let value = "";
    for (; i < text.length && text[i] !== '"'; i++) {
      if (text[i] === "\\") {
        const next = text[++i];
        value += next === "n" ? "\n" : (next ?? "");
      } else value += text[i];
    }
    if (text[i] !== '"') throw new MetricsParseError(`line ${line}: unterminated label value`);
    labels[name] = value;
    i++;
  }
  throw new MetricsParseError(`line ${line}: labels are not closed with }`);
}

export function seriesKey(sample: Sample): string {
  return `${sample.name}{${Object.keys(sample.labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(sample.labels[k])}`)
    .join(",")}}`;
}

export function matchesLabels(sample: Sample, wanted: Record<string, string>): boolean {
  return Object.entries(wanted).every(([k, v]) => sample.labels[k] === v);
}
