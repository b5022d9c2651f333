// The HTML report (`run --report`, `report --html`): one self-contained file for a game-day room or
// a CI artifact. CSS, SVG and a few lines of script are inline, and a Content-Security-Policy forbids
// loading anything, so the file opens the same offline, from a mail or an artifact store.

import type { Outcome } from "../contract/events.js";
import { chaoscastVersion } from "../version.js";
import { escapeHtml as h } from "./html-escape.js";
import { timelineSvg } from "./html-timeline.js";
import type { FinishedRun, SuiteResult } from "./reporter.js";
import { COHORT_COLOURS } from "./html-cohorts.js";
import { cohortVerdictText, humanMs, runFacts } from "./run-facts.js";
import { scoreRun, suiteScore } from "./score.js";
import type { Trend } from "./trend.js";

const VERDICT: Record<Outcome, { colour: string; words: string }> = {
  passed: { colour: "#15803d", words: "The hypothesis held; everything was reverted." },
  "dry-run": { colour: "#15803d", words: "Dry run: nothing was injected." },
  deviated: { colour: "#b45309", words: "Weakness found: the steady state did not return after the faults." },
  aborted: { colour: "#7e22ce", words: "Blast radius breached: aborted, rolled back, and the steady state returned." },
  unrecovered: { colour: "#b91c1c", words: "Aborted and rolled back, but the steady state did not return." },
  "rollback-failed": { colour: "#b91c1c", words: "A fault is still injected: fix it by hand." },
  refused: { colour: "#b91c1c", words: "Refused by the blast-radius policy; nothing was injected." },
  skipped: { colour: "#1d4ed8", words: "Skipped: nothing was injected." },
};

export interface HtmlOptions {
  /** Runs of the same experiments over time, from `chaoscast report`. */
  trends?: Trend[];
}

