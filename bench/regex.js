// Regex matching in `expect`: JavaScript's backtracking RegExp against re2js on a catastrophic
// pattern, and how long the main event loop stalls while a large match runs on the worker thread.

import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

export const name = "regex";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CATASTROPHIC = "^(a+)+$";
const HEAVY = "a[ab]{80}$";
const MiB = 1 << 20;

export async function run({ quick, signal, log }) {
  const { compileSafeRegex, testSafeRegex } = await import(path.join(ROOT, "dist/util/safe-regex.js"));
  const { judge, parseExpectation } = await import(path.join(ROOT, "dist/contract/expect.js"));
  const checkpoint = () => {
    if (signal.aborted) throw signal.reason;
  };

  // Small enough that backtracking finishes; each extra "a" doubles its time.
  const n = quick ? 20 : 24;
  const small = `${"a".repeat(n)}!`;
  const smaller = `${"a".repeat(n - 1)}!`;
  const backtracking = new RegExp(CATASTROPHIC);
  log(`regex: backtracking RegExp on ${n} a's + "!"`);
  backtracking.test("a".repeat(12)); // compiled and warm before it is timed
  const backtrackMs = median(times(quick ? 1 : 3, () => backtracking.test(small)));
  const backtrackSmallerMs = median(times(quick ? 1 : 3, () => backtracking.test(smaller)));
  checkpoint();

  const safe = compileSafeRegex(CATASTROPHIC, "");
  log("regex: re2js on the same input and on 1 MiB");
  const re2SmallMs = median(times(quick ? 50 : 500, () => safe.compiled.test(small)));
  const big = `${"a".repeat(MiB)}!`;
  const re2BigMs = median(times(quick ? 2 : 5, () => safe.compiled.test(big)));
  checkpoint();

  // A linear but heavy match (every position keeps ~80 NFA threads alive), on this thread and then
  // on the worker, with the event loop watched.
  log("regex: event-loop delay while matching 1 MiB inline and on the worker");
  const ab = abText(MiB);
  const heavy = compileSafeRegex(HEAVY, "");
  const inline = await watchLoop(async () => heavy.compiled.test(ab));
  await testSafeRegex(safe, big, { timeoutMs: 60_000 }); // the worker's start-up is not the figure
  const worker = await watchLoop(() => testSafeRegex(heavy, ab, { timeoutMs: 60_000 }));
  if (worker.result.status !== "done" || worker.result.matched !== inline.result) throw new Error(`the worker answered ${JSON.stringify(worker.result)}, inline ${inline.result}`);
  checkpoint();

  // A match that would take seconds, cut off by its deadline.
  const deadlineMs = 500;
  log(`regex: a match cut off after ${deadlineMs} ms`);
  const cut = await watchLoop(() => judge(parseExpectation("/(a[ab]{100}){5}$/"), { body: ab }, "body", { deadlineMs }));
  if (!/did not finish matching/.test(cut.result.failures[0] ?? "")) throw new Error(`the slow match was not cut off: ${cut.result.failures.join("; ")}`);

  return {
    catastrophic: { pattern: CATASTROPHIC, input: `${n} a's + "!"`, backtrackMs: round2(backtrackMs), doublingPerChar: round2(backtrackMs / backtrackSmallerMs), re2Ms: round3(re2SmallMs), speedup: Math.round(backtrackMs / re2SmallMs) },
    re2OneMiB: { ms: round2(re2BigMs) },
    loopDelayMaxMs: { pattern: HEAVY, inline: round2(inline.delayMaxMs), inlineMatchMs: round2(inline.elapsedMs), worker: round2(worker.delayMaxMs), workerMatchMs: round2(worker.elapsedMs) },
    deadline: { deadlineMs, verdictMs: round2(cut.elapsedMs), loopDelayMaxMs: round2(cut.delayMaxMs) },
  };
}

export function format(r) {
  const c = r.catastrophic;
  return [
    `/${c.pattern}/ on ${c.input}:`,
    `  backtracking RegExp  ${String(c.backtrackMs).padStart(10)} ms   (×${c.doublingPerChar} per extra "a")`,
    `  re2js                ${String(c.re2Ms).padStart(10)} ms   (${c.speedup}× faster)`,
    `/${c.pattern}/ on 1 MiB of a's + "!":`,
    `  re2js                ${String(r.re2OneMiB.ms).padStart(10)} ms   (backtracking: never finishes)`,
    `main-thread event-loop delay (max) while /${r.loopDelayMaxMs.pattern}/ matches 1 MiB of a/b:`,
    `  matched inline       ${String(r.loopDelayMaxMs.inline).padStart(10)} ms   (match took ${r.loopDelayMaxMs.inlineMatchMs} ms)`,
    `  matched on worker    ${String(r.loopDelayMaxMs.worker).padStart(10)} ms   (match took ${r.loopDelayMaxMs.workerMatchMs} ms; ${ratio(r.loopDelayMaxMs.inline, r.loopDelayMaxMs.worker)} less stall)`,
    `a seconds-long match with a ${r.deadline.deadlineMs} ms deadline:`,
    `  verdict after        ${String(r.deadline.verdictMs).padStart(10)} ms   (event-loop delay max ${r.deadline.loopDelayMaxMs} ms)`,
  ].join("\n");
}

/** Run `work` while sampling the event loop's delay; the histogram's resolution is 1 ms. */
async function watchLoop(work) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  await sleep(20);
  const started = performance.now();
  const result = await work();
  const elapsedMs = performance.now() - started;
  await sleep(20); // let the delayed sample land in the histogram
  histogram.disable();
  return { result, elapsedMs, delayMaxMs: histogram.max / 1e6 };
}

function times(runs, fn) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    fn();
    samples.push(performance.now() - started);
  }
  return samples;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** a and b in a fixed pseudo-random order, so no literal prefilter can skip any of it. */
function abText(length) {
  let seed = 7;
  const chars = [];
  for (let i = 0; i < length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    chars.push(seed & 0x100 ? "a" : "b");
  }
  return chars.join("");
}

function ratio(a, b) {
  return b > 0 ? `${round2(a / b)}×` : "∞×";
}

function round2(value) {
  return Math.round(value * 100) / 100;
}

function round3(value) {
  return Math.round(value * 1000) / 1000;
}
