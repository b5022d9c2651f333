// Loading hostile experiment files: how long refusing each file of the invalid corpus takes (the
// alias bombs, deep nesting and huge numbers among them) against loading the valid examples, and
// whether large files cost time in proportion to their size (each shape at n/10 and at n: a ratio
// near 10 is linear, near 100 is quadratic, as the duplicate-key check and problem locating once were).

import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const name = "loader";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const INVALID = path.join(ROOT, "test", "fixtures", "invalid");
const EXAMPLES = path.join(ROOT, "experiments", "demo");

const HEAD = "version: 1\ntitle: big\nduration: 5s\n";
const FAULT = '  - { name: a, action: command.run, with: { command: ["true"] } }\n';
const many = (n, line) => Array.from({ length: n }, (_, i) => line(i)).join("");

/** Large files of one shape each, at a size n the caller picks. */
const SHAPES = [
  { shape: "unknown top-level keys", n: 15_000, make: (n) => `${HEAD}faults:\n${FAULT}${many(n, (i) => `k${i}: 1\n`)}` },
  { shape: "variables", n: 25_000, make: (n) => `${HEAD}faults:\n${FAULT}vars:\n${many(n, (i) => `  v${i}: 1\n`)}` },
  { shape: "anchors", n: 20_000, make: (n) => `${HEAD}faults:\n${FAULT}vars:\n${many(n, (i) => `  v${i}: &a${i} 1\n`)}` },
  { shape: "invalid faults", n: 6_000, make: (n) => `${HEAD}faults:\n${many(n, () => "  - { name: a, action: nope }\n")}` },
  { shape: "targets", n: 8_000, make: (n) => `${HEAD}faults:\n${FAULT}targets:\n${many(n, (i) => `  t${i}: { process: {} }\n`)}` },
  {
    shape: "unknown targets among many",
    n: 3_000,
    make: (n) => `${HEAD}targets:\n${many(n, (i) => `  target_number_${i}: { process: { port: 1 } }\n`)}faults:\n${many(n, (i) => `  - { name: f${i}, action: process.kill, target: nope${i} }\n`)}`,
  },
];

export async function run({ quick, signal, log }) {
  const { loadExperiment, parseExperiment } = await import(path.join(ROOT, "dist/experiment/loader.js"));
  const { registry } = await import(path.join(ROOT, "dist/registry.js"));
  const options = { registry, vars: { cli: {}, env: {} } };
  const checkpoint = () => {
    if (signal.aborted) throw signal.reason;
  };
  const rounds = quick ? 1 : 5;

  // Valid examples first: the baseline a refusal is compared with.
  const examples = readdirSync(EXAMPLES).filter((f) => f.endsWith(".yaml")).map((f) => path.join(EXAMPLES, f));
  log(`loader: ${examples.length} valid examples × ${rounds}`);
  const validMs = [];
  for (let r = 0; r < rounds; r++) for (const file of examples) validMs.push(await timed(() => loadExperiment(file, options)));
  checkpoint();

  const corpus = readdirSync(INVALID).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
  log(`loader: ${corpus.length} invalid files × ${rounds}`);
  const perFile = [];
  for (const file of corpus) {
    const samples = [];
    for (let r = 0; r < rounds; r++) {
      samples.push(
        await timed(async () => {
          try {
            await loadExperiment(path.join(INVALID, file), options);
          } catch {
            // Refused, as it should be (the tests check how); only the time is wanted here.
          }
        }),
      );
    }
    perFile.push({ file, ms: median(samples) });
    checkpoint();
  }
  perFile.sort((a, b) => b.ms - a.ms);

  const growth = [];
  for (const { shape, n, make } of SHAPES) {
    log(`loader: large file of ${shape}, n/10 and n = ${n}`);
    const parse = (text) => () => {
      try {
        parseExperiment(text, "big.yaml", options);
      } catch {
        // A located refusal is the expected answer for most shapes.
      }
    };
    const smallText = make(n / 10);
    const bigText = make(n);
    const smallMs = median(await repeat(rounds, parse(smallText)));
    const bigMs = median(await repeat(Math.max(1, Math.ceil(rounds / 2)), parse(bigText)));
    growth.push({ shape, n, kib: Math.round(bigText.length / 1024), smallMs: round1(smallMs), bigMs: round1(bigMs), ratio: round1(bigMs / smallMs) });
    checkpoint();
  }

  const validMedian = median(validMs);
  return {
    validExample: { files: examples.length, medianMs: round2(validMedian) },
    invalidCorpus: { files: perFile.length, medianMs: round2(median(perFile.map((p) => p.ms))), maxMs: round2(perFile[0].ms), slowest: perFile.slice(0, 5).map((p) => ({ file: p.file, ms: round2(p.ms), xValid: round1(p.ms / validMedian) })) },
    growth,
  };
}

export function format(r) {
  const lines = [
    `valid example (median of ${r.validExample.files} files)   ${String(r.validExample.medianMs).padStart(8)} ms`,
    `invalid corpus, ${r.invalidCorpus.files} files: median ${r.invalidCorpus.medianMs} ms, max ${r.invalidCorpus.maxMs} ms; slowest:`,
    ...r.invalidCorpus.slowest.map((s) => `  ${s.file.padEnd(44)} ${String(s.ms).padStart(8)} ms   (${s.xValid}× a valid example)`),
    "large files: time at n/10 and at n (a ratio near 10 is linear, near 100 quadratic)",
    ...r.growth.map((g) => `  ${g.shape.padEnd(28)} n=${String(g.n).padEnd(6)} ${String(g.kib).padStart(5)} KiB   ${String(g.smallMs).padStart(7)} ms → ${String(g.bigMs).padStart(7)} ms   ×${g.ratio}`),
  ];
  return lines.join("\n");
}

async function timed(work) {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

async function repeat(times, work) {
  const samples = [];
  for (let i = 0; i < times; i++) samples.push(await timed(work));
  return samples;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const round1 = (x) => Math.round(x * 10) / 10;
const round2 = (x) => Math.round(x * 100) / 100;
