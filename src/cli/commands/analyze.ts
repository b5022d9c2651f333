// `chaoscast analyze`: canary analysis for a release pipeline, with Argo Rollouts' measurement
// semantics (interval, count, success/failure conditions, failure/inconclusive/consecutive-error
// limits). Each measurement queries the canary's SLI (and the baseline's, when given) and judges
// the canary against it: "is the 1% canary burning budget faster than the rest?".

import { EXIT, UsageError } from "../../errors.js";
import { parseDuration } from "../../contract/duration.js";
import { parseExpectation, type Expectation } from "../../contract/expect.js";
import { PrometheusClient, PrometheusError, type QueryResult } from "../../prometheus/client.js";
import { assess, classify, compare, emptyTally, record, type AnalysisPhase, type Comparison, type MeasurementPhase } from "../../slo/analysis.js";
import { round } from "../../slo/evaluate.js";
import { renderJUnit } from "../../report/junit.js";
import { writeFileAtomic } from "../../util/atomic-file.js";
import { sleep } from "../../util/abortable.js";
import { displayPath } from "../../util/display-path.js";
import { forTerminal as t, terminalSafeJson } from "../../util/terminal-text.js";
import { makeStyle } from "../render/style.js";
import { trapInterrupts } from "../interrupts.js";
import { connectionFromFlags, type BudgetOptions } from "./budget.js";

export interface AnalyzeOptions extends BudgetOptions {
  canary: string;
  baseline?: string;
  compare?: string;
  success?: string;
  failure?: string;
  interval?: string;
  count?: string;
  initialDelay?: string;
  failureLimit?: string;
  inconclusiveLimit?: string;
  consecutiveErrorLimit?: string;
}

interface Measurement {
  at: string;
  canary: number | null;
  baseline: number | null;
  value: number | null;
  phase: MeasurementPhase;
  message?: string;
}