export function renderHtml(suite: SuiteResult, options: HtmlOptions = {}): string {
  const scores = suite.runs.map((r) => scoreRun(r.journal));
  const overall = suiteScore(scores.map((s) => s.score));
  const title = suite.runs.length === 1 ? suite.runs[0]!.journal.title : `${suite.runs.length + suite.notRun.length} experiments`;
  const body = [
    `<header><h1>chaoscast report: ${h(title)}</h1>`,
    `<p class="verdict" style="background:${VERDICT[suite.outcome].colour}">${h(suite.outcome.toUpperCase())} <span>exit ${suite.exitCode}</span></p>`,
    `<p>${h(VERDICT[suite.outcome].words)} Resilience score: <strong>${overall === null ? "none" : `${overall}/100`}</strong>. ${h(suite.startedAt)} → ${h(suite.finishedAt)}.</p></header>`,
    summaryTable(suite, scores.map((s) => s.score)),
    ...suite.runs.map((run, i) => runSection(run, i, scores[i]!)),
    ...(options.trends?.length ? [trendSection(options.trends)] : []),
    `<footer>chaoscast ${h(chaoscastVersion())} · the score: share of the method the hypothesis held × 100, halved when the steady state did not return, 0 when a fault stayed injected (docs/reports.md)</footer>`,
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="chaoscast ${h(chaoscastVersion())}">
<title>chaoscast report: ${h(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body.join("\n")}
<script>${SCRIPT}</script>
</body>
</html>
`;
}

function summaryTable(suite: SuiteResult, scores: (number | null)[]): string {
  const rows = suite.runs.map((run, i) => {
    const j = run.journal;
    return `<tr><td><span class="badge" style="background:${VERDICT[j.outcome].colour}">${h(j.outcome)}</span></td><td><a href="#run-${i + 1}">${h(j.title)}</a></td><td><code>${h(j.file)}</code></td><td class="num">${h(humanMs(j.durationMs))}</td><td class="num">${scores[i] ?? "–"}</td><td>${h(j.reason)}</td></tr>`;
  });
  for (const n of suite.notRun) rows.push(`<tr class="notrun"><td><span class="badge" style="background:#6b7280">not run</span></td><td>${h(n.title)}</td><td><code>${h(n.file)}</code></td><td class="num">–</td><td class="num">–</td><td>${h(n.reason)}</td></tr>`);
  return `<section><h2>Experiments</h2><table class="summary"><thead><tr><th>outcome</th><th>experiment</th><th>file</th><th>time</th><th>score</th><th>why</th></tr></thead><tbody>${rows.join("")}</tbody></table></section>`;
}

function runSection(run: FinishedRun, index: number, score: ReturnType<typeof scoreRun>): string {
  const j = run.journal;
  const facts = runFacts(j.events);
  const targets = j.events.flatMap((e) => (e.type === "targets-resolved" ? [e] : []));
  const facts2 = [
    ["outcome", `${j.outcome} (exit ${j.exitCode})`],
    ["reason", j.reason],
    ["resilience score", score.score === null ? `none: ${score.why}` : `${score.score}/100 (${score.why})`],
    ["abort latency", facts.abortT === null ? "no abort" : `${humanMs(facts.abortLatencyMs)} from the first failing check to every fault reverted (detected in ${humanMs(facts.detectionMs)}, rolled back in ${humanMs(facts.rollbackMs)})`],
    ...(cohortVerdictText(j.events) ? [["cohort verdict", cohortVerdictText(j.events)!]] : []),
    ["time to recovery", facts.timeToRecoveryMs === null ? (j.recovered === false ? "the steady state did not return" : "–") : `${humanMs(facts.timeToRecoveryMs)} after the rollback`],
    ["seed", j.seed],
    ["run", `${j.runId}, started ${j.startedAt}, ${humanMs(j.durationMs)}`],
    ["journal", run.journalFile ?? "not kept"],
    ...(j.stillInjected.length ? [["STILL INJECTED", j.stillInjected.join("; ")]] : []),
  ];
  const targetRows = targets.map(
    (t) => `<tr><td>${h(t.target)}</td><td>${h(t.description)}</td><td class="num">${t.candidates}</td><td>${t.chosen.map((c) => h(c.label)).join(", ") || "none"}</td><td>${t.excluded.map((c) => h(c.label)).join(", ") || "–"}</td></tr>`,
  );
  const faultRows = j.faults.map(
    (f) => `<tr class="${f.status === "revert-failed" ? "bad" : ""}"><td>${h(f.fault)}</td><td><code>${h(f.action)}</code></td><td>${h(f.target ?? "–")}</td><td>${h(f.injectedAt ?? "–")}</td><td>${h(f.revertedAt ?? "–")}</td><td>${h(f.status)}</td><td>${h(f.revert ?? "cannot be undone")}</td></tr>`,
  );
  const hypothesis = facts.hypothesis.map((l) => `<li><strong>${h(l.name)}</strong> (${h(l.probe)}): ${h(l.expect)}</li>`);
  const eventRows = j.events.map((e) => `<tr data-type="${h(e.type)}"><td class="num">+${h(humanMs(e.t))}</td><td>${h(e.type)}</td><td>${h(eventText(e))}</td></tr>`);
  return `<section class="run" id="run-${index + 1}">
<h2><span class="badge" style="background:${VERDICT[j.outcome].colour}">${h(j.outcome)}</span> ${h(j.title)}</h2>
<p class="muted"><code>${h(j.file)}</code></p>
<dl>${facts2.map(([k, v]) => `<dt>${h(k!)}</dt><dd>${h(v!)}</dd>`).join("")}</dl>
<h3>Timeline</h3>
<div class="timeline-box">${timelineSvg(j)}</div>
<p class="legend"><span class="sw" style="background:#2563eb"></span>held <span class="sw" style="background:#dc2626"></span>breach <span class="sw" style="background:#f59e0b"></span>breach in a grace period (not counted) / fault window <span class="sw" style="background:#9ca3af"></span>no data <span class="sw" style="background:#fff;border:1.5px solid #dc2626"></span>failing before the faults or while recovering · dashed red line: threshold${j.events.some((e) => e.type === "cohort") ? ` · cohorts: <span class="sw" style="background:${COHORT_COLOURS.experiment}"></span>experiment <span class="sw" style="background:${COHORT_COLOURS.control}"></span>control` : ""}</p>
${hypothesis.length ? `<h3>Steady-state hypothesis</h3><ul>${hypothesis.join("")}</ul>` : ""}
<h3>Targets chosen</h3>
${targetRows.length ? `<table><thead><tr><th>target</th><th>selector</th><th>candidates</th><th>chosen</th><th>excluded</th></tr></thead><tbody>${targetRows.join("")}</tbody></table>` : "<p>No targets.</p>"}
<h3>Faults: injected, reverted, verified</h3>
${faultRows.length ? `<table><thead><tr><th>fault</th><th>action</th><th>target</th><th>injected</th><th>reverted</th><th>status</th><th>revert</th></tr></thead><tbody>${faultRows.join("")}</tbody></table>` : "<p>No fault was injected.</p>"}
<details><summary>Every event (${j.events.length})</summary><p><input class="filter" type="search" placeholder="filter by type or text" aria-label="filter events"></p><table class="events"><tbody>${eventRows.join("")}</tbody></table></details>
</section>`;
}

function trendSection(trends: Trend[]): string {
  const blocks = trends.map((trend) => {
    const rows = trend.points.map(
      (p) => `<tr><td>${h(p.startedAt)}</td><td><span class="badge" style="background:${VERDICT[p.outcome].colour}">${h(p.outcome)}</span></td><td class="num">${h(humanMs(p.abortLatencyMs))}</td><td class="num">${h(humanMs(p.timeToRecoveryMs))}</td><td class="num">${p.score ?? "–"}</td></tr>`,
    );
    return `<h3>${h(trend.title)} <span class="muted">(${h(trend.file)}, ${trend.points.length} runs)</span></h3><p>${h(trend.verdict)}</p><table><thead><tr><th>started</th><th>outcome</th><th>abort latency</th><th>time to recovery</th><th>score</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
  });
  return `<section id="trend"><h2>Over time</h2>${blocks.join("")}</section>`;
}

