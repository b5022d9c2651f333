// `chaoscast budget <slo files…> --prometheus URL`: the error-budget gate for a release pipeline.
// Per SLO: objective, SLI over the period, budget left, and the Workbook's multiwindow burn rates,
// each with its verdict. Exit 0 go, 1 halt, 6 inconclusive (no answer), 4 invalid files.

import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { EXIT, UsageError } from "../../errors.js";
import { parseDuration } from "../../contract/duration.js";
import { parsePercent } from "../../contract/percent.js";
import { PrometheusConnectionSchema, type PrometheusConnection } from "../../contract/prometheus-connection.js";
import { PrometheusClient } from "../../prometheus/client.js";
import { evaluateSlo, formatShare, round, type SloReport } from "../../slo/evaluate.js";
import { loadSloFile, pickSlo } from "../../slo/file.js";
import { promDuration, type Slo } from "../../slo/model.js";
import { renderJUnit, type JUnitCase } from "../../report/junit.js";
import { writeFileAtomic } from "../../util/atomic-file.js";
import { readRegularText } from "../../util/safe-read.js";
import { displayPath } from "../../util/display-path.js";
import { forTerminal as t, terminalSafeJson } from "../../util/terminal-text.js";
import { makeStyle } from "../render/style.js";
import { runsDir, type CommonOptions } from "../shared.js";

export interface BudgetOptions extends CommonOptions {
  prometheus?: string;
  minRemaining?: string;
  junit?: string;
  excludeChaos?: string | boolean;
  timeout?: string;
  header?: string[];
  caFile?: string;
  insecureSkipVerify?: boolean;
}

/** The connection from the flags and the environment; secrets only ever from the environment. */
export function connectionFromFlags(options: BudgetOptions, env: NodeJS.ProcessEnv = process.env): PrometheusConnection {
  const url = options.prometheus ?? env.CHAOSCAST_PROMETHEUS_URL;
  if (!url) throw new UsageError("--prometheus <url> is required (or CHAOSCAST_PROMETHEUS_URL): the base URL of a Prometheus-compatible API, e.g. http://127.0.0.1:9090");
  const headers: Record<string, string> = {};
  for (const header of options.header ?? []) {
    const colon = header.indexOf(":");
    if (colon <= 0) throw new UsageError(`--header ${header}: expected NAME: VALUE, e.g. "X-Scope-OrgID: tenant-a"`);
    headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
  }
  const token = env.CHAOSCAST_PROMETHEUS_TOKEN;
  const user = env.CHAOSCAST_PROMETHEUS_USER;
  if (token && user) throw new UsageError("both CHAOSCAST_PROMETHEUS_TOKEN and CHAOSCAST_PROMETHEUS_USER are set: use a bearer token or basic auth, not both");
  const auth = token ? { bearer: token } : user ? { basic: { username: user, password: env.CHAOSCAST_PROMETHEUS_PASSWORD ?? "" } } : undefined;
  const raw = {
    url,
    headers,
    ...(auth ? { auth } : {}),
    ...(options.caFile || options.insecureSkipVerify ? { tls: { ...(options.caFile ? { caFile: options.caFile } : {}), insecureSkipVerify: options.insecureSkipVerify ?? false } } : {}),
    ...(options.timeout ? { timeout: options.timeout } : {}),
  };
  if (options.caFile && !existsSync(options.caFile)) throw new UsageError(`--ca-file ${t(options.caFile)}: no such file`);
  const parsed = PrometheusConnectionSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const flag = issue.path[0] === "url" ? `--prometheus ${url}` : issue.path[0] === "timeout" ? `--timeout ${options.timeout}` : issue.path[0] === "headers" ? "--header" : "the Prometheus connection";
    throw new UsageError(`${t(flag)}: ${issue.message}`);
  }
  return parsed.data;
}

function minRemainingOf(option: string | undefined): number {
  if (option === undefined) return 0;
  const percent = parsePercent(option);
  if (percent === undefined) throw new UsageError(`--min-remaining ${t(option)}: expected a percentage such as 25%`);
  return percent / 100;
}

