// Reading SLO files (src/slo/file.ts) and the SLO model's query helpers (src/slo/model.ts): the
// OpenSLO v1 forms (inline indicator, indicatorRef to a kind: SLI document, good or bad over
// total, target or targetPercent), chaoscast's short form, the two query forms (Pyrra's plain
// selector, sloth's {{.window}}), and every refusal pinned to file:line:col.
//
// The files are written as lists of lines, so the line numbers the tests expect can be read off
// the fixtures: line N is the array's element N − 1.

import { describe, expect, it } from "vitest";
import { ExperimentError } from "../../src/errors.js";
import { parseSlos, pickSlo } from "../../src/slo/file.js";
import { isCounterSelector, promDuration, renderQuery, type Slo, type SloQuery } from "../../src/slo/model.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const text = (lines: string[]) => `${lines.join("\n")}\n`;

/** Lines 1–29 of an OpenSLO v1 SLO with its indicator inline, good over total. */
const OPENSLO = [
  /*  1 */ "apiVersion: openslo/v1",
  /*  2 */ "kind: SLO",
  /*  3 */ "metadata:",
  /*  4 */ "  name: availability",
  /*  5 */ "spec:",
  /*  6 */ "  service: api",
  /*  7 */ "  budgetingMethod: Occurrences",
  /*  8 */ "  indicator:",
  /*  9 */ "    metadata:",
  /* 10 */ "      name: good-requests",
  /* 11 */ "    spec:",
  /* 12 */ "      ratioMetric:",
  /* 13 */ "        counter: true",
  /* 14 */ "        good:",
  /* 15 */ "          metricSource:",
  /* 16 */ "            type: Prometheus",
  /* 17 */ "            spec:",
  /* 18 */ "              query: 'http_requests_total{code!~\"5..\"}'",
  /* 19 */ "        total:",
  /* 20 */ "          metricSource:",
  /* 21 */ "            type: Prometheus",
  /* 22 */ "            spec:",
  /* 23 */ "              query: http_requests_total",
  /* 24 */ "  timeWindow:",
  /* 25 */ "    - duration: 30d",
  /* 26 */ "      isRolling: true",
  /* 27 */ "  objectives:",
  /* 28 */ "    - displayName: availability",
  /* 29 */ "      target: 0.999",
];

/** The OpenSLO lines with line `n` (1-based) replaced. */
const replaced = (n: number, line: string) => OPENSLO.map((l, i) => (i === n - 1 ? line : l));

/** Lines 1–6 of chaoscast's short form, bad over total. */
const SHORT = [
  /* 1 */ "slo: checkout-availability",
  /* 2 */ "service: checkout",
  /* 3 */ "objective: 99.9%",
  /* 4 */ "window: 30d",
  /* 5 */ "bad: http_requests_total{service=\"checkout\",code=~\"5..\"}",
  /* 6 */ "total: http_requests_total{service=\"checkout\"}",
];

function refusal(yaml: string): ExperimentError {
  let thrown: unknown;
  try {
    parseSlos(yaml, "slo.yaml");
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ExperimentError);
  const error = thrown as ExperimentError;
  expect(error.message).toMatch(/slo\.yaml:\d+:\d+/);
  return error;
}

const selector = (text: string): SloQuery => ({ text, form: "selector" });
const placeholder = (text: string): SloQuery => ({ text, form: "placeholder" });

