// Cohort verdict against whole-population thresholds: how many playback starts fail before a
// harmful fault is caught. The embedded OTT stack (160 viewers) runs in this process, as in
// `chaoscast demo`; each run injects 503s on every segment at the players' edge and is judged in
// one of three ways, alternating:
//   cohort      the fault reaches the experiment cohort (a quarter of the viewers) and the run
//               compares it with the control cohort (experiments/demo/10's cohorts block)
//   population  the same fault on the same quarter of viewers, judged by the whole population's
//               start success (>= 99.5% over 10 s, 3 breaches in a row: the demo's usual rule)
//   everyone    the fault on every viewer, judged by that same population threshold
// The figures: failed starts (all viewers) from the fault in effect to the abort, and that time.
// Then the case a population threshold cannot tell apart: a harmless fault (800 ms on the cohort's
// segments) while an unrelated incident hurts everyone (a share of master playlists answer 503,
// put on the link by the benchmark, not the experiment), judged both ways:
//   confounded-cohort      the cohort verdict: both cohorts suffer the incident alike
//   confounded-population  the population threshold: it aborts the run for what it did not cause

import path from "node:path";
import { fileURLToPath } from "node:url";

export const name = "cohort";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const VARIANTS = ["cohort", "population", "everyone"];
const CONFOUNDED = ["confounded-cohort", "confounded-population"];
/** The unrelated incident: a third of master playlist requests, for every viewer, answer 503. */
const INCIDENT = { name: "bench-incident", type: "http_error", attributes: { status: 503, path: "**/master.m3u8", percent: 34 } };

/** The whole population's start success, the demo's usual steady-state probe, at `expect`. */
function populationProbe(vars, expect) {
  return `  - name: playback start success
    probe: metrics
    with:
      url: "${vars.viewers_metrics}"
      ratio: { good: playback_start_success_total, total: playback_start_attempts_total }
      window: 10s
      timeout: 8s
    expect: "${expect}"`;
}

function harmlessText(variant, vars) {
  const cohort = variant === "confounded-cohort";
  return `version: 1
title: cohort bench (${variant})
duration: 30s
targets:
  edge: { proxy: { name: player-edge, api: "${vars.proxy_api}" } }
${cohort ? `cohorts:\n  split: edge\n  size: 25%\n  starts: { metrics: "${vars.viewers_metrics}", good: playback_start_success_total, total: playback_start_attempts_total }\n  minStarts: 10\n` : ""}steadyState:
${populationProbe(vars, cohort ? ">= 0.5" : ">= 0.995")}
abort: { interval: 1s, after: 3 }
recovery: { timeout: 60s, interval: 1s }
faults:
  - { name: slow segments, target: edge, action: proxy.http-latency, with: { latency: 800ms, match: { path: "**/*.ts" }${cohort ? "" : ", viewerPercent: 25%"} } }
`;
}

function experimentText(variant, vars) {
  const population = populationProbe(vars, variant === "cohort" ? ">= 0.5" : ">= 0.995");
  const cohorts = `cohorts:
  split: edge
  size: 25%
  starts: { metrics: "${vars.viewers_metrics}", good: playback_start_success_total, total: playback_start_attempts_total }
  minStarts: 5
`;
  const scope = variant === "population" ? ", viewerPercent: 25%" : "";
  return `version: 1
title: cohort bench (${variant})
duration: 40s
targets:
  edge: { proxy: { name: player-edge, api: "${vars.proxy_api}" } }
${variant === "cohort" ? cohorts : ""}steadyState:
${population}
abort: { interval: 1s, after: 3 }
recovery: { timeout: 60s, interval: 1s }
faults:
  - { name: segment errors, target: edge, action: proxy.http-error, with: { status: 503, match: { path: "**/*.ts" }${scope} } }
`;
}

