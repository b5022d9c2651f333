// `chaoscast demo`: start the embedded OTT stack on free 127.0.0.1 ports, wait until it is steady,
// run the flagship game day (experiments/demo/) against it, show a table, and stop everything.
// `chaoscast demo up` keeps the stack running until Ctrl-C. Where Prometheus is installed it is
// started too, scraping the stack, for the experiments that use ${vars.prometheus} (the SLO and
// error-budget one); without it those are skipped, and the demo says so.

import { mkdirSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { displayPath } from "../../util/display-path.js";
import { fileURLToPath } from "node:url";
import { PreflightError, UsageError } from "../../errors.js";
import { parseMetrics } from "../../adapters/metrics/parse.js";
import { makeStyle } from "../render/style.js";
import { preparePrivateDirs, runsDir, type CommonOptions } from "../shared.js";
import { compactStamp, runSuiteCommand } from "./run.js";
import { CONTAINER_ROLES } from "../../demo/containers.js";
import type { DemoPrometheus } from "../../demo/prometheus.js";
import type { Stack } from "../../demo/stack.js";
import { looksLikeSloFile } from "../../experiment/loader.js";
import { forTerminal } from "../../util/terminal-text.js";

const EXPERIMENTS = fileURLToPath(new URL("../../../experiments/demo/", import.meta.url));
const DOCKER_EXPERIMENTS = fileURLToPath(new URL("../../../experiments/docker/", import.meta.url));

export interface DemoOptions extends CommonOptions {
  viewers: string;
  duration: string;
  /** Run the origin, edge, payment and recommendations as Docker containers labelled ott.role=<service>, and experiments/docker/. */
  docker?: boolean;
}

export async function demoCommand(mode: "run" | "up" | "down", options: DemoOptions): Promise<number> {
  const style = makeStyle(process.stdout, options.color);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (mode === "down") return demoDown(out, style);
  const viewers = viewerCount(options.viewers, mode);
  if (options.docker) {
    const { clearDemoLeftovers } = await import("../../demo/containers.js");
    const leftovers = await clearDemoLeftovers();
    if (leftovers.removed.length) out(style.dim(`Removed ${leftovers.removed.length} container(s) an earlier demo left behind: ${forTerminal(leftovers.removed.join(", "))}`));
    const [live] = leftovers.live;
    if (live) {
      throw new PreflightError(
        `another demo stack is running in Docker (chaoscast pid ${live.pid}: ${live.containers.join(", ")}); its containers carry the same ott.role labels, so experiments would target both stacks: stop it first (Ctrl-C where it runs, or kill ${live.pid})`,
      );
    }
  }
  out(style.bold(`Starting the embedded OTT stack on 127.0.0.1${options.docker ? ` (${CONTAINER_ROLES.join(", ")} in Docker containers labelled ott.role=<service>)` : ""}…`));
  const { startStack } = await import("../../demo/stack.js");
  const stack = await startStack({ viewers, ...(options.docker ? { containers: CONTAINER_ROLES } : {}) });
  const experiments = options.docker ? DOCKER_EXPERIMENTS : EXPERIMENTS;
  let prometheus: Promise<PrometheusStart> | undefined;
  try {
    const files = await experimentFiles(experiments);
    const needPrometheus = files.filter(needsPrometheus);
    const s = stack.services;
    out(`  origin           ${s.origin.url}/vod/demo/master.m3u8 (and /live/demo/master.m3u8)`);
    out(`  CDN edge         ${s.edge.url}  ← origin through the fault proxy link edge-origin, failing over to region B's through edge-origin-b`);
    out(`  origin region B  ${s.originB.url}  (the standby: the edge fails over to it when region A fails)`);
    out(`  players' edge    ${stack.vars.cdn}  (fault proxy link player-edge)`);
    out(`  playback API     ${s.playbackApi.url}/session/vod  ← payment through link api-payment`);
    out(`  payment          ${s.payment.url}   recommendations ${s.recommendations.url}`);
    out(`  fault proxy API  http://${stack.vars.proxy_api}  (Toxiproxy-compatible)`);
    out(viewers > 0 ? `  viewers          ${viewers} synthetic players, metrics ${stack.vars.viewers_metrics}` : "  viewers          none (--viewers 0): the stack serves only the players you bring");
    // Prometheus starts (about 6 s: 2.42 first scrapes ~5 s after it is ready) while the viewers do.
    if (mode === "up" || needPrometheus.length > 0) prometheus = startPrometheusFor(stack);
    await waitUntilPlaying(stack.vars.viewers_metrics!, viewers);
    const promStarted = await prometheus;
    let skip: string[] = [];
    if (promStarted?.running) {
      stack.vars.prometheus = promStarted.running.url;
      out(`  Prometheus       ${promStarted.running.url}  scraping every service's /metrics each second`);
    } else if (promStarted) {
      skip = needPrometheus;
      const what = skip.length > 0 ? `so ${skip.map((f) => path.basename(f)).join(", ")} ${skip.length === 1 ? "is" : "are"} skipped` : "so experiments cannot use it";
      const line = `  Prometheus       ${forTerminal(promStarted.why)}, ${what}`;
      out(promStarted.missing ? style.dim(`${line} (apt-get install prometheus adds it)`) : style.yellow(line));
    }
    out(style.green(`Steady: every viewer is playing.`));

    const run = files.filter((f) => !skip.includes(f));
    const varNames = ["proxy_api", "viewers_metrics", "cdn", ...(stack.vars.prometheus && run.some(needsPrometheus) ? ["prometheus"] : []), ...(run.some((f) => usesVar(f, "edge_metrics")) ? ["edge_metrics"] : [])];
    const vars = varNames.map((k) => `${k}=${stack.vars[k]}`);
    if (mode === "up") {
      // Listen before printing the hint: whoever reads it may press Ctrl-C (or send SIGTERM) at
      // once, and a signal that arrives before a listener would kill the process with the stack up.
      const stopped = new Promise<void>((resolve) => {
        for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, () => resolve());
      });
      out("");
      out("Run an experiment against it, e.g.:");
      out(`  npx chaoscast run ${forTerminal(displayPath(experiments))} ${vars.map((v) => `--var ${v}`).join(" ")} --var duration=20s`);
      out(style.dim("Ctrl-C stops the stack (to run it in the background, start node bin/chaoscast.js demo up, not npx: npx does not pass signals on)."));
      await stopped;
      out("Stopping the stack…");
      return 0;
    }

    out("");
    // The game day's journals are kept with every other run's (runs/ in chaoscast's state
    // directory), one directory per game day, rather than left in /tmp.
    await preparePrivateDirs(runsDir());
    const journals = path.join(runsDir(), `demo-${compactStamp()}-${process.pid}`);
    mkdirSync(journals, { mode: 0o700 });
    const { suite } = await runSuiteCommand(run, { ...options, var: [...vars, `duration=${options.duration}`], yes: true, journal: `${journals}/`, output: "text" });
    const rows = suite.runs.map((r) => r.journal).sort((a, b) => a.file.localeCompare(b.file));
    out("");
    out(style.bold("Game day"));
    let asDocumented = 0;
    for (const row of rows) {
      const expected = /Expected outcome: ([a-z-]+)/.exec(readFileSync(path.resolve(row.file), "utf8"))?.[1] ?? "passed";
      const ok = expected === row.outcome;
      if (ok) asDocumented += 1;
      // Outcomes are plain words; the file name came from a directory listing: printed as text, never as controls.
      out(`  ${(ok ? style.green("✔") : style.red("✖"))} ${forTerminal(path.basename(row.file)).padEnd(40)} expected ${expected.padEnd(8)} got ${forTerminal(String(row.outcome)).padEnd(16)} ${style.dim(`${Math.round(row.durationMs / 1000)}s`)}`);
    }
    for (const file of skip) out(style.dim(`  – ${forTerminal(path.basename(file)).padEnd(40)} not run: it needs Prometheus`));
    out(`${asDocumented} of ${rows.length} experiment(s) ended as documented${skip.length ? ` (${skip.length} not run without Prometheus)` : ""}. Journals: ${forTerminal(displayPath(journals))}`);
    return asDocumented === rows.length && rows.length > 0 ? 0 : 1;
  } finally {
    // Prometheus first: it scrapes the stack. A start still under way is waited for, then stopped.
    await prometheus?.then((p) => p.running?.stop(), () => {});
    await stack.stop();
  }
}