describe("parseSlos reading an OpenSLO v1 SLO", () => {
  it("reads an inline ratioMetric of good over total as a 99.9% objective over a rolling 30 days", () => {
    const slos = parseSlos(text(OPENSLO), "slo.yaml");
    expect(slos).toEqual<Slo[]>([
      {
        source: "slo.yaml:4",
        name: "availability",
        service: "api",
        objective: 0.999,
        periodMs: 30 * DAY,
        ratio: { counts: "good", events: selector('http_requests_total{code!~"5.."}'), total: selector("http_requests_total") },
      },
    ]);
  });

  it("reads bad over total as an SLO that counts bad events", () => {
    const lines = replaced(14, "        bad:");
    lines[18 - 1] = "              query: 'http_requests_total{code=~\"5..\"}'";
    const [slo] = parseSlos(text(lines), "slo.yaml");
    expect(slo!.ratio).toEqual({ counts: "bad", events: selector('http_requests_total{code=~"5.."}'), total: selector("http_requests_total") });
  });

  it("reads targetPercent 99.9 as the objective 0.999", () => {
    const [slo] = parseSlos(text(replaced(29, "      targetPercent: 99.9")), "slo.yaml");
    expect(slo!.objective).toBeCloseTo(0.999, 12);
  });

  it("reads a 4-week rolling window as 28 days", () => {
    const [slo] = parseSlos(text(replaced(25, "    - duration: 4w")), "slo.yaml");
    expect(slo!.periodMs).toBe(28 * DAY);
  });

  it("accepts metricSource type written in any case", () => {
    const [slo] = parseSlos(text(replaced(16, "            type: prometheus")), "slo.yaml");
    expect(slo!.name).toBe("availability");
  });

  it("follows indicatorRef to a kind: SLI document later in the same file", () => {
    const yaml = text([
      "apiVersion: openslo/v1",
      "kind: SLO",
      "metadata:",
      "  name: api-availability",
      "spec:",
      "  indicatorRef: api-errors",
      "  timeWindow:",
      "    - duration: 28d",
      "      isRolling: true",
      "  objectives:",
      "    - target: 0.995",
      "---",
      "apiVersion: openslo/v1",
      "kind: SLI",
      "metadata:",
      "  name: api-errors",
      "spec:",
      "  ratioMetric:",
      "    counter: true",
      "    bad:",
      "      metricSource:",
      "        type: Prometheus",
      "        spec:",
      "          query: 'sum(increase(http_requests_total{code=~\"5..\"}[{{.window}}]))'",
      "    total:",
      "      metricSource:",
      "        type: Prometheus",
      "        spec:",
      "          query: 'sum(increase(http_requests_total[{{ .window }}]))'",
    ]);
    expect(parseSlos(yaml, "slo.yaml")).toEqual<Slo[]>([
      {
        source: "slo.yaml:4",
        name: "api-availability",
        service: undefined,
        objective: 0.995,
        periodMs: 28 * DAY,
        ratio: {
          counts: "bad",
          events: placeholder('sum(increase(http_requests_total{code=~"5.."}[{{.window}}]))'),
          total: placeholder("sum(increase(http_requests_total[{{ .window }}]))"),
        },
      },
    ]);
  });

  it("leaves out the Service document of a file that holds a Service and an SLO", () => {
    const yaml = text(["apiVersion: openslo/v1", "kind: Service", "metadata:", "  name: api", "spec:", "  description: The public API", "---", ...OPENSLO]);
    const slos = parseSlos(yaml, "slo.yaml");
    expect(slos.map((s) => s.name)).toEqual(["availability"]);
    // The SLO's own line, counted from the top of the file: 7 lines of Service and separator before it.
    expect(slos[0]!.source).toBe("slo.yaml:11");
  });

  it("gives one SLO per objective, named name/displayName (or name/index without one)", () => {
    const yaml = text([...OPENSLO, "    - targetPercent: 99"]);
    const slos = parseSlos(yaml, "slo.yaml");
    expect(slos.map((s) => [s.name, s.objective])).toEqual([
      ["availability/availability", 0.999],
      ["availability/1", expect.closeTo(0.99, 12)],
    ]);
  });

  it("reads a sloth-style {{.window}} query and renders it for each window", () => {
    const lines = replaced(18, "              query: 'sum(rate(http_requests_total{code!~\"5..\"}[{{.window}}])) * 3600'");
    const [slo] = parseSlos(text(lines), "slo.yaml");
    expect(slo!.ratio.events.form).toBe("placeholder");
    expect(renderQuery(slo!.ratio.events, 5 * MINUTE)).toBe('sum(rate(http_requests_total{code!~"5.."}[5m])) * 3600');
    expect(renderQuery(slo!.ratio.events, 30 * DAY)).toBe('sum(rate(http_requests_total{code!~"5.."}[30d])) * 3600');
  });
});

