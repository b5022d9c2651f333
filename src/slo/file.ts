// Reading SLO files: YAML (one or several documents) or JSON, OpenSLO v1 or the short form, every
// problem reported with file:line:col like an experiment's (exit 4). What is read is untrusted:
// size-capped, typed, aliases bounded, as for experiments and policies.

import { LineCounter, parseAllDocuments, type Document } from "yaml";
import { ExperimentError, type Problem } from "../errors.js";
import { displayPath } from "../util/display-path.js";
import { forTerminal } from "../util/terminal-text.js";
import { FileReadError, readRegularText } from "../util/safe-read.js";
import { expansionProblem, firstAliasOffset, versionDirectiveProblem } from "../experiment/yaml-guards.js";
import { locate } from "../experiment/positions.js";
import { explainIssue } from "../experiment/zod-issues.js";
import { formatPath } from "../experiment/loader.js";
import type { z } from "zod";
import type { Slo } from "./model.js";
import { OpenSloSchema, OpenSloSliSchema, ShortSloSchema } from "./schema.js";

const MAX_SLO_FILE_BYTES = 1024 * 1024;
const MAX_DOCUMENTS = 200;

export async function loadSloFile(file: string): Promise<Slo[]> {
  const shown = forTerminal(displayPath(file));
  let text: string;
  try {
    text = await readRegularText(file, { maxBytes: MAX_SLO_FILE_BYTES, kind: "SLO files" });
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    throw new ExperimentError([{ file: shown, path: "", message: `cannot read the SLO file: ${err.reason}` }]);
  }
  return parseSlos(text, shown);
}

/** Pick one SLO by name from a file's SLOs (all of them when the file holds one). */
export function pickSlo(slos: Slo[], name: string | undefined, file: string): Slo {
  if (name === undefined) {
    if (slos.length === 1) return slos[0]!;
    throw new ExperimentError([{ file, path: "", message: `the file holds ${slos.length} SLOs (${slos.map((s) => s.name).join(", ")}); name one with FILE#name` }]);
  }
  const found = slos.find((s) => s.name === name);
  if (!found) throw new ExperimentError([{ file, path: "", message: `no SLO named "${name}" in the file; it has ${slos.map((s) => s.name).join(", ")}` }]);
  return found;
}

type Raw = Record<string, unknown>;

