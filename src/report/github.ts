// GitHub Actions: workflow-command annotations (`::error file=…,line=…::…`) that show on the pull
// request, and the step summary. Values are escaped as the runner expects, so text from an
// experiment can neither end the command early nor start another one.

import type { Outcome } from "../contract/events.js";
import type { SuiteResult } from "./reporter.js";

export type AnnotationLevel = "error" | "warning" | "notice";

export interface Annotation {
  level: AnnotationLevel;
  file: string;
  line?: number;
  col?: number;
  title: string;
  message: string;
}

const LEVEL: Partial<Record<Outcome, AnnotationLevel>> = {
  "rollback-failed": "error",
  unrecovered: "error",
  aborted: "error",
  deviated: "warning",
  refused: "error",
  skipped: "warning",
};

/** Whether this process runs as a GitHub Actions step. */
export function underGitHubActions(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.GITHUB_ACTIONS === "true";
}

export function annotationsOf(suite: SuiteResult): Annotation[] {
  return suite.runs.flatMap((run) => {
    const j = run.journal;
    const level = LEVEL[j.outcome];
    return level ? [{ level, file: j.file, line: 1, title: `chaoscast: ${j.title} ${j.outcome}`, message: j.reason }] : [];
  });
}

export function formatAnnotation(a: Annotation): string {
  const props = [`file=${property(a.file)}`, ...(a.line !== undefined ? [`line=${a.line}`] : []), ...(a.col !== undefined ? [`col=${a.col}`] : []), `title=${property(a.title)}`];
  return `::${a.level} ${props.join(",")}::${data(a.message)}\n`;
}

function data(text: string): string {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

function property(text: string): string {
  return data(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}