describe("parseSlos reading chaoscast's short form", () => {
  it("reads slo, service, objective 99.9%, window 30d, bad and total", () => {
    expect(parseSlos(text(SHORT), "slo.yaml")).toEqual<Slo[]>([
      {
        source: "slo.yaml:1",
        name: "checkout-availability",
        service: "checkout",
        objective: expect.closeTo(0.999, 12),
        periodMs: 30 * DAY,
        ratio: {
          counts: "bad",
          events: selector('http_requests_total{service="checkout",code=~"5.."}'),
          total: selector('http_requests_total{service="checkout"}'),
        },
      },
    ]);
  });

  it("reads good over total and an objective written as a fraction", () => {
    const yaml = text(["slo: ok", "objective: 0.995", "window: 7d", "good: http_requests_total{code!~\"5..\"}", "total: http_requests_total"]);
    const [slo] = parseSlos(yaml, "slo.yaml");
    expect(slo).toMatchObject({ name: "ok", service: undefined, objective: 0.995, periodMs: 7 * DAY, ratio: { counts: "good" } });
  });

  it("reads the short form written as JSON", () => {
    const json = JSON.stringify({ slo: "json", objective: "99.5%", window: "24h", bad: "errors_total", total: "requests_total" });
    const [slo] = parseSlos(json, "slo.json");
    expect(slo).toMatchObject({ name: "json", objective: expect.closeTo(0.995, 12), periodMs: DAY, source: "slo.json:1" });
  });

  it("reads several SLOs from YAML documents in one file, in order", () => {
    const second = SHORT.map((l) => l.replace("checkout-availability", "checkout-latency"));
    const slos = parseSlos(text([...SHORT, "---", ...second]), "slo.yaml");
    expect(slos.map((s) => [s.name, s.source])).toEqual([
      ["checkout-availability", "slo.yaml:1"],
      ["checkout-latency", "slo.yaml:8"],
    ]);
  });

  it("measures a Pyrra-style plain selector as sum(increase(selector[window]))", () => {
    const yaml = text(["slo: api", "objective: 99.9%", "window: 30d", 'bad: http_requests_total{code=~"5.."}', "total: http_requests_total"]);
    const [slo] = parseSlos(yaml, "slo.yaml");
    expect(renderQuery(slo!.ratio.events, HOUR)).toBe('sum(increase(http_requests_total{code=~"5.."}[1h]))');
    expect(renderQuery(slo!.ratio.total, 30 * DAY)).toBe("sum(increase(http_requests_total[30d]))");
  });
});