/** Failed starts so far, over every cohort label: attempts minus successes. */
async function failedStarts(metricsUrl) {
  const text = await (await fetch(metricsUrl)).text();
  let attempts = 0;
  let successes = 0;
  for (const line of text.split("\n")) {
    const m = /^(playback_start_attempts_total|playback_start_success_total)(?:\{[^}]*\})? (\d+(?:\.\d+)?)$/.exec(line);
    if (!m) continue;
    if (m[1] === "playback_start_attempts_total") attempts += Number(m[2]);
    else successes += Number(m[2]);
  }
  return attempts - successes;
}

/** The built modules a run needs, and the demo stack with its 160 viewers. */
async function setUp() {
  const { startStack } = await import(path.join(ROOT, "dist/demo/stack.js"));
  const { parseExperiment } = await import(path.join(ROOT, "dist/experiment/loader.js"));
  const { runExperiment } = await import(path.join(ROOT, "dist/engine/runner.js"));
  const { registry } = await import(path.join(ROOT, "dist/registry.js"));
  return { stack: await startStack({ viewers: 160 }), parseExperiment, runExperiment, registry };
}

export async function run({ quick, signal, log }) {
  const { stack, parseExperiment, runExperiment, registry } = await setUp();
  try {
    // Steady: every viewer has started once.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const text = await (await fetch(stack.vars.viewers_metrics)).text();
      const started = [...text.matchAll(/^playback_start_success_total(?:\{[^}]*\})? (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
      if (started >= 160) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const rounds = quick ? 1 : 3;
    const samples = Object.fromEntries(VARIANTS.map((v) => [v, []]));
    for (let round = 0; round < rounds; round++) {
      for (const variant of VARIANTS) {
        if (signal.aborted) throw signal.reason;
        const experiment = parseExperiment(experimentText(variant, stack.vars), "cohort-bench.yaml", { registry, vars: { cli: {}, env: {} } });
        const events = [];
        let atInjection;
        let atAbort;
        const sink = (e) => {
          events.push({ ...e, clock: performance.now() });
          // The counts are read as the events happen: the starts failed in between are the figure.
          if (e.type === "fault-injected" && e.fault === "segment errors") atInjection = failedStarts(stack.vars.viewers_metrics);
          if (e.type === "abort") atAbort = failedStarts(stack.vars.viewers_metrics);
        };
        const result = await runExperiment(experiment, { registry, runId: `bench-cohort-${variant}-${round}`, seed: "bench", sink, interrupt: signal });
        const injected = events.find((e) => e.type === "fault-injected" && e.fault === "segment errors");
        const abort = events.find((e) => e.type === "abort");
        if (!injected || !abort || !atInjection || !atAbort) throw new Error(`${variant}: the run did not abort (${result.outcome}: ${result.reason})`);
        const verdict = events.find((e) => e.type === "cohort-verdict");
        const sample = {
          failed: (await atAbort) - (await atInjection),
          detectMs: Math.round(abort.clock - injected.clock),
          byCohortVerdict: verdict?.verdict === "diverged",
          cohortFailed: verdict?.failedBeforeDetection ?? null,
        };
        samples[variant].push(sample);
        log(`cohort: ${variant} ${round + 1}/${rounds}: ${sample.failed} failed start(s) in ${(sample.detectMs / 1000).toFixed(1)} s${variant === "cohort" ? ` (the verdict's own count: ${sample.cohortFailed})` : ""}; ${abort.reason.slice(0, 100)}`);
        // Let the viewers who failed get back to playing before the next run.
        await new Promise((r) => setTimeout(r, 10_000));
      }
    }
    const confounded = await runConfounded({ stack, rounds, signal, log, parseExperiment, runExperiment, registry });
    const summary = (list, key) => ({ mean: Math.round((list.reduce((s, x) => s + x[key], 0) / list.length) * 10) / 10, min: Math.min(...list.map((x) => x[key])), max: Math.max(...list.map((x) => x[key])) });
    return {
      ...Object.fromEntries(VARIANTS.map((v) => [v, { runs: samples[v].length, failed: summary(samples[v], "failed"), detectMs: summary(samples[v], "detectMs"), samples: samples[v] }])),
      confounded,
    };
  } finally {
    await stack.stop();
  }
}

/**
 * The confounded pair. The incident begins 2 s after the run's own fault, as an unrelated incident
 * would: one already going on would (rightly) keep the run from starting at all.
 */
async function runConfounded({ stack, rounds, signal, log, parseExperiment, runExperiment, registry }) {
  const confounded = Object.fromEntries(CONFOUNDED.map((v) => [v, []]));
  const link = stack.proxy.collection.get("player-edge");
  for (let round = 0; round < rounds; round++) {
    for (const variant of CONFOUNDED) {
      if (signal.aborted) throw signal.reason;
      const experiment = parseExperiment(harmlessText(variant, stack.vars), "cohort-bench.yaml", { registry, vars: { cli: {}, env: {} } });
      const events = [];
      let timer;
      const sink = (e) => {
        events.push(e);
        if (e.type === "fault-injected" && e.fault === "slow segments") timer = setTimeout(() => link.addToxic(INCIDENT), 2000);
      };
      let result;
      try {
        result = await runExperiment(experiment, { registry, runId: `bench-cohort-${variant}-${round}`, seed: "bench", sink, interrupt: signal });
      } finally {
        clearTimeout(timer);
        if (link.listToxics().some((t) => t.name === INCIDENT.name)) link.removeToxic(INCIDENT.name);
      }
      const verdict = events.find((e) => e.type === "cohort-verdict");
      confounded[variant].push({ outcome: result.outcome, reason: result.reason, verdict: verdict?.verdict ?? null });
      log(`cohort: ${variant} ${round + 1}/${rounds}: ${result.outcome}${verdict ? ` (verdict ${verdict.verdict}: ${verdict.detail})` : `: ${result.reason.slice(0, 120)}`}`);
      await new Promise((r) => setTimeout(r, 10_000));
    }
  }
  return confounded;
}

/** The confounded pair alone, on a stack of its own (node -e, while tuning). */
export async function runConfoundedOnly({ quick, signal, log }) {
  const { stack, parseExperiment, runExperiment, registry } = await setUp();
  try {
    await new Promise((r) => setTimeout(r, 15_000));
    return await runConfounded({ stack, rounds: quick ? 1 : 3, signal, log, parseExperiment, runExperiment, registry });
  } finally {
    await stack.stop();
  }
}

export function format(r) {
  const row = (label, s) => `${label.padEnd(46)} ${String(s.failed.mean).padStart(6)} ${`${s.failed.min}–${s.failed.max}`.padStart(8)} ${(s.detectMs.mean / 1000).toFixed(1).padStart(7)}`;
  const base = r.everyone.failed.mean;
  return [
    "503 on every segment; 160 demo viewers; failed starts (all viewers) from the fault to the abort",
    `${"".padEnd(46)} ${"mean".padStart(6)} ${"range".padStart(8)} ${"mean s".padStart(7)}`,
    row("cohort verdict (25% + 25%, Fisher, alpha .05)", r.cohort),
    row("population >= 99.5%, fault on the same 25%", r.population),
    row("population >= 99.5%, fault on every viewer", r.everyone),
    `ratios of failed starts to the fault-on-everyone baseline: cohort ${(r.cohort.failed.mean / base).toFixed(2)}×, population on 25% ${(r.population.failed.mean / base).toFixed(2)}×`,
    "",
    "a harmless fault (800 ms on the cohort's segments) during an unrelated incident (34% of master playlists 503 for everyone):",
    ...CONFOUNDED.map((v) => `  ${v.padEnd(22)} ${r.confounded[v].map((s) => (s.verdict ? `${s.outcome} (${s.verdict})` : s.outcome)).join(", ")}`),
  ].join("\n");
}