function integer(flag: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} ${t(text)}: expected a whole number of at least ${min}`);
  return n;
}

function duration(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`${flag} ${t(text)}: expected a duration such as 30s or 5m`);
  return ms;
}

function condition(flag: string, text: string | undefined): Expectation | undefined {
  if (text === undefined) return undefined;
  try {
    return parseExpectation(text);
  } catch (err) {
    throw new UsageError(`${flag} ${t(text)}: ${(err as Error).message}`);
  }
}

/** One number from a query: a scalar, or a vector of exactly one series. No data is undefined. */
function single(result: QueryResult, which: string): number | undefined {
  if (result.kind === "scalar") return Number.isNaN(result.value) ? undefined : result.value;
  if (result.kind === "vector") {
    if (result.series.length === 0) return undefined;
    if (result.series.length > 1) throw new PrometheusError("bad-query", `the ${which} query returned ${result.series.length} series; aggregate it to one (e.g. sum(…))`);
    return Number.isNaN(result.series[0]!.value) ? undefined : result.series[0]!.value;
  }
  throw new PrometheusError("bad-query", `the ${which} query should give one number; it gives a ${result.kind}`);
}

export async function analyzeCommand(options: AnalyzeOptions): Promise<number> {
  const connection = connectionFromFlags(options);
  const how = (options.compare ?? "ratio") as Comparison;
  if (how !== "ratio" && how !== "difference") throw new UsageError(`--compare ${t(options.compare ?? "")}: expected ratio or difference`);
  const conditions = { success: condition("--success", options.success), failure: condition("--failure", options.failure) };
  const limits = {
    count: integer("--count", options.count, 1, 1),
    failureLimit: integer("--failure-limit", options.failureLimit, 0, -1),
    inconclusiveLimit: integer("--inconclusive-limit", options.inconclusiveLimit, 0, 0),
    consecutiveErrorLimit: integer("--consecutive-error-limit", options.consecutiveErrorLimit, 4, 0),
  };
  const intervalMs = duration("--interval", options.interval, 30_000);
  const initialDelayMs = duration("--initial-delay", options.initialDelay, 0);
  if (limits.count > 1 && options.interval === undefined) throw new UsageError("--count above 1 needs --interval (how long between measurements)");
  const style = makeStyle(process.stdout, options.color);
  const text = options.output !== "json";
  const client = new PrometheusClient(connection);
  const interrupts = trapInterrupts(() => {});
  const measurements: Measurement[] = [];
  let tally = emptyTally();
  let phase: AnalysisPhase = "Running";
  const started = performance.now();
  try {
    if (initialDelayMs > 0) await sleep(initialDelayMs, interrupts.signal);
    while (phase === "Running" && !interrupts.signal.aborted) {
      const roundStart = performance.now();
      const at = new Date().toISOString();
      let measurement: Measurement;
      try {
        const [canary, baseline] = await Promise.all([
          client.query(options.canary, { signal: interrupts.signal }).then((r) => single(r, "canary")),
          options.baseline ? client.query(options.baseline, { signal: interrupts.signal }).then((r) => single(r, "baseline")) : Promise.resolve(undefined),
        ]);
        const value = compare(canary, baseline, how, options.baseline !== undefined);
        const phaseOf = await classify(value, conditions);
        measurement = {
          at,
          canary: canary ?? null,
          baseline: baseline ?? null,
          value: value ?? null,
          phase: phaseOf,
          ...(value === undefined ? { message: `no data from the ${canary === undefined ? "canary" : "baseline"} query` } : {}),
        };
      } catch (err) {
        if (!(err instanceof PrometheusError)) throw err;
        measurement = { at, canary: null, baseline: null, value: null, phase: "Error", message: err.message };
      }
      measurements.push(measurement);
      tally = record(tally, measurement.phase);
      phase = assess(tally, limits);
      if (text) {
        const paint = measurement.phase === "Successful" ? style.green : measurement.phase === "Failed" ? style.red : style.yellow;
        const values = measurement.value === null ? "" : ` canary ${round(measurement.canary!)}${options.baseline ? `, baseline ${round(measurement.baseline!)}, ${how} ${round(measurement.value)}` : ""}`;
        process.stdout.write(`${style.dim(at)} ${paint(measurement.phase.padEnd(12))}${values}${measurement.message ? ` ${style.dim(t(measurement.message))}` : ""}\n`);
      }
      if (phase !== "Running") break;
      // After an error Argo retries sooner than the interval (10 s); never later than it.
      const waitMs = (measurement.phase === "Error" ? Math.min(10_000, intervalMs) : intervalMs) - (performance.now() - roundStart);
      await sleep(Math.max(0, waitMs), interrupts.signal);
    }
  } finally {
    interrupts.dispose();
  }
  if (phase === "Running") phase = "Inconclusive"; // interrupted before a verdict
  const exit = phase === "Successful" ? EXIT.passed : phase === "Failed" ? EXIT.deviated : EXIT.inconclusive;
  const why = `${tally.measurements} measurement(s): ${tally.successful} successful, ${tally.failed} failed (limit ${limits.failureLimit}), ${tally.inconclusive} inconclusive (limit ${limits.inconclusiveLimit}), ${tally.errors} error(s)${interrupts.signal.aborted ? "; interrupted" : ""}`;
  if (options.junit) {
    const detail = measurements.map((m) => `${m.at} ${m.phase} ${m.value ?? ""} ${m.message ?? ""}`.trim()).join("\n");
    const result = exit === EXIT.passed ? { kind: "passed" as const } : { kind: exit === EXIT.deviated ? ("failure" as const) : ("error" as const), message: `${phase}: ${why}`, detail };
    try {
      await writeFileAtomic(
        options.junit,
        renderJUnit([{ name: "chaoscast analyze", timestamp: new Date().toISOString().slice(0, 19), cases: [{ name: "canary analysis", classname: "chaoscast.analyze", timeSeconds: (performance.now() - started) / 1000, result, systemOut: detail }] }]),
      );
    } catch (err) {
      throw new UsageError(`--junit ${t(displayPath(options.junit))}: cannot write it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  if (text) {
    const paint = phase === "Successful" ? style.green : phase === "Failed" ? style.red : style.yellow;
    process.stdout.write(`${paint(phase.toUpperCase())} ${style.dim(`(exit ${exit})`)} ${why}\n`);
  } else {
    process.stdout.write(`${terminalSafeJson({ phase, exitCode: exit, limits, compare: options.baseline ? how : null, tally, measurements }, 2)}\n`);
  }
  return exit;
}
