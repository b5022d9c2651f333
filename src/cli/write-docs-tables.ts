// Rewrites the parameter tables marked in README.md and docs/ from the schemas (npm run docs).
// A test fails while a doc is stale; see src/experiment/docs-tables.ts for the markers.

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { registry } from "../registry.js";
import { refreshTables } from "../experiment/docs-tables.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const docs = ["README.md", ...["docs", "docs/adapters"].flatMap((dir) => readdirSync(path.join(root, dir)).filter((f) => f.endsWith(".md")).map((f) => `${dir}/${f}`))];
for (const doc of docs) {
  const file = path.join(root, doc);
  const before = readFileSync(file, "utf8");
  const after = refreshTables(before, registry);
  if (after !== before) {
    writeFileSync(file, after);
    process.stdout.write(`updated ${doc}\n`);
  }
}