function eventText(e: FinishedRun["journal"]["events"][number]): string {
  const { type: _type, at: _at, t: _t, ...rest } = e;
  return JSON.stringify(rest);
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1000px;color:#111827;padding:0 12px}
h1{font-size:22px;margin:0 0 8px}h2{font-size:18px;margin:28px 0 6px}h3{font-size:15px;margin:18px 0 6px}
.verdict{display:inline-block;color:#fff;font-weight:700;padding:4px 12px;border-radius:4px;margin:4px 0}.verdict span{font-weight:400;opacity:.85;margin-left:6px}
.badge{display:inline-block;color:#fff;font-size:12px;padding:1px 7px;border-radius:3px}
table{border-collapse:collapse;width:100%;margin:4px 0 8px}th,td{border-bottom:1px solid #e5e7eb;padding:4px 6px;text-align:left;vertical-align:top}th{font-weight:600;background:#f9fafb}
td.num{text-align:right;white-space:nowrap}tr.bad td{background:#fee2e2}tr.notrun td{color:#6b7280}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0}dt{font-weight:600}dd{margin:0}
.muted{color:#6b7280}code{font-size:12px}
.timeline-box{overflow-x:auto;border:1px solid #e5e7eb;border-radius:4px;padding:6px;background:#fff}
svg.timeline text{font:11px system-ui,sans-serif;fill:#374151}svg.timeline .muted{fill:#6b7280}svg.timeline .marker-label{font-weight:600}
.legend{font-size:12px;color:#4b5563}.sw{display:inline-block;width:10px;height:10px;border-radius:5px;margin:0 4px 0 10px;vertical-align:middle}
details{margin:10px 0}table.events td{font:12px ui-monospace,monospace;word-break:break-all}
footer{margin-top:32px;color:#6b7280;font-size:12px}`;

// Filters a run's event log as the reader types; nothing else runs.
const SCRIPT = `
document.querySelectorAll("input.filter").forEach(function (input) {
  var rows = input.closest("details").querySelectorAll("table.events tr");
  input.addEventListener("input", function () {
    var needle = input.value.toLowerCase();
    rows.forEach(function (row) { row.hidden = needle !== "" && row.textContent.toLowerCase().indexOf(needle) < 0; });
  });
});`;
