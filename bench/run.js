// Benchmark entry point (`npm run bench`): runs every benchmark module in bench/ in turn and
// prints its figures as text, or as one JSON document with --json. --quick is for smoke tests.

import { readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const USAGE = `usage: node bench/run.js [--quick] [--json]
  --quick  few iterations: checks the benchmarks work, figures are rough
  --json   print one JSON document on stdout (progress still goes to stderr)`;

// Start-up comes first: it is the benchmark people look at, and later ones should not warm caches for it.
const FIRST = ["startup"];

async function main() {
  let values;
  try {
    ({ values } = parseArgs({ options: { quick: { type: "boolean" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } } }));
  } catch (err) {
    process.stderr.write(`bench: ${err.message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const quick = values.quick ?? false;
  const json = values.json ?? false;

  // Benchmarks call spawnSync in a loop; without a handler Ctrl-C would kill us mid-run and leave temp files behind.
  const controller = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => controller.abort(new Error(`interrupted (${sig})`)));

  const environment = {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: os.availableParallelism?.() ?? os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    quick,
  };
  // Progress goes to stderr so stdout holds only the figures (and stays valid JSON with --json).
  const log = (line) => process.stderr.write(`${line}\n`);
  if (!json) {
    process.stdout.write(`chaoscast benchmarks${quick ? " (--quick: rough figures)" : ""}\n`);
    process.stdout.write(`node ${environment.node} on ${environment.platform}, ${environment.cpus} CPU(s): ${environment.cpuModel}\n`);
  }

  const results = {};
  for (const file of benchmarkFiles()) {
    const mod = await import(pathToFileURL(file).href);
    if (typeof mod.run !== "function") continue; // a helper module, not a benchmark
    const name = mod.name ?? path.basename(file, ".js");
    try {
      results[name] = await mod.run({ quick, signal: controller.signal, log });
    } catch (err) {
      process.stderr.write(`bench: ${name} failed: ${err instanceof Error ? err.message : String(err)}\n`);
      return controller.signal.aborted ? 130 : 1;
    }
    if (!json) process.stdout.write(`\n== ${name} ==\n${typeof mod.format === "function" ? mod.format(results[name]) : JSON.stringify(results[name], null, 2)}\n`);
  }

  if (json) process.stdout.write(`${JSON.stringify({ environment, benchmarks: results }, null, 2)}\n`);
  return 0;
}

function benchmarkFiles() {
  const dir = path.dirname(fileURLToPath(import.meta.url));
  const names = readdirSync(dir)
    .filter((f) => f.endsWith(".js") && f !== "run.js")
    .map((f) => f.slice(0, -3));
  const rank = (n) => (FIRST.includes(n) ? FIRST.indexOf(n) : FIRST.length);
  names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return names.map((n) => path.join(dir, `${n}.js`));
}

process.exitCode = await main();
