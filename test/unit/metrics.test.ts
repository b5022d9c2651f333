import { describe, expect, it } from "vitest";
import { MetricsParseError, parseMetrics, seriesKey } from "../../src/adapters/metrics/parse.js";
import { increase, trimToWindow, type Scrape } from "../../src/adapters/metrics/window.js";

describe("reading Prometheus text", () => {
  it("reads names, labels with escapes, special values and ignores comments and timestamps", () => {
    const samples = parseMetrics(`# HELP a_total help text
# TYPE a_total counter
a_total{path="/x",quote="say \\"hi\\"",nl="a\\nb"} 42 1700000000000
b 1.5e3
c{le="+Inf"} +Inf
d NaN
`);
    expect(samples[0]).toEqual({ name: "a_total", labels: { path: "/x", quote: 'say "hi"', nl: "a\nb" }, value: 42 });
    expect(samples[1]).toEqual({ name: "b", labels: {}, value: 1500 });
    expect(samples[2]!.value).toBe(Infinity);
    expect(Number.isNaN(samples[3]!.value)).toBe(true);
  });

  it("names the line of malformed input", () => {
    expect(() => parseMetrics("ok 1\n{bad} 2\n")).toThrow(MetricsParseError);
    expect(() => parseMetrics("ok 1\nnovalue\n")).toThrow(/line 2: novalue has no number value/);
  });

  it("keys series by name and sorted labels", () => {
    expect(seriesKey({ name: "m", labels: { b: "2", a: "1" }, value: 0 })).toBe('m{a="1",b="2"}');
  });
});

describe("counters over a window", () => {
  const scrape = (at: number, values: Record<string, number>): Scrape => ({ at, series: new Map(Object.entries(values)) });
  const all = () => true;

  it("adds up increases across scrapes", () => {
    expect(increase([scrape(0, { x: 10 }), scrape(1, { x: 15 }), scrape(2, { x: 22 })], all)).toBe(12);
  });

  it("treats a drop as a counter reset, counting the growth after it", () => {
    expect(increase([scrape(0, { x: 100 }), scrape(1, { x: 3 }), scrape(2, { x: 8 })], all)).toBe(8);
  });

  it("ignores a series that only just appeared", () => {
    expect(increase([scrape(0, {}), scrape(1, { x: 50 })], all)).toBe(0);
  });

  it("keeps the scrapes inside the window plus one baseline before it", () => {
    const scrapes = [scrape(0, {}), scrape(10, {}), scrape(20, {}), scrape(30, {})];
    expect(trimToWindow(scrapes, 30, 15).map((s) => s.at)).toEqual([10, 20, 30]);
  });
});