/** The experiments of a demo directory: its own .yaml, .yml and .json files, SLO files (and slo/) left out. */
async function experimentFiles(dir: string): Promise<string[]> {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile() || !/\.(ya?ml|json)$/.test(entry.name)) continue;
    const file = path.join(dir, entry.name);
    if (!(await looksLikeSloFile(file))) files.push(file);
  }
  return files.sort();
}

/** Whether an experiment uses ${vars.<name>}: the demo passes only the variables its files use. */
function usesVar(file: string, name: string): boolean {
  return new RegExp(`\\$\\{\\s*vars\\.${name}\\s*\\}`).test(readFileSync(file, "utf8"));
}

/** Whether an experiment uses ${vars.prometheus}: it runs only when the demo has started Prometheus. */
function needsPrometheus(file: string): boolean {
  return usesVar(file, "prometheus");
}

type PrometheusStart = { running: DemoPrometheus } | { running?: undefined; why: string; missing: boolean };

/** Start Prometheus scraping the stack's services when one is installed; never throws for a Prometheus that cannot start. */
async function startPrometheusFor(stack: Stack): Promise<PrometheusStart> {
  const { findPrometheus, startDemoPrometheus, DemoPrometheusError } = await import("../../demo/prometheus.js");
  const found = findPrometheus();
  if (found.binary === undefined) return { why: `not found (${found.why})`, missing: true };
  const s = stack.services;
  const services = { origin: s.origin, edge: s.edge, payment: s.payment, recommendations: s.recommendations, "playback-api": s.playbackApi, viewers: s.viewers };
  try {
    const running = await startDemoPrometheus({ binary: found.binary, targets: Object.entries(services).map(([job, service]) => ({ job, metricsUrl: `${service.url}/metrics` })) });
    return { running };
  } catch (err) {
    if (!(err instanceof DemoPrometheusError)) throw err;
    return { why: `${found.binary} did not start: ${err.message}`, missing: false };
  }
}