describe("parseSlos refusing an OpenSLO SLO, at the offending value's file:line:col", () => {
  it("refuses a calendar window (isRolling: false) at line 26", () => {
    const error = refusal(text(replaced(26, "      isRolling: false")));
    expect(error.problems).toMatchObject([{ file: "slo.yaml", line: 26, col: 18, path: "spec.timeWindow[0].isRolling" }]);
    expect(error.message).toMatch(/^slo\.yaml:26:18: spec\.timeWindow\[0\]\.isRolling: chaoscast measures rolling windows/);
  });

  it("refuses a gauge (counter: false) at line 13", () => {
    const error = refusal(text(replaced(13, "        counter: false")));
    expect(error.problems).toMatchObject([{ line: 13, col: 18, path: "spec.indicator.spec.ratioMetric.counter" }]);
    expect(error.message).toMatch(/^slo\.yaml:13:18: .*chaoscast measures counters: set counter: true/);
  });

  it("refuses a query that is neither a counter selector nor holds {{.window}} (rate(x[5m])) at line 23", () => {
    const error = refusal(text(replaced(23, "              query: rate(x[5m])")));
    expect(error.problems).toMatchObject([{ line: 23, col: 22, path: "spec.indicator.spec.ratioMetric.total.metricSource.spec.query" }]);
    expect(error.message).toMatch(/^slo\.yaml:23:22: .*expected a counter selector .* found "rate\(x\[5m\]\)"/);
  });

  it("refuses an SLO without objectives, at the spec that lacks them (line 6)", () => {
    const error = refusal(text(OPENSLO.slice(0, 26)));
    expect(error.problems).toMatchObject([{ line: 6, col: 3, path: "spec.objectives" }]);
    expect(error.message).toMatch(/^slo\.yaml:6:3: spec\.objectives: missing required key "objectives"/);
  });

  it("refuses an empty list of objectives at line 27", () => {
    const error = refusal(text([...OPENSLO.slice(0, 26), "  objectives: []"]));
    expect(error.problems).toMatchObject([{ line: 27, col: 15, path: "spec.objectives" }]);
    expect(error.message).toMatch(/expected at least one objective/);
  });

  it("refuses a ratio with both good and bad, at the ratioMetric (line 13)", () => {
    const bad = ["        bad:", "          metricSource:", "            type: Prometheus", "            spec:", "              query: 'http_requests_total{code=~\"5..\"}'"];
    const error = refusal(text([...OPENSLO.slice(0, 18), ...bad, ...OPENSLO.slice(18)]));
    expect(error.problems).toMatchObject([{ line: 13, col: 9, path: "spec.indicator.spec.ratioMetric" }]);
    expect(error.message).toMatch(/^slo\.yaml:13:9: .*give exactly one of good or bad, with total/);
  });

  it("refuses an objective written as 150% at line 29", () => {
    const error = refusal(text(replaced(29, "      target: 150%")));
    expect(error.problems).toMatchObject([{ line: 29, col: 15, path: "spec.objectives[0].target" }]);
    expect(error.message).toMatch(/^slo\.yaml:29:15: .*expected an objective as a fraction between 0 and 1 \(0\.999\) or a percentage \(99\.9%\)/);
  });

  it("refuses targetPercent 150 at line 29", () => {
    const error = refusal(text(replaced(29, "      targetPercent: 150")));
    expect(error.problems).toMatchObject([{ line: 29, col: 22, path: "spec.objectives[0].targetPercent" }]);
    expect(error.message).toMatch(/expected targetPercent between 0 and 100/);
  });

  // BUG (reported, not fixed here): src/slo/schema.ts ObjectiveSchema treats any number outside
  // (0, 1) as a percentage, so `target: 1.5` is read as 1.5% (0.015) and `target: 1` as 1% rather
  // than refused; OpenSLO's target is a fraction (docs/slo.md: "target (0.995)"). These assert the
  // intended behaviour and are marked as failing until schema.ts is fixed.
  it("refuses an objective of 1.5 at line 29", () => {
    const error = refusal(text(replaced(29, "      target: 1.5")));
    expect(error.problems).toMatchObject([{ line: 29, col: 15, path: "spec.objectives[0].target" }]);
  });

  it("refuses target: 1, a 100% objective with no budget", () => {
    refusal(text(replaced(29, "      target: 1")));
  });

  it("refuses an objective of 0 at line 29", () => {
    const error = refusal(text(replaced(29, "      target: 0")));
    expect(error.problems).toMatchObject([{ line: 29, col: 15 }]);
  });

  it("refuses Timeslices budgeting at line 7", () => {
    const error = refusal(text(replaced(7, "  budgetingMethod: Timeslices")));
    expect(error.problems).toMatchObject([{ line: 7, col: 20, path: "spec.budgetingMethod" }]);
    expect(error.message).toMatch(/Timeslices are not supported/);
  });

  it("refuses a metric source that is not Prometheus at line 21", () => {
    const error = refusal(text(replaced(21, "            type: Datadog")));
    expect(error.problems).toMatchObject([{ line: 21, col: 19, path: "spec.indicator.spec.ratioMetric.total.metricSource.type" }]);
    expect(error.message).toMatch(/Prometheus metric sources only/);
  });

  it("refuses a period outside 1h..400d at line 25", () => {
    const error = refusal(text(replaced(25, "    - duration: 30m")));
    expect(error.problems).toMatchObject([{ line: 25, col: 17, path: "spec.timeWindow[0].duration" }]);
    expect(error.message).toMatch(/expected a period between 1h and 400d, found "30m"/);
  });

  it("refuses an indicatorRef to an SLI that is not in the file, at line 6", () => {
    const yaml = text([
      "apiVersion: openslo/v1",
      "kind: SLO",
      "metadata:",
      "  name: api-availability",
      "spec:",
      "  indicatorRef: api-errors",
      "  timeWindow:",
      "    - duration: 28d",
      "      isRolling: true",
      "  objectives:",
      "    - target: 0.995",
    ]);
    const error = refusal(yaml);
    expect(error.problems).toMatchObject([{ line: 6, col: 17, path: "spec.indicatorRef" }]);
    expect(error.message).toMatch(/^slo\.yaml:6:17: spec\.indicatorRef: no kind: SLI document named "api-errors" in this file/);
  });

  it("refuses an SLO with neither indicator nor indicatorRef", () => {
    const error = refusal(text([...OPENSLO.slice(0, 7), ...OPENSLO.slice(23)]));
    expect(error.message).toMatch(/give indicator or indicatorRef/);
  });
});