/** Check an SLO file's text; `shown` names the file in messages. */
export function parseSlos(text: string, shown: string): Slo[] {
  const lines = new LineCounter();
  const at = (offset: number, message: string): Problem => ({ file: shown, ...lines.linePos(offset), path: "", message });
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, strict: true }) as Document.Parsed[];
  } catch (err) {
    throw new ExperimentError([at(0, `not valid YAML: ${/call stack/i.test((err as Error).message) ? "nested too deeply" : (err as Error).message}`)]);
  }
  if (!Array.isArray(docs)) throw new ExperimentError([at(0, "not valid YAML")]);
  if (docs.length > MAX_DOCUMENTS) throw new ExperimentError([at(0, `more than ${MAX_DOCUMENTS} documents; split the file`)]);
  const problems: Problem[] = [];
  const values: { doc: Document.Parsed; raw: unknown }[] = [];
  for (const doc of docs) {
    for (const error of [...doc.errors, ...doc.warnings]) problems.push(at(error.pos[0], `not valid YAML: ${forTerminal(error.message.split("\n")[0] ?? "")}`));
    if (problems.length) continue;
    const version = versionDirectiveProblem(doc, text);
    if (version) problems.push(at(version.offset, version.message));
    const firstAlias = firstAliasOffset(doc);
    const expansion = expansionProblem(doc, MAX_SLO_FILE_BYTES, firstAlias);
    if (expansion) problems.push(at(expansion.offset, expansion.message));
    if (problems.length) continue;
    try {
      const raw = doc.toJS({ maxAliasCount: 50 });
      if (raw !== null && raw !== undefined) values.push({ doc, raw });
    } catch (err) {
      problems.push(at(firstAlias ?? 0, `cannot read it: ${(err as Error).message}`));
    }
  }
  if (problems.length) throw new ExperimentError(problems);

  const check = <S extends z.ZodType>(schema: S, doc: Document.Parsed, raw: unknown): z.output<S> | undefined => {
    const parsed = schema.safeParse(raw);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) {
      for (const report of explainIssue(issue, raw, schema)) {
        problems.push({ file: shown, ...locate(doc, lines, report.path, report.at), path: formatPath(report.path), message: report.message });
      }
    }
    return undefined;
  };
  const lineOf = (doc: Document.Parsed, path: (string | number)[]) => `${shown}:${locate(doc, lines, path, "value").line}`;
  // Where each SLO's name is written, to point at the second of two with the same name.
  const namedAt = new Map<Slo, { line?: number; col?: number }>();

  // SLI documents first: an SLO may point at one (indicatorRef) anywhere in the file.
  const slis = new Map<string, z.output<typeof OpenSloSliSchema>["spec"]>();
  for (const { doc, raw } of values) {
    if ((raw as Raw)?.kind !== "SLI") continue;
    const sli = check(OpenSloSliSchema, doc, raw);
    if (sli) slis.set(sli.metadata.name, sli.spec);
  }
  const slos: Slo[] = [];
  for (const { doc, raw } of values) {
    const kind = (raw as Raw)?.kind;
    if (kind === "SLI") continue;
    if (typeof raw !== "object" || Array.isArray(raw)) {
      problems.push({ file: shown, ...locate(doc, lines, [], "value"), path: "", message: "expected an OpenSLO document (apiVersion: openslo/v1, kind: SLO) or chaoscast's short form (slo, objective, window, good or bad, total)" });
      continue;
    }
    if ((raw as Raw).apiVersion !== undefined || kind !== undefined) {
      if (kind !== "SLO") {
        // Service, DataSource, AlertPolicy … are fine in an OpenSLO file; they say nothing chaoscast measures.
        if (typeof kind === "string" && (raw as Raw).apiVersion === "openslo/v1") continue;
      }
      const slo = check(OpenSloSchema, doc, raw);
      if (!slo) continue;
      const spec = slo.spec.indicator?.spec ?? (slo.spec.indicatorRef ? slis.get(slo.spec.indicatorRef) : undefined);
      if (!spec) {
        problems.push({ file: shown, ...locate(doc, lines, ["spec", "indicatorRef"], "value"), path: "spec.indicatorRef", message: `no kind: SLI document named "${slo.spec.indicatorRef}" in this file` });
        continue;
      }
      const ratio = spec.ratioMetric!;
      slo.spec.objectives.forEach((objective, i) => {
        const name = slo.spec.objectives.length === 1 ? slo.metadata.name : `${slo.metadata.name}/${objective.displayName ?? i}`;
        const named = {
          source: lineOf(doc, ["metadata", "name"]),
          name,
          service: slo.spec.service,
          objective: (objective.target ?? objective.targetPercent)!,
          periodMs: slo.spec.timeWindow[0]!.duration,
          ratio: ratio.good
            ? { counts: "good", events: ratio.good.metricSource.spec.query, total: ratio.total.metricSource.spec.query }
            : { counts: "bad", events: ratio.bad!.metricSource.spec.query, total: ratio.total.metricSource.spec.query },
        } satisfies Slo;
        slos.push(named);
        namedAt.set(named, locate(doc, lines, ["metadata", "name"], "value"));
      });
      continue;
    }
    const short = check(ShortSloSchema, doc, raw);
    if (!short) continue;
    const named = {
      source: lineOf(doc, ["slo"]),
      name: short.slo,
      service: short.service,
      objective: short.objective,
      periodMs: short.window,
      ratio: short.good ? { counts: "good" as const, events: short.good, total: short.total } : { counts: "bad" as const, events: short.bad!, total: short.total },
    } satisfies Slo;
    slos.push(named);
    namedAt.set(named, locate(doc, lines, ["slo"], "value"));
  }
  if (problems.length) throw new ExperimentError(problems);
  if (slos.length === 0) throw new ExperimentError([at(0, "no SLO in the file: expected an OpenSLO kind: SLO document or chaoscast's short form")]);
  const seen = new Set<string>();
  for (const slo of slos) {
    if (seen.has(slo.name)) throw new ExperimentError([{ file: shown, ...namedAt.get(slo), path: "", message: `two SLOs are named "${slo.name}"; SLO names must be unique in a file` }]);
    seen.add(slo.name);
  }
  return slos;
}