/** SLO files named on the command line: FILE, or FILE#name for one SLO of several. */
async function loadSlos(args: string[]): Promise<Slo[]> {
  const slos: Slo[] = [];
  const expanded: string[] = [];
  for (const arg of args) {
    // A directory stands for the SLO files in it (not its subdirectories), in name order.
    const entries = await readdir(arg, { withFileTypes: true }).catch(() => undefined);
    if (entries) expanded.push(...entries.filter((e) => e.isFile() && /\.(ya?ml|json)$/.test(e.name)).map((e) => path.join(arg, e.name)).sort());
    else expanded.push(arg);
  }
  if (expanded.length === 0) throw new UsageError(`no SLO files (*.yaml, *.yml, *.json) in ${t(args.join(", "))}`);
  for (const arg of expanded) {
    const hash = /^(.*)#([^#/]+)$/.exec(arg);
    const file = hash ? hash[1]! : arg;
    const all = await loadSloFile(file);
    slos.push(...(hash ? [pickSlo(all, hash[2], displayPath(file))] : all));
  }
  return slos;
}

/**
 * The windows of chaos runs whose experiments chose `chaosWindow: excluded`, per SLO, from the
 * journals in `dir`. A journal that cannot be read is skipped with a warning: it is not ours to
 * trust, and leaving a window in only makes the gate stricter.
 */
