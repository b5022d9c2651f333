#!/usr/bin/env node
// Makes the images of docs/reports.md from real journals: renders the HTML report of the journals
// given (e.g. a `chaoscast demo` game day's directory) and photographs, in headless Chromium, the
// report's head and the timeline of its first aborted run.
//
//   npm run build && node scripts/report-screenshot.js ~/.local/state/chaoscast/runs/demo-…/

import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { readJournalFile } = await import(path.join(ROOT, "dist/report/journal-file.js"));
const { renderHtml } = await import(path.join(ROOT, "dist/report/html.js"));
const { worstOutcome, OUTCOME_EXIT } = await import(path.join(ROOT, "dist/engine/outcome.js"));
const { launchChromium } = await import(path.join(ROOT, "dist/adapters/player/browser.js"));

const dir = process.argv[2];
if (!dir) {
  process.stderr.write("usage: node scripts/report-screenshot.js JOURNAL_DIR\n");
  process.exit(4);
}
const runs = [];
for (const name of readdirSync(dir).filter((n) => n.endsWith(".json")).sort()) {
  const read = await readJournalFile(path.join(dir, name));
  if (read.journal) runs.push({ journal: read.journal, journalFile: name });
}
runs.sort((a, b) => a.journal.startedAt.localeCompare(b.journal.startedAt));
const outcome = worstOutcome(runs.map((r) => r.journal.outcome));
const suite = { startedAt: runs[0].journal.startedAt, finishedAt: runs.at(-1).journal.finishedAt, runs, notRun: [], outcome, exitCode: OUTCOME_EXIT[outcome] };
const html = path.join(mkdtempSync(path.join(tmpdir(), "chaoscast-shot-")), "report.html");
writeFileSync(html, renderHtml(suite));

const browser = await launchChromium(30_000);
try {
  const page = await browser.newPage({ viewport: { width: 1040, height: 800 }, deviceScaleFactor: 1 });
  await page.goto(`file://${html}`);
  const aborted = runs.findIndex((r) => r.journal.outcome === "aborted");
  const run = `#run-${Math.max(aborted, 0) + 1}`;
  await page.locator(`${run} svg.timeline`).screenshot({ path: path.join(ROOT, "docs/images/report-timeline.png") });
  await page.locator("body > header").screenshot({ path: path.join(ROOT, "docs/images/report-verdict.png") });
  await page.locator("body > section").first().screenshot({ path: path.join(ROOT, "docs/images/report-summary.png") });
  process.stdout.write("wrote docs/images/report-timeline.png, report-verdict.png, report-summary.png\n");
} finally {
  await browser.close();
}