describe("parseSlos refusing a short-form SLO, at the offending key or value's file:line:col", () => {
  it("refuses an unknown key at its own line (3), naming the keys it knows", () => {
    const error = refusal(text([...SHORT.slice(0, 2), "owner: team-a", ...SHORT.slice(2)]));
    expect(error.problems).toMatchObject([{ line: 3, col: 1, path: "owner" }]);
    expect(error.message).toMatch(/^slo\.yaml:3:1: owner: unknown key "owner"; expected one of: .*window/);
  });

  it("refuses an objective of 150% at line 3", () => {
    const error = refusal(text(SHORT.map((l, i) => (i === 2 ? "objective: 150%" : l))));
    expect(error.problems).toMatchObject([{ line: 3, col: 12, path: "objective" }]);
  });

  // BUG (reported, not fixed here): the same ObjectiveSchema reads `objective: 1.5` as 1.5%.
  it("refuses an objective of 1.5 at line 3", () => {
    expect(() => parseSlos(text(SHORT.map((l, i) => (i === 2 ? "objective: 1.5" : l))), "slo.yaml")).toThrow(/slo\.yaml:3:12: objective: /);
  });

  // BUG (reported, not fixed here): ObjectiveSchema reads every string as a percentage, "%" or not,
  // so a quoted fraction "0.999" becomes 0.999% (0.00999), a budget of 99% of events. Either reading
  // it as 0.999 or refusing it would do; reading it as 0.00999 silently will not.
  it('does not read a quoted fraction "0.999" as 0.999%', () => {
    let objective: number;
    try {
      objective = parseSlos(text(SHORT.map((l, i) => (i === 2 ? 'objective: "0.999"' : l))), "slo.yaml")[0]!.objective;
    } catch (err) {
      expect(err).toBeInstanceOf(ExperimentError);
      return;
    }
    expect(objective).toBeCloseTo(0.999, 12);
  });

  it("refuses a query with a fixed window (rate(x[5m])) at line 6", () => {
    const error = refusal(text([...SHORT.slice(0, 5), "total: rate(x[5m])"]));
    expect(error.problems).toMatchObject([{ line: 6, col: 8, path: "total" }]);
    expect(error.message).toMatch(/^slo\.yaml:6:8: total: expected a counter selector/);
  });

  it("refuses both good and bad", () => {
    const error = refusal(text([...SHORT, "good: http_requests_total{code!~\"5..\"}"]));
    expect(error.message).toMatch(/^slo\.yaml:1:1: give exactly one of good or bad, with total/);
  });
});