export async function excludedWindows(dir: string, warn: (message: string) => void): Promise<Map<string, { from: Date; to: Date }[]>> {
  const windows = new Map<string, { from: Date; to: Date }[]>();
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith(".json"));
  } catch (err) {
    throw new UsageError(`--exclude-chaos ${t(displayPath(dir))}: cannot read the journals there (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  for (const name of names) {
    try {
      const journal = JSON.parse(await readRegularText(path.join(dir, name), { maxBytes: 64 * 1024 * 1024, kind: "journals", noFollow: true })) as {
        budget?: { slo?: unknown; chaosWindow?: unknown; window?: { from?: unknown; to?: unknown } | null } | null;
      };
      const b = journal.budget;
      if (b?.chaosWindow !== "excluded" || typeof b.slo !== "string" || !b.window) continue;
      const from = new Date(String(b.window.from));
      const to = new Date(String(b.window.to));
      if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || to <= from) continue;
      windows.set(b.slo, [...(windows.get(b.slo) ?? []), { from, to }]);
    } catch (err) {
      warn(`skipped journal ${t(name)}: ${t((err as Error).message)}`);
    }
  }
  return windows;
}

export async function budgetCommand(files: string[], options: BudgetOptions): Promise<number> {
  const connection = connectionFromFlags(options);
  const minRemaining = minRemainingOf(options.minRemaining);
  if (options.timeout !== undefined && parseDuration(options.timeout) === undefined) throw new UsageError(`--timeout ${t(options.timeout)}: expected a duration such as 10s`);
  const slos = await loadSlos(files);
  const excluded = options.excludeChaos ? await excludedWindows(typeof options.excludeChaos === "string" ? options.excludeChaos : runsDir(), (m) => process.stderr.write(`chaoscast: ${m}\n`)) : new Map();
  const client = new PrometheusClient(connection);
  const signal = new AbortController().signal;
  const started = performance.now();
  const reports: { report: SloReport; seconds: number }[] = [];
  for (const slo of slos) {
    const at = performance.now();
    const report = await evaluateSlo(slo, client, { signal, minRemaining, exclude: excluded.get(slo.name) ?? [] });
    reports.push({ report, seconds: (performance.now() - at) / 1000 });
  }
  const verdicts = reports.map((r) => r.report.verdict);
  const exit = verdicts.includes("halt") ? EXIT.deviated : verdicts.includes("inconclusive") ? EXIT.inconclusive : EXIT.passed;
  if (options.junit) await writeJUnit(options.junit, reports, started);
  if (options.output === "json") {
    const verdict = exit === EXIT.passed ? "go" : exit === EXIT.deviated ? "halt" : "inconclusive";
    process.stdout.write(`${terminalSafeJson({ verdict, exitCode: exit, prometheus: client.shownUrl, minRemaining, slos: reports.map((r) => r.report) }, 2)}\n`);
  } else printReports(reports.map((r) => r.report), minRemaining, options, exit);
  return exit;
}

async function writeJUnit(file: string, reports: { report: SloReport; seconds: number }[], started: number): Promise<void> {
  const cases: JUnitCase[] = reports.map(({ report, seconds }) => ({
    name: `SLO ${report.name}`,
    classname: `chaoscast.budget${report.service ? `.${report.service}` : ""}`,
    timeSeconds: seconds,
    result:
      report.verdict === "go"
        ? { kind: "passed" }
        : { kind: report.verdict === "halt" ? "failure" : "error", message: report.reasons.join("; "), detail: describeText(report).join("\n") },
    systemOut: describeText(report).join("\n"),
  }));
  const timestamp = new Date(Date.now() - (performance.now() - started)).toISOString().slice(0, 19);
  try {
    await writeFileAtomic(file, renderJUnit([{ name: "chaoscast budget", timestamp, cases }]));
  } catch (err) {
    throw new UsageError(`--junit ${t(displayPath(file))}: cannot write it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

function describeText(r: SloReport): string[] {
  const lines = [`objective ${formatShare(r.objective)} over ${promDuration(r.periodMs)} (${r.source})`];
  lines.push(r.sli === undefined ? "SLI: no data" : `SLI ${formatShare(r.sli)} over ${Math.round(r.total ?? 0)} events; error ratio ${formatShare(r.errorRatio!)}`);
  if (r.remaining !== undefined) lines.push(`error budget left: ${formatShare(r.remaining)}`);
  for (const b of r.burns) {
    const burn = (v: number | undefined) => (v === undefined ? "no data" : `${round(v)}×`);
    lines.push(`${b.severity} ${b.rate}×: ${burn(b.long)} over ${promDuration(b.longMs)}, ${burn(b.short)} over ${promDuration(b.shortMs)} → ${b.firing === undefined ? "no data" : b.firing ? "FIRING" : "ok"}`);
  }
  if (r.excluded.length) lines.push(`left out: ${r.excluded.length} chaos window(s) marked chaosWindow: excluded`);
  lines.push(`verdict: ${r.verdict}${r.reasons.length ? ` (${r.reasons.join("; ")})` : ""}`);
  return lines;
}

function printReports(reports: SloReport[], minRemaining: number, options: BudgetOptions, exit: number): void {
  const style = makeStyle(process.stdout, options.color);
  const out: string[] = [];
  for (const r of reports) {
    const head = r.verdict === "go" ? style.green("GO") : r.verdict === "halt" ? style.red("HALT") : style.yellow("INCONCLUSIVE");
    out.push(`${style.bold(`SLO ${t(r.name)}`)}${r.service ? style.dim(` (service ${t(r.service)})`) : ""}  ${head}  ${style.dim(t(r.source))}`);
    out.push(`  objective      ${formatShare(r.objective)} over a rolling ${promDuration(r.periodMs)}`);
    out.push(`  SLI            ${r.sli === undefined ? style.yellow("no data") : `${formatShare(r.sli)}  ${style.dim(`(${Math.round(r.total ?? 0)} events, error ratio ${formatShare(r.errorRatio!)})`)}`}`);
    if (r.remaining !== undefined) {
      const ok = r.remaining > 0 && r.remaining >= minRemaining;
      out.push(`  budget left    ${(ok ? style.green : style.red)(formatShare(r.remaining))}${minRemaining > 0 ? style.dim(`  (minimum ${formatShare(minRemaining)})`) : ""}`);
    }
    out.push(`  burn rates     ${style.dim("severity  threshold  long window        short window       verdict")}`);
    for (const b of r.burns) {
      const burn = (v: number | undefined, w: number) => `${v === undefined ? "no data" : `${round(v)}×`} over ${promDuration(w)}`.padEnd(19);
      const verdict = b.firing === undefined ? style.yellow("no data") : b.firing ? (b.severity === "page" ? style.red("FIRING (halts)") : style.yellow("firing (ticket)")) : style.green("ok");
      out.push(`                 ${b.severity.padEnd(8)}  ${`${b.rate}×`.padEnd(9)}  ${burn(b.long, b.longMs)}${burn(b.short, b.shortMs)}${verdict}`);
    }
    if (r.excluded.length) out.push(style.dim(`  left out ${r.excluded.length} chaos window(s) whose experiments chose chaosWindow: excluded`));
    for (const reason of r.reasons) out.push(`  ${r.verdict === "halt" ? style.red("✖") : style.yellow("?")} ${t(reason)}`);
    out.push("");
  }
  const summary =
    exit === EXIT.passed
      ? style.green("Releases may go on: every SLO has error budget left and none burns at a page-level rate.")
      : exit === EXIT.deviated
        ? style.red(`Halt releases: ${reports.filter((r) => r.verdict === "halt").length} SLO(s) out of budget or burning too fast (exit 1).`)
        : style.yellow(`Inconclusive: ${reports.filter((r) => r.verdict === "inconclusive").length} SLO(s) could not be measured (exit ${EXIT.inconclusive}); neither go nor halt.`);
  out.push(summary);
  process.stdout.write(`${out.join("\n")}\n`);
}
