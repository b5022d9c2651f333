#!/usr/bin/env node
// The layers of src/, lowest first, and what each may import. This table is the one place they
// are written: it generates the import rules in biome.json (`node scripts/layers.js`), and
// `npm run lint` fails when biome.json no longer matches it (`--check`) or when a file imports
// a layer it may not. docs/architecture.md explains the layers.
//
// Biome matches import specifiers, not resolved files, so each rule is written per folder depth:
// from src/engine/x.ts the engine's neighbour src/policy is "../policy/…", from
// src/adapters/docker/x.ts it is "../../policy/…". That keeps src/adapters/proxy (an adapter)
// apart from src/proxy (the fault proxy server).

import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Every top-level module of src/ (a folder, or a file without its .ts). */
export const MODULES = ["errors", "version", "util", "contract", "prometheus", "proxy", "experiment", "slo", "report", "policy", "engine", "adapters", "registry", "demo", "watchdog", "cli"];

/** What each may import (besides itself and node_modules), and why, lowest first. */
const LAYERS = [
  { module: "errors", depths: [0], may: [], why: "the ground floor imports nothing of chaoscast's" },
  { module: "version", depths: [0], may: [], why: "the ground floor imports nothing of chaoscast's" },
  { module: "util", depths: [1], may: ["errors"], why: "util is generic code under everything" },
  { module: "contract", depths: [1], may: ["errors", "util"], why: "the adapter contract and the shared units sit under the format, the engine and the adapters" },
  { module: "prometheus", depths: [1], may: ["errors", "util", "contract"], why: "the Prometheus query client knows the API, not experiments or runs" },
  { module: "proxy", depths: [1, 2], may: ["errors", "version", "util"], why: "the fault proxy is a server of its own and knows nothing of experiments" },
  { module: "experiment", depths: [1], may: ["errors", "util", "contract"], why: "the experiment format meets the engine only through src/contract" },
  { module: "slo", depths: [1], may: ["errors", "util", "contract", "experiment", "prometheus"], why: "SLOs are read as experiments are, and measured through the Prometheus client; they know nothing of runs" },
  { module: "report", depths: [1], may: ["errors", "version", "util", "contract"], why: "reports read events and journals through src/contract" },
  { module: "policy", depths: [1], may: ["errors", "util", "contract", "experiment"], why: "the policy reads its file as experiments are read and knows nothing of runs" },
  { module: "engine", depths: [1], may: ["errors", "util", "contract", "prometheus", "policy", "slo", "report"], why: "the engine meets the format and the adapters only through src/contract, and hands its events to the reporters" },
  { module: "adapters", depths: [2, 3], may: ["errors", "util", "contract", "prometheus", "proxy"], why: "an adapter implements src/contract and never reaches into the engine, the format or the commands" },
  { module: "registry", depths: [0], may: ["contract", "adapters"], why: "the registry only lists the adapters" },
  { module: "demo", depths: [1], may: ["errors", "util", "contract", "proxy", "adapters"], why: "the demo stack is built from the proxy and the adapters, not from the commands" },
  { module: "watchdog", depths: [1], may: ["errors", "util", "contract", "report", "policy", "engine", "adapters", "registry"], why: "the watchdog reverts with the engine's rollback and the registry's adapters, not with the commands" },
  { module: "cli", depths: [1, 2], may: MODULES.filter((m) => m !== "cli"), why: "the commands are the top floor" },
];

const FILE_MODULES = new Set(["errors", "version", "registry"]);

function includesFor(module, depth) {
  if (depth === 0) return [`src/${module}.ts`];
  return [`src/${module}/${"*/".repeat(depth - 1)}*.ts`];
}

function specifiersOf(module, depth) {
  const up = depth === 0 ? "./" : "../".repeat(depth);
  return FILE_MODULES.has(module) ? [`${up}${module}.js`] : [`${up}${module}/**`];
}

export function biomeOverrides() {
  const overrides = [];
  for (const layer of LAYERS) {
    const forbidden = MODULES.filter((m) => m !== layer.module && !layer.may.includes(m));
    if (forbidden.length === 0) continue;
    for (const depth of layer.depths) {
      overrides.push({
        includes: includesFor(layer.module, depth),
        linter: {
          rules: {
            style: {
              noRestrictedImports: {
                level: "error",
                options: { patterns: [{ group: forbidden.flatMap((m) => specifiersOf(m, depth)), message: `Layering: ${layer.why} (scripts/layers.js, docs/architecture.md).` }] },
              },
            },
          },
        },
      });
    }
  }
  return overrides;
}

const CONFIG = path.join(ROOT, "biome.json");

function main(argv) {
  const config = JSON.parse(readFileSync(CONFIG, "utf8"));
  const wanted = { ...config, overrides: biomeOverrides() };
  const text = `${JSON.stringify(wanted, null, 2)}\n`;
  if (argv.includes("--check")) {
    if (readFileSync(CONFIG, "utf8") !== text) {
      process.stderr.write("biome.json's layer rules differ from scripts/layers.js: run `node scripts/layers.js` and commit biome.json\n");
      return 1;
    }
    return 0;
  }
  writeFileSync(CONFIG, text);
  process.stdout.write(`wrote ${wanted.overrides.length} layer rules to biome.json\n`);
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