/** --viewers: a whole number up to 5000; 0 (no synthetic viewers) only for `demo up`, where players of your own watch. */
export function viewerCount(option: string | undefined, mode: "run" | "up"): number {
  if (option === undefined) return 160;
  const count = Number(option);
  if (!/^\d+$/.test(option.trim()) || !Number.isSafeInteger(count) || count > 5000) {
    throw new UsageError(`--viewers ${forTerminal(option)}: expected a whole number of synthetic viewers from 0 to 5000`);
  }
  if (count === 0 && mode === "run") throw new UsageError("--viewers 0: the game day judges playback by its viewers; 0 works with demo up (bring players of your own)");
  return count;
}

async function waitUntilPlaying(metricsUrl: string, viewers: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      const samples = parseMetrics(await (await fetch(metricsUrl)).text());
      const successes = samples.filter((s) => s.name === "playback_start_success_total").reduce((a, s) => a + s.value, 0);
      if (successes >= viewers) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new PreflightError("the demo stack did not become steady within 60 s (viewers could not start playback)");
}

/**
 * `demo down`: stop the demo stacks running in Docker on this host (SIGTERM to their chaoscast,
 * which removes its containers) and remove the containers of any whose process is gone.
 */
async function demoDown(out: (line: string) => void, style: ReturnType<typeof makeStyle>): Promise<number> {
  const { clearDemoLeftovers } = await import("../../demo/containers.js");
  const first = await clearDemoLeftovers();
  if (first.removed.length) out(`Removed ${first.removed.length} container(s) an earlier demo left behind: ${forTerminal(first.removed.join(", "))}`);
  for (const stack of first.live) {
    out(`Stopping the demo stack of chaoscast pid ${stack.pid} (${forTerminal(stack.containers.join(", "))})…`);
    try {
      process.kill(stack.pid, "SIGTERM");
    } catch {
      // It ended meanwhile: its containers are removed below as leftovers.
    }
  }
  const deadline = performance.now() + 20_000;
  let left = first;
  while (left.live.length > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    left = await clearDemoLeftovers();
    if (left.removed.length) out(`Removed ${left.removed.length} container(s) of a stopped demo: ${forTerminal(left.removed.join(", "))}`);
  }
  if (left.live.length > 0) {
    for (const stack of left.live) out(style.red(`✖ the demo stack of chaoscast pid ${stack.pid} did not stop within 20 s; its containers: ${forTerminal(stack.containers.join(", "))}`));
    return 1;
  }
  if (first.removed.length === 0 && first.live.length === 0) out("No demo stack runs in Docker here; nothing to stop.");
  else out(style.green("No demo container is left."));
  return 0;
}