describe("parseSlos refusing a file that is not valid YAML or expands too far", () => {
  it("refuses an alias bomb at its first alias (line 2, column 8)", () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (const [prev, name] of [..."abcdefg"].slice(0, -1).map((c, i) => [c, "bcdefg"[i]!] as const)) {
      levels.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(", ")}]`);
    }
    const error = refusal(text(levels));
    expect(error.problems).toMatchObject([{ line: 2, col: 8 }]);
    expect(error.message).toMatch(/^slo\.yaml:2:8: the aliases \(\*name\) in this file expand into more than 1024 KiB/);
  });

  it("refuses a duplicated key at the duplicate (line 4)", () => {
    const error = refusal(text([...SHORT.slice(0, 3), "objective: 99%", ...SHORT.slice(3)]));
    expect(error.problems[0]).toMatchObject({ line: 4 });
    expect(error.message).toMatch(/^slo\.yaml:4:\d+: not valid YAML: /);
  });

  it("refuses an unclosed flow sequence", () => {
    const error = refusal(text(["slo: [unclosed", "objective: 99.9%"]));
    expect(error.message).toMatch(/^slo\.yaml:\d+:\d+: not valid YAML: /);
  });

  it("refuses a %YAML 1.1 directive at line 1", () => {
    const error = refusal(text(["%YAML 1.1", "---", ...SHORT]));
    expect(error.problems).toMatchObject([{ line: 1, col: 1 }]);
    expect(error.message).toMatch(/reads YAML 1\.2 only/);
  });

  it("refuses a file with no SLO in it, at line 1", () => {
    const error = refusal(text(["apiVersion: openslo/v1", "kind: Service", "metadata:", "  name: api"]));
    expect(error.message).toMatch(/^slo\.yaml:1:1: no SLO in the file/);
  });

  it("refuses a document that is a list, not a mapping", () => {
    const error = refusal(text(["- slo: a"]));
    expect(error.message).toMatch(/^slo\.yaml:1:1: expected an OpenSLO document/);
  });
});

describe("parseSlos refusing two SLOs with the same name", () => {
  const twice = text([...SHORT, "---", ...SHORT]);

  it("throws an ExperimentError naming the SLO", () => {
    expect(() => parseSlos(twice, "slo.yaml")).toThrow(ExperimentError);
    expect(() => parseSlos(twice, "slo.yaml")).toThrow(/two SLOs are named "checkout-availability"/);
  });

  // BUG (reported, not fixed here): src/slo/file.ts reports this problem with the file only
  // ("slo.yaml: two SLOs are named …"), though its header promises every problem with
  // file:line:col and each Slo already carries its source line. The second one is at line 8.
  it("pins the second SLO of the name to its file:line:col (line 8)", () => {
    const error = refusal(twice);
    expect(error.message).toMatch(/slo\.yaml:8:\d+/);
  });
});

describe("pickSlo", () => {
  const slos = parseSlos(text([...SHORT, "---", ...SHORT.map((l) => l.replace("checkout-availability", "checkout-latency"))]), "slo.yaml");

  it("picks an SLO by name", () => {
    expect(pickSlo(slos, "checkout-latency", "slo.yaml").name).toBe("checkout-latency");
  });

  it("picks a file's only SLO when no name is given", () => {
    expect(pickSlo(slos.slice(0, 1), undefined, "slo.yaml").name).toBe("checkout-availability");
  });

  it("refuses a name that is not in the file, listing the names that are", () => {
    expect(() => pickSlo(slos, "checkout-errors", "slo.yaml")).toThrow(ExperimentError);
    expect(() => pickSlo(slos, "checkout-errors", "slo.yaml")).toThrow(
      'slo.yaml: no SLO named "checkout-errors" in the file; it has checkout-availability, checkout-latency',
    );
  });

  it("refuses to guess when the file holds several SLOs and no name is given", () => {
    expect(() => pickSlo(slos, undefined, "slo.yaml")).toThrow(ExperimentError);
    expect(() => pickSlo(slos, undefined, "slo.yaml")).toThrow("slo.yaml: the file holds 2 SLOs (checkout-availability, checkout-latency); name one with FILE#name");
  });
});

describe("renderQuery", () => {
  it("fills every {{.window}} of a sloth-style expression, whatever the blanks inside the braces", () => {
    const query = placeholder("sum(rate(errors_total[{{.window}}])) / sum(rate(requests_total[{{ .window }}]))");
    expect(renderQuery(query, 5 * MINUTE)).toBe("sum(rate(errors_total[5m])) / sum(rate(requests_total[5m]))");
  });

  it("gives the same answer when called twice (the global pattern keeps no state between calls)", () => {
    const query = placeholder("increase(x[{{.window}}])");
    expect(renderQuery(query, HOUR)).toBe("increase(x[1h])");
    expect(renderQuery(query, HOUR)).toBe("increase(x[1h])");
  });

  it("wraps a Pyrra-style selector in sum(increase(…[window]))", () => {
    expect(renderQuery(selector('http_requests_total{code=~"5.."}'), HOUR)).toBe('sum(increase(http_requests_total{code=~"5.."}[1h]))');
  });

  it("trims a selector before wrapping it", () => {
    expect(renderQuery(selector("  up \n"), 5 * MINUTE)).toBe("sum(increase(up[5m]))");
  });

  it("writes a 28-day period's scaled windows as compound durations", () => {
    expect(renderQuery(selector("x"), 336 * MINUTE)).toBe("sum(increase(x[5h36m]))");
    expect(renderQuery(selector("x"), 4032 * MINUTE)).toBe("sum(increase(x[2d19h12m]))");
  });
});

describe("isCounterSelector", () => {
  it.each([
    "http_requests_total",
    'http_requests_total{code=~"5.."}',
    'http_requests_total{service="checkout", code!~"5..",}',
    '{__name__="http_requests_total"}',
    "job:requests:rate5m",
    "  up  ",
  ])("accepts %j", (text) => {
    expect(isCounterSelector(text)).toBe(true);
  });

  it.each([
    "rate(x[5m])",
    "sum(x)",
    "x[5m]",
    "x{code=5}",
    "{}",
    "",
    "x + y",
    "5xx_total",
  ])("refuses %j", (text) => {
    expect(isCounterSelector(text)).toBe(false);
  });
});

describe("promDuration", () => {
  it.each([
    [3_600_000, "1h"],
    [5 * MINUTE, "5m"],
    // 90 minutes is written with units combined from the largest, as the module documents (1h30m, not 90m).
    [90 * MINUTE, "1h30m"],
    [30 * DAY, "30d"],
    [56 * MINUTE, "56m"],
    [1500, "1s500ms"],
    [0, "1ms"],
  ])("writes %d ms as %s", (ms, expected) => {
    expect(promDuration(ms)).toBe(expected);
  });
});
