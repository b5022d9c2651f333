// Reports for a suite that never started because a file is invalid (exit 4): a CI job's test-report
// and summary steps still find their files, and they say which file is wrong, where, and why.

import { formatProblem, type Problem } from "../errors.js";
import { renderJUnit, type JUnitCase } from "./junit.js";
import { mdText } from "./markdown.js";

function byFile(problems: readonly Problem[]): Map<string, Problem[]> {
  const files = new Map<string, Problem[]>();
  for (const p of problems) files.set(p.file, [...(files.get(p.file) ?? []), p]);
  return files;
}

export function invalidToJUnit(problems: readonly Problem[], at = new Date()): string {
  const cases: JUnitCase[] = [...byFile(problems)].map(([file, list]) => ({
    name: file,
    classname: `chaoscast.${file}`,
    timeSeconds: 0,
    result: { kind: "error", message: `invalid experiment: ${list.length} problem(s); nothing was run`, detail: list.map(formatProblem).join("\n") },
  }));
  return renderJUnit([{ name: "chaoscast run", timestamp: at.toISOString(), cases }]);
}

export function invalidToMarkdown(problems: readonly Problem[]): string {
  const lines = ["## ⛔ chaoscast: invalid experiment file(s) (exit 4)", "", "Nothing was run: every file is checked before the first experiment starts.", ""];
  for (const p of problems) lines.push(`- ${mdText(formatProblem(p))}`);
  return `${lines.join("\n")}\n`;
}
