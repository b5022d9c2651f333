// The error-budget gate end to end: a real Prometheus (Debian's) scraping two fixture services,
// one failing 5% of its requests and one 0.01%, and the CLI built from dist/ asked about them:
// `chaoscast budget`, a prometheus steady-state probe, and an experiment's budget: gate.
// Skips with a note where no prometheus binary is found, unless CHAOSCAST_REQUIRE_SERVICES=1.

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startExporter, type Exporter } from "../../fixtures/prometheus/exporter.js";
import { freePort, runCli } from "../helpers/processes.js";
import { prometheusAvailability, startPrometheus, type RunningPrometheus } from "../helpers/prometheus.js";
import { tempDir } from "../helpers/temp.js";
import { prometheusProbe } from "../../src/adapters/prometheus/index.js";
import { parseExpectation } from "../../src/contract/expect.js";
import { runProbe } from "../../src/engine/hypothesis.js";

const available = await prometheusAvailability();

describe.skipIf(!available)("the error-budget gate against a real Prometheus", () => {
  let failing: Exporter;
  let healthy: Exporter;
  let burst: Exporter;
  let prometheus: RunningPrometheus;
  let dir: string;
  const env = () => ({ CHAOSCAST_DIR: path.join(dir, ".chaoscast") });

  const openSlo = (name: string, service: string) => `apiVersion: openslo/v1
kind: SLO
metadata: { name: ${name} }
spec:
  service: ${service}
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 30d, isRolling: true }]
  indicator:
    metadata: { name: ${name}-errors }
    spec:
      ratioMetric:
        counter: true
        bad: { metricSource: { type: Prometheus, spec: { query: 'http_requests_total{service="${service}",code=~"5.."}' } } }
        total: { metricSource: { type: Prometheus, spec: { query: 'http_requests_total{service="${service}"}' } } }
  objectives: [{ displayName: availability, target: 0.999 }]
`;

  beforeAll(async () => {
    dir = tempDir();
    failing = await startExporter({ errorRatio: 0.05, requestsPerSecond: 200, service: "checkout" });
    healthy = await startExporter({ errorRatio: 0.0001, requestsPerSecond: 200, service: "catalog" });
    burst = await startExporter({ errorRatio: 0, requestsPerSecond: 200, service: "player" });
    prometheus = await startPrometheus({ targets: [failing.target, healthy.target, burst.target] });
    // Two scrapes of each, so increase() has something to work with.
    await prometheus.waitForSeries('count_over_time(http_requests_total{service="checkout",code="200"}[1m]) >= 3', 30_000);
    await prometheus.waitForSeries('count_over_time(http_requests_total{service="catalog",code="200"}[1m]) >= 3', 30_000);
    writeFileSync(path.join(dir, "checkout.yaml"), openSlo("checkout-availability", "checkout"));
    writeFileSync(path.join(dir, "catalog.yaml"), openSlo("catalog-availability", "catalog"));
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await failing?.close();
    await healthy?.close();
    await burst?.close();
  });

  const byService = 'sum by (service) (rate(http_requests_total{service=~"checkout|catalog",code=~"5.."}[30s])) / sum by (service) (rate(http_requests_total{service=~"checkout|catalog"}[30s]))';
  const probe = (params: Record<string, unknown>, expect: string) =>
    runProbe({ name: "p", probe: prometheusProbe, params: prometheusProbe.params.parse({ url: prometheus.url, ...params }), expectation: parseExpectation(expect) }, new AbortController().signal);

  it("the prometheus probe judges every series of a vector (all), reporting the first that fails", async () => {
    const result = await probe({ query: byService }, "< 0.01");
    expect(result.ok).toBe(false);
    expect(result.observation.fields).toMatchObject({ series: 2, failing: 1, labels: { service: "checkout" }, value: expect.closeTo(0.05, 1) });
    expect(result.observation.summary).toMatch(/1\/2 series pass \(all\)/);
  });

  it("the prometheus probe passes with one passing series (any), and folds series into one number (max, count)", async () => {
    expect((await probe({ query: byService, series: "any" }, "< 0.01")).ok).toBe(true);
    const max = await probe({ query: byService, series: "max" }, "> 0.03");
    expect(max.ok).toBe(true);
    expect(max.observation.fields.value).toBeCloseTo(0.05, 1);
    expect((await probe({ query: byService, series: "count" }, "== 2")).ok).toBe(true);
  });

  it("the prometheus probe reduces a range query over time", async () => {
    const result = await probe({ query: 'sum(rate(http_requests_total{service="checkout",code=~"5.."}[30s])) / sum(rate(http_requests_total{service="checkout"}[30s]))', range: { last: "20s", step: "2s", over: "max" } }, "> 0.03");
    expect(result.ok, result.failures.join()).toBe(true);
    expect(result.observation.fields.value).toBeCloseTo(0.05, 1);
  });

  it("the prometheus probe does with no data what noData says: breach by default, pass, or inconclusive", async () => {
    const query = 'http_requests_total{service="nobody"}';
    const breach = await probe({ query }, "< 1");
    expect(breach.ok).toBe(false);
    expect(breach.failures[0]).toMatch(/the query returned no series \(noData: breach\)/);
    expect(await probe({ query, noData: "pass" }, "< 1")).toMatchObject({ ok: true, failures: [] });
    const unsure = await probe({ query, noData: "inconclusive" }, "< 1");
    expect(unsure).toMatchObject({ ok: true, inconclusive: "the query returned no series" });
  });

  it("the prometheus probe reports a query Prometheus cannot parse as Prometheus said it", async () => {
    const result = await probe({ query: "sum(rate(" }, "< 1");
    expect(result.ok).toBe(false);
    expect(result.failures[0]).toMatch(/Prometheus refused the query \(bad_data\): .*parse error/);
  });

  it("halts releases (exit 1) for a service failing 5% against a 99.9% objective, and says why", async () => {
    const result = await runCli(["budget", "checkout.yaml", "--prometheus", prometheus.url, "--no-color"], { cwd: dir, env: env() });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stdout).toMatch(/SLO checkout-availability.*HALT/);
    expect(result.stdout).toMatch(/the error budget is spent/);
    expect(result.stdout).toMatch(/page\s+14\.4×.*FIRING/);
    expect(result.stdout).toMatch(/Halt releases/);
  });

  it("lets releases go on (exit 0) for a service failing 0.01%", async () => {
    const result = await runCli(["budget", "catalog.yaml", "--prometheus", prometheus.url, "--output", "json"], { cwd: dir, env: env() });
    expect(result.exitCode, result.all).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.verdict).toBe("go");
    expect(report.slos[0].remaining).toBeGreaterThan(0.5);
    expect(report.slos[0].sli).toBeGreaterThan(0.999);
    expect(report.slos[0].burns.map((b: { firing: boolean }) => b.firing)).toEqual([false, false, false]);
  });

  it("writes a JUnit testcase per SLO, the failing one as a failure", async () => {
    const result = await runCli(["budget", "checkout.yaml", "catalog.yaml", "--prometheus", prometheus.url, "--junit", "budget.xml"], { cwd: dir, env: env() });
    expect(result.exitCode, result.all).toBe(1);
    const xml = readFileSync(path.join(dir, "budget.xml"), "utf8");
    expect(xml).toMatch(/<testsuite name="chaoscast budget"[^>]* tests="2" failures="1" errors="0"/);
    expect(xml).toMatch(/<testcase name="SLO checkout-availability"[^>]*>\s*<failure message="[^"]*error budget is spent/);
    expect(xml).toMatch(/<testcase name="SLO catalog-availability"[^>]*>\s*<system-out>/);
  });

  it("is inconclusive (exit 6) when Prometheus does not answer, neither go nor halt", async () => {
    const port = await freePort();
    const result = await runCli(["budget", "catalog.yaml", "--prometheus", `http://127.0.0.1:${port}`, "--timeout", "2s"], { cwd: dir, env: env() });
    expect(result.exitCode, result.all).toBe(6);
    expect(result.stdout).toMatch(/INCONCLUSIVE/);
    expect(result.stdout).toMatch(/did not answer: ECONNREFUSED/);
  });

  it("refuses an invalid SLO file with file:line:col and exit 4", async () => {
    writeFileSync(path.join(dir, "bad.yaml"), "slo: broken\nobjective: 99.9%\nwindow: 30d\nbad: rate(x[5m])\ntotal: x\n");
    const result = await runCli(["budget", "bad.yaml", "--prometheus", prometheus.url], { cwd: dir, env: env() });
    expect(result.exitCode, result.all).toBe(4);
    expect(result.stderr).toMatch(/bad\.yaml:4:6: .*expected a counter selector/);
  });

  const probeExperiment = (name: string, service: string) => `version: 1
title: ${name}
duration: 1s
steadyState:
  - name: error ratio
    probe: prometheus
    with:
      url: ${prometheus.url}
      query: sum(rate(http_requests_total{service="${service}",code=~"5.."}[30s])) / sum(rate(http_requests_total{service="${service}"}[30s]))
    expect: "< 0.01"
faults:
  - { name: wait, action: command.run, with: { command: ["true"] } }
`;

  it("skips a run (exit 5) whose prometheus probe sees the 5% service's error ratio, and passes on the healthy one", async () => {
    writeFileSync(path.join(dir, "probe-failing.yaml"), probeExperiment("checkout holds", "checkout"));
    writeFileSync(path.join(dir, "probe-healthy.yaml"), probeExperiment("catalog holds", "catalog"));
    const failingRun = await runCli(["run", "probe-failing.yaml", "--no-color"], { cwd: dir, env: env() });
    expect(failingRun.exitCode, failingRun.all).toBe(5);
    expect(failingRun.all).toMatch(/not in steady state before the method: error ratio/);
    const healthyRun = await runCli(["run", "probe-healthy.yaml", "--no-color"], { cwd: dir, env: env() });
    expect(healthyRun.exitCode, healthyRun.all).toBe(0);
  });

  const budgetExperiment = (name: string, slo: string) => `version: 1
title: ${name}
duration: 2s
budget:
  slo: ${slo}
  prometheus: { url: "${prometheus.url}" }
  minRemaining: 25%
  chaosWindow: excluded
faults:
  - { name: wait, action: command.run, with: { command: ["true"] } }
`;

  it("skips a run (exit 5) in preflight when its SLO's budget is low, and records the budget a healthy run spent", async () => {
    writeFileSync(path.join(dir, "gate-failing.yaml"), budgetExperiment("checkout game day", "checkout.yaml"));
    writeFileSync(path.join(dir, "gate-healthy.yaml"), budgetExperiment("catalog game day", "catalog.yaml"));
    const skipped = await runCli(["run", "gate-failing.yaml", "--no-color", "--journal", "skipped.json"], { cwd: dir, env: env() });
    expect(skipped.exitCode, skipped.all).toBe(5);
    expect(skipped.all).toMatch(/budget gate: SLO checkout-availability: SLI .* error budget left: the error budget is spent/);
    const journal = JSON.parse(readFileSync(path.join(dir, "skipped.json"), "utf8"));
    expect(journal.gates.map((g: { gate: string; status: string }) => `${g.gate}:${g.status}`)).toEqual([
      "guards:passed",
      "schedule:not-applicable",
      "lock:passed",
      "policy:passed",
      "targets:passed",
      "actions:passed",
      "budget:failed",
    ]);
    expect(journal.faults).toEqual([]);

    const ran = await runCli(["run", "gate-healthy.yaml", "--no-color", "--journal", "ran.json"], { cwd: dir, env: env() });
    expect(ran.exitCode, ran.all).toBe(0);
    const record = JSON.parse(readFileSync(path.join(dir, "ran.json"), "utf8"));
    expect(record.budget).toMatchObject({ slo: "catalog-availability", chaosWindow: "excluded", before: { remaining: expect.any(Number) }, after: { remaining: expect.any(Number) } });
    expect(record.budget.window.from < record.budget.window.to).toBe(true);
    expect(record.budget.spent).toBeGreaterThanOrEqual(0);
  });

  it("leaves out the windows of runs that chose chaosWindow: excluded, with --exclude-chaos", async () => {
    const runs = path.join(dir, "journals");
    mkdirSync(runs, { recursive: true });
    // A 20-second window in which the checkout service's errors are left out of its budget.
    const to = new Date();
    const from = new Date(to.getTime() - 20_000);
    writeFileSync(path.join(runs, "r1.json"), JSON.stringify({ budget: { slo: "checkout-availability", chaosWindow: "excluded", window: { from: from.toISOString(), to: to.toISOString() } } }));
    const measure = async (extra: string[]) => JSON.parse((await runCli(["budget", "checkout.yaml", "--prometheus", prometheus.url, "--output", "json", ...extra], { cwd: dir, env: env() })).stdout).slos[0];
    const charged = await measure([]);
    const excluded = await measure(["--exclude-chaos", runs]);
    expect(excluded.excluded).toHaveLength(1);
    expect(excluded.total).toBeLessThan(charged.total);
    expect(readdirSync(runs)).toEqual(["r1.json"]);
  });

  const errorRatio = (service: string) => `sum(rate(http_requests_total{service="${service}",code=~"5.."}[30s])) / sum(rate(http_requests_total{service="${service}"}[30s]))`;

  it("analyze fails a canary that errs far more than its baseline, and passes one that does not (Argo's semantics)", async () => {
    const common = ["analyze", "--prometheus", prometheus.url, "--success", "<= 1.5", "--failure", "> 3", "--count", "2", "--interval", "1s"];
    const bad = await runCli([...common, "--canary", errorRatio("checkout"), "--baseline", errorRatio("catalog"), "--output", "json"], { cwd: dir, env: env() });
    expect(bad.exitCode, bad.all).toBe(1);
    const report = JSON.parse(bad.stdout);
    expect(report.phase).toBe("Failed");
    expect(report.measurements[0]).toMatchObject({ phase: "Failed", canary: expect.closeTo(0.05, 1) });
    const good = await runCli([...common, "--canary", errorRatio("catalog"), "--baseline", errorRatio("checkout")], { cwd: dir, env: env() });
    expect(good.exitCode, good.all).toBe(0);
    expect(good.stdout).toMatch(/SUCCESSFUL \(exit 0\) 2 measurement\(s\): 2 successful/);
  });

  it("analyze is inconclusive (exit 6) after consecutive errors from a Prometheus that does not answer", async () => {
    const port = await freePort();
    const result = await runCli(["analyze", "--prometheus", `http://127.0.0.1:${port}`, "--canary", "vector(1)", "--consecutive-error-limit", "0", "--timeout", "1s"], { cwd: dir, env: env() });
    expect(result.exitCode, result.all).toBe(6);
    expect(result.stdout).toMatch(/Error .*ECONNREFUSED/);
  });

  it("aborts a run (exit 2) whose SLO starts burning faster than its maxBurnRate during the method", async () => {
    writeFileSync(
      path.join(dir, "player.yaml"),
      "slo: player-starts\nobjective: 99%\nwindow: 30d\nbad: http_requests_total{service=\"player\",code=~\"5..\"}\ntotal: http_requests_total{service=\"player\"}\n",
    );
    writeFileSync(
      path.join(dir, "burn.yaml"),
      `version: 1
title: player burn cap
duration: 40s
budget:
  slo: player.yaml
  prometheus: { url: "${prometheus.url}" }
  maxBurnRate: 2
abort: { interval: 1s, after: 2 }
faults:
  - { name: wait, action: command.run, with: { command: ["true"] } }
`,
    );
    const child = runCli(["run", "burn.yaml", "--no-color", "--journal", "burn.json"], { cwd: dir, env: env() });
    let seen = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      // The faults are in: now the service starts failing half its requests.
      if (seen.includes("injected wait")) burst.setErrorRatio(0.5);
    });
    const result = await child;
    burst.setErrorRatio(0);
    expect(result.exitCode, result.all).toBe(2);
    expect(result.all).toMatch(/budget burn of SLO player-starts: burning [\d.]+× .*does not match <= 2/);
    const journal = JSON.parse(readFileSync(path.join(dir, "burn.json"), "utf8"));
    expect(journal.durationMs).toBeLessThan(35_000);
    expect(journal.budget.before.remaining).toBeGreaterThan(0.9);
  });
});
