import { describe, expect, it } from "vitest";
import { ExperimentError, formatProblem } from "../../src/errors.js";
import { parseExperiment } from "../../src/experiment/loader.js";
import { registry } from "../../src/registry.js";

const load = (text: string) => parseExperiment(text, "exp.yaml", { registry, vars: { cli: {}, env: {} } });

function problems(text: string): string[] {
  try {
    load(text);
  } catch (err) {
    if (err instanceof ExperimentError) return err.problems.map(formatProblem);
    throw err;
  }
  throw new Error("expected the experiment to be invalid");
}

const experiment = (faults: string, cohorts = "", targets = "") => `version: 1
title: Cohorts
duration: 20s
targets:
  edge: { proxy: { name: player-edge, api: "127.0.0.1:8474" } }
  api: { process: { port: 8080 } }
${targets}cohorts:
  split: edge
  size: 5%
  starts: { metrics: "http://127.0.0.1:9464/metrics", good: playback_start_success_total, total: playback_start_attempts_total }
${cohorts}faults:
${faults}`;

const ERRORS = `  - { name: segment errors, target: edge, action: proxy.http-error, with: { status: 503, match: { path: "**/*.ts" } } }
`;

describe("an experiment with cohorts", () => {
  it("confines every fault to the experiment cohort and tags both cohorts first", () => {
    const exp = load(experiment(ERRORS));
    expect(exp.faults.map((f) => f.name)).toEqual(["cohort tags", "segment errors"]);
    expect(exp.faults[0]!.action.name).toBe("proxy.tag-cohorts");
    expect(exp.faults[0]!.params).toMatchObject({ size: 5, header: "x-chaoscast-cohort", viewerHeader: "x-viewer-id" });
    expect(exp.faults[1]!.params).toMatchObject({ viewerPercent: 5, viewerHeader: "x-viewer-id", status: 503 });
    expect(exp.cohorts).toMatchObject({ split: "edge", sizePercent: 5, alpha: 0.05, minStarts: 10 });
  });

  it("reads each cohort's counters with the cohort as a label", () => {
    const exp = load(experiment(ERRORS));
    expect(exp.cohorts!.counters.experiment.good.params).toMatchObject({ metric: "playback_start_success_total", labels: { cohort: "experiment" } });
    expect(exp.cohorts!.counters.control.total.params).toMatchObject({ metric: "playback_start_attempts_total", labels: { cohort: "control" } });
  });

  it("queries Prometheus with a sum that is 0, not empty, before a cohort's first start", () => {
    const text = experiment(ERRORS).replace('starts: { metrics: "http://127.0.0.1:9464/metrics",', 'starts: { prometheus: { url: "http://127.0.0.1:9090" }, label: group,');
    const exp = load(text);
    expect(exp.cohorts!.counters.control.good.probe.name).toBe("prometheus");
    expect(exp.cohorts!.counters.control.good.params).toMatchObject({ query: 'sum(playback_start_success_total{group="control"}) or vector(0)' });
  });

  it("refuses a fault on another target, which would hurt both cohorts", () => {
    const out = problems(experiment(`${ERRORS}  - { name: freeze, target: api, action: process.suspend }\n`));
    expect(out.join("\n")).toMatch(/exp\.yaml:\d+:\d+.*every fault acts on the split target "edge".*"freeze" acts on "api"/);
  });

  it("refuses a fault that acts on whole connections", () => {
    const out = problems(experiment(`  - { name: slow, target: edge, action: proxy.latency, with: { latency: 100ms } }\n`));
    expect(out.join("\n")).toMatch(/proxy\.latency acts on whole connections and cannot be confined to a cohort/);
  });

  it("refuses a viewerPercent of the fault's own", () => {
    const out = problems(experiment(`  - { name: e, target: edge, action: proxy.http-error, with: { viewerPercent: 10% } }\n`));
    expect(out.join("\n")).toMatch(/exp\.yaml:\d+:\d+.*remove viewerPercent/);
  });

  it("refuses a split that is not a proxy target, a size above 50% and starts from nowhere", () => {
    const text = experiment(ERRORS).replace("split: edge", "split: api").replace("size: 5%", "size: 60%").replace('metrics: "http://127.0.0.1:9464/metrics", ', "");
    const out = problems(text).join("\n");
    expect(out).toMatch(/to 50% \(two cohorts share the viewers\)/);
    expect(out).toMatch(/exactly one of metrics or prometheus/);
  });

  it("refuses a split target that is not a proxy", () => {
    const out = problems(experiment(`  - { name: freeze, target: api, action: process.suspend }\n`).replace("split: edge", "split: api"));
    expect(out.join("\n")).toMatch(/cohorts\.split needs a proxy target.*"api" is a process target/);
  });

  it("refuses a metric name that could inject PromQL", () => {
    const out = problems(experiment(ERRORS).replace("good: playback_start_success_total", 'good: "x} or vector(1) #"'));
    expect(out.join("\n")).toMatch(/expected a Prometheus metric name/);
  });

  it("lets cohorts name a viewer header of their own and gives it to every fault and the tags", () => {
    const exp = load(experiment(ERRORS).replace("  size: 5%", "  size: 5%\n  viewerHeader: x-user-id"));
    expect(exp.faults[0]!.params).toMatchObject({ viewerHeader: "x-user-id" });
    expect(exp.faults[1]!.params).toMatchObject({ viewerHeader: "x-user-id", viewerRequired: true });
  });

  it("refuses a cohort header that frames the message, carries identity or is the viewer's id", () => {
    for (const header of ["content-length", "Host", "cookie", "authorization", "x-viewer-id"]) {
      const out = problems(experiment(ERRORS).replace("  size: 5%", `  size: 5%\n  header: ${header}`)).join("\n");
      expect(out, header).toMatch(/exp\.yaml:\d+:\d+.*(frames the message or carries identity|would replace the viewer's id)/);
    }
  });

  it("gives its salt to the tags and to every fault, so they pick the same viewers", () => {
    const exp = load(experiment(ERRORS).replace("  size: 5%", "  size: 5%\n  salt: game-day-7"));
    expect(exp.faults[0]!.params).toMatchObject({ viewerSalt: "game-day-7" });
    expect(exp.faults[1]!.params).toMatchObject({ viewerSalt: "game-day-7" });
  });

  it("refuses good and total naming the same counter, and sizes below one bucket", () => {
    expect(problems(experiment(ERRORS).replace("total: playback_start_attempts_total", "total: playback_start_success_total")).join("\n")).toMatch(/good and total are the same counter/);
    for (const size of ["1e-300", "0.001%"]) {
      expect(problems(experiment(ERRORS).replace("size: 5%", `size: ${size}`)).join("\n"), size).toMatch(/expected a cohort size from 0\.01%/);
    }
  });
});
