// JUnit XML, the report every CI system reads (Jenkins, GitLab, GitHub Actions through reporters).
// Written to the schema those consumers follow: <testsuites><testsuite><testcase> with a
// <failure>, <error> or <skipped> child, and <system-out> for what a person wants to read.
// test/fixtures/junit/junit.xsd holds that schema; the tests validate every report against it.

import { hostname } from "node:os";

export interface JUnitCase {
  name: string;
  classname: string;
  timeSeconds: number;
  /** failure: the check said no. error: it could not be checked. skipped: it was not run. */
  result: { kind: "passed" } | { kind: "failure" | "error" | "skipped"; message: string; detail?: string };
  systemOut?: string;
}

export interface JUnitSuite {
  name: string;
  /** ISO 8601 without a zone (2026-12-06T21:14:05), as the JUnit schema wants; a longer one is cut. */
  timestamp: string;
  cases: JUnitCase[];
}

// XML 1.0 allows tab, newline, carriage return and most of the rest; other control characters
// (and lone surrogates) make the file unreadable for every consumer, so they are replaced.
const INVALID_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function xmlText(text: string): string {
  return text.replace(INVALID_XML, "\uFFFD").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function xmlAttribute(text: string): string {
  return xmlText(text).replace(/"/g, "&quot;").replace(/\n/g, "&#10;").replace(/\r/g, "&#13;").replace(/\t/g, "&#9;");
}

export function renderJUnit(suites: JUnitSuite[]): string {
  const count = (kind: string, cases: JUnitCase[]) => cases.filter((c) => c.result.kind === kind).length;
  const all = suites.flatMap((s) => s.cases);
  const seconds = (cases: JUnitCase[]) => cases.reduce((sum, c) => sum + c.timeSeconds, 0).toFixed(3);
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  lines.push(`<testsuites name="chaoscast" tests="${all.length}" failures="${count("failure", all)}" errors="${count("error", all)}" skipped="${count("skipped", all)}" time="${seconds(all)}">`);
  suites.forEach((suite, id) => {
    const c = suite.cases;
    lines.push(
      `  <testsuite name="${xmlAttribute(suite.name)}" id="${id}" package="chaoscast" hostname="${xmlAttribute(hostname())}" tests="${c.length}" failures="${count("failure", c)}" errors="${count("error", c)}" skipped="${count("skipped", c)}" time="${seconds(c)}" timestamp="${xmlAttribute(suite.timestamp.slice(0, 19))}">`,
    );
    for (const testcase of c) {
      const open = `    <testcase name="${xmlAttribute(testcase.name)}" classname="${xmlAttribute(testcase.classname)}" time="${testcase.timeSeconds.toFixed(3)}"`;
      const body: string[] = [];
      const r = testcase.result;
      if (r.kind !== "passed") body.push(`      <${r.kind} message="${xmlAttribute(r.message)}"${r.detail ? `>${xmlText(r.detail)}</${r.kind}>` : "/>"}`);
      if (testcase.systemOut) body.push(`      <system-out>${xmlText(testcase.systemOut)}</system-out>`);
      lines.push(body.length ? `${open}>\n${body.join("\n")}\n    </testcase>` : `${open}/>`);
    }
    lines.push("  </testsuite>");
  });
  lines.push("</testsuites>");
  return `${lines.join("\n")}\n`;
}
