// The Prometheus test harness: the exporter fixture (fixtures/prometheus/exporter.ts) on its own,
// then a real Prometheus (test/helpers/prometheus.ts) scraping it, so tests of a Prometheus
// steady-state probe can trust that a PromQL error ratio shows the ratio the exporter was given.
// The Prometheus part skips with a note where no prometheus binary is found, unless
// CHAOSCAST_REQUIRE_SERVICES=1, where it fails.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startExporter, type Exporter } from "../../fixtures/prometheus/exporter.js";
import { eventually, pollUntil } from "../helpers/poll.js";
import { prometheusAvailability, startPrometheus, type RunningPrometheus } from "../helpers/prometheus.js";

const available = await prometheusAvailability();

/** The exporter's http_requests_total by code, read from its /metrics. */
async function scrape(exporter: Exporter): Promise<Record<string, number>> {
  const text = await (await fetch(exporter.url)).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^http_requests_total\{[^}]*code="(\d+)"[^}]*\} (\d+)$/gm)) counts[match[1]!] = Number(match[2]);
  return counts;
}

describe("the Prometheus exporter fixture", () => {
  it("counts requests from the time since start, failing none at a ratio of 0", async () => {
    const exporter = await startExporter({ errorRatio: 0, requestsPerSecond: 1000, service: "edge" });
    try {
      expect(exporter.target).toBe(`127.0.0.1:${exporter.port}`);
      const text = await (await fetch(exporter.url)).text();
      expect(text).toContain("# TYPE http_requests_total counter");
      expect(text).toContain('http_requests_total{service="edge",code="200"}');
      await pollUntil(async () => ((await scrape(exporter))["200"] ?? 0) > 50, 5_000, "requests counted");
      expect((await scrape(exporter))["500"]).toBe(0);
    } finally {
      await exporter.close();
    }
  });

  it("integrates a changed error ratio piecewise, so earlier counts stay as they were", async () => {
    const exporter = await startExporter({ errorRatio: 0, requestsPerSecond: 1000 });
    try {
      await pollUntil(async () => ((await scrape(exporter))["200"] ?? 0) > 50, 5_000, "requests counted");
      exporter.setErrorRatio(1);
      const before = await scrape(exporter);
      await pollUntil(async () => ((await scrape(exporter))["500"] ?? 0) > 50, 5_000, "errors counted");
      const after = await scrape(exporter);
      // From the change on every request fails: the successes stop where they were.
      expect(after["200"]).toBe(before["200"]);
      expect(() => exporter.setErrorRatio(1.5)).toThrow(RangeError);
    } finally {
      await exporter.close();
    }
  });
});

describe.skipIf(!available)("a real Prometheus scraping the exporter fixture", () => {
  let exporter: Exporter | undefined;
  let prometheus: RunningPrometheus | undefined;

  beforeAll(async () => {
    exporter = await startExporter({ errorRatio: 0.05 });
    prometheus = await startPrometheus({ targets: [exporter.target] });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await exporter?.close();
  });

  it("scrapes the exporter's counters into series that PromQL finds", async () => {
    await prometheus!.waitForSeries('http_requests_total{job="fixture",code="500"}');
    const up = await prometheus!.query('up{job="fixture"}');
    expect(up.map((s) => s.value)).toEqual([1]);
  });

  it("shows the exporter's error ratio through a rate over its counters", async () => {
    // Five scrapes in the window first: 400 requests or more, so that whole-request counting moves
    // the ratio by a quarter of a percent at most.
    await prometheus!.waitForSeries('count_over_time(up{job="fixture"}[30s]) >= 5');
    const ratioQuery = 'sum(rate(http_requests_total{code="500"}[30s])) / sum(rate(http_requests_total[30s]))';
    const seen = await eventually(
      () => prometheus!.query(ratioQuery),
      (samples) => samples.length > 0,
      10_000,
      250,
    );
    expect(seen).toHaveLength(1);
    expect(Math.abs(seen[0]!.value - 0.05), `error ratio ${seen[0]!.value}`).toBeLessThan(0.01);
  });
});
