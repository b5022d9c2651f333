// Start-up benchmark: how long `chaoscast --version`, `--help` and `validate` (100 files) take,
// each set against bare `node -e 0` timed in the same run so figures survive a change of machine.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { fileURLToPath } from "node:url";

export const name = "startup";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const VERSION_TARGET_MS = 150;
const EXPERIMENT_FILES = 100;
const WARMUP_RUNS = 3;
// A hung child would otherwise stall the whole benchmark with no output.
const RUN_TIMEOUT_MS = 60_000;

/**
 * @param {{ quick: boolean, signal: AbortSignal, log: (line: string) => void }} options
 */
export async function run({ quick, signal, log }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "chaoscast-bench-"));
  try {
    writeExperiments(dir, EXPERIMENT_FILES);
    const cli = path.join("bin", "chaoscast.js");
    const small = quick ? 5 : 30;
    const commands = [
      { label: "node -e 0", args: ["-e", "0"], runs: small, baseline: true },
      { label: "chaoscast --version", args: [cli, "--version"], runs: small },
      { label: "chaoscast --help", args: [cli, "--help"], runs: small },
      { label: `chaoscast validate <${EXPERIMENT_FILES} files>`, args: [cli, "validate", dir], runs: quick ? 3 : 10 },
    ];

    // Exit code 0 alone would not prove every generated file was read (say, one extension skipped).
    checkValidateSeesAllFiles(dir);

    log(`startup: ${WARMUP_RUNS} warm-up round(s)`);
    for (let round = 0; round < WARMUP_RUNS; round++) {
      for (const command of commands) {
        await checkpoint(signal);
        timeOnce(command);
      }
    }

    const samples = new Map(commands.map((command) => [command, []]));
    const rounds = Math.max(...commands.map((c) => c.runs));
    log(`startup: ${rounds} timed round(s)`);
    for (let round = 0; round < rounds; round++) {
      // Rotate the order each round so no command always runs first (or right after the slowest one).
      for (let i = 0; i < commands.length; i++) {
        const command = commands[(round + i) % commands.length];
        if (!runsInRound(command.runs, rounds, round)) continue;
        await checkpoint(signal);
        samples.get(command).push(timeOnce(command));
      }
    }

    const baselineMedian = median(samples.get(commands[0]));
    const rows = commands.map((command) => {
      const times = samples.get(command);
      const med = median(times);
      return {
        command: command.label,
        runs: times.length,
        medianMs: round2(med),
        p90Ms: round2(percentile(times, 90)),
        minMs: round2(Math.min(...times)),
        ratioToNode: round2(med / baselineMedian),
      };
    });
    const versionMedian = rows[1].medianMs;
    return {
      rows,
      target: { command: rows[1].command, metric: "median", limitMs: VERSION_TARGET_MS, actualMs: versionMedian, met: versionMedian < VERSION_TARGET_MS },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function format(result) {
  const header = ["command", "runs", "median ms", "p90 ms", "min ms", "× node"];
  const body = result.rows.map((r) => [r.command, String(r.runs), r.medianMs.toFixed(1), r.p90Ms.toFixed(1), r.minMs.toFixed(1), r.ratioToNode.toFixed(2)]);
  const widths = header.map((h, col) => Math.max(h.length, ...body.map((row) => row[col].length)));
  // Left-align the command names, right-align the numbers so decimals line up.
  const line = (cells) => cells.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]) : cell.padStart(widths[col]))).join("  ");
  const { target } = result;
  return [
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...body.map(line),
    "",
    `target: ${target.command} ${target.metric} < ${target.limitMs} ms: ${target.met ? "met" : "NOT met"} (${target.actualMs.toFixed(1)} ms)`,
  ].join("\n");
}

function writeExperiments(dir, count) {
  for (let i = 1; i <= count; i++) {
    // Distinct titles and ports so the files are not byte-identical (and nothing can short-cut on that).
    const port = 18000 + i;
    const yaml = `version: 1
title: Bench experiment ${i}
duration: 5s
targets:
  api: { process: { port: ${port} } }
steadyState:
  - name: health
    probe: http
    with: { url: "http://127.0.0.1:${port}/health" }
faults:
  - name: freeze
    target: api
    action: process.suspend
`;
    writeFileSync(path.join(dir, `experiment-${String(i).padStart(3, "0")}.yaml`), yaml);
  }
}

function checkValidateSeesAllFiles(dir) {
  const result = spawnChild([path.join("bin", "chaoscast.js"), "validate", dir, "--output", "json"]);
  assertSucceeded("chaoscast validate --output json (preflight)", result);
  let report;
  try {
    report = JSON.parse(result.stdout);
  } catch {
    throw new Error(`could not parse \`validate --output json\` output:\n${tail(result.stdout)}`);
  }
  const valid = Array.isArray(report.files) ? report.files.filter((f) => f.valid).length : -1;
  if (valid !== EXPERIMENT_FILES) {
    throw new Error(`validate reported ${valid} valid file(s), expected ${EXPERIMENT_FILES}:\n${tail(result.stdout)}`);
  }
}

function timeOnce(command) {
  const start = performance.now();
  const result = spawnChild(command.args);
  const elapsed = performance.now() - start;
  assertSucceeded(command.label, result);
  return elapsed;
}

function spawnChild(args) {
  // process.execPath, not "node" from PATH, so the baseline and the CLI run on the very same binary.
  return spawnSync(process.execPath, args, {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: RUN_TIMEOUT_MS,
    env: { ...process.env, NO_COLOR: "1" },
  });
}

function assertSucceeded(label, result) {
  if (result.error) throw new Error(`\`${label}\` failed to run: ${result.error.message}`);
  if (result.signal) throw new Error(`\`${label}\` was killed by ${result.signal}`);
  if (result.status !== 0) {
    throw new Error(`\`${label}\` exited with code ${result.status}\n${tail(result.stderr || result.stdout)}`);
  }
}

// spawnSync blocks the event loop; yielding between runs lets a Ctrl-C handler fire so we still clean up.
async function checkpoint(signal) {
  await yieldToEventLoop();
  signal.throwIfAborted();
}

// Spreads `runs` evenly over `rounds` so a command with fewer runs samples the whole time span, not just its start.
function runsInRound(runs, rounds, round) {
  return Math.floor(((round + 1) * runs) / rounds) > Math.floor((round * runs) / rounds);
}

function median(values) {
  return percentile(values, 50);
}

// Linear interpolation between closest ranks: stable for the small sample counts of --quick.
function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (rank - lower);
}

function round2(value) {
  return Math.round(value * 100) / 100;
}

function tail(text, lines = 20) {
  return String(text ?? "").trimEnd().split("\n").slice(-lines).join("\n");
}
