// Loads experiment files: YAML or JSON text → document with positions → variables → schema →
// semantic checks → a compiled experiment. Every problem is reported with file:line:col.

import { open, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { displayPath } from "../util/display-path.js";
import { isAlias, isCollection, isMap, isPair, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import { ExperimentError, UsageError, type Problem } from "../errors.js";
import type { RegistryView } from "../contract/registry-view.js";
import { describeValue } from "../util/describe.js";
import { FileReadError, readRegularFile } from "../util/safe-read.js";
import { expansionProblem, versionDirectiveProblem } from "./yaml-guards.js";
import { forTerminal } from "../util/terminal-text.js";
import { makeRedactor } from "../contract/redact.js";
import { salvageChecks } from "./salvage.js";
import { compileExperiment } from "./compile.js";
import { locate } from "./positions.js";
import { buildExperimentSchema, type ExperimentSchema } from "./schema.js";
import type { CompiledExperiment } from "../contract/compiled-experiment.js";
import { interpolateDocument, variableNames, type VarInputs } from "./vars.js";
import { lookupPath } from "./schema-walk.js";
import { explainIssue } from "./zod-issues.js";

const MAX_FILE_BYTES = 1024 * 1024;
/** Deeper than this is a mistake or an attack; it also keeps every recursive step below far from the stack limit. */
const MAX_DEPTH = 64;
const MAX_ALIASES = 50;
/** What aliases may expand a document into: a few times the largest file. */
const MAX_EXPANDED_CHARS = 4 * 1024 * 1024;
/** Problems reported per file. */
const MAX_PROBLEMS = 100;
const EXPERIMENT_EXTENSIONS = new Set([".yaml", ".yml", ".json"]);
const schemas = new WeakMap<RegistryView, ExperimentSchema>();

export interface LoadOptions {
  registry: RegistryView;
  vars: VarInputs;
}

/** Load and validate one file. Throws ExperimentError listing every problem found. */
export async function loadExperiment(file: string, options: LoadOptions): Promise<CompiledExperiment> {
  const shown = displayPath(file);
  let bytes: Buffer;
  try {
    // Only a regular file, at most 1 MiB: a FIFO would wait for a writer forever, /dev/zero never end.
    bytes = await readRegularFile(file, { maxBytes: MAX_FILE_BYTES, kind: "experiment files" });
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    throw new ExperimentError([{ file: shown, path: "", message: `cannot read the file: ${err.reason}` }]);
  }
  let text: string;
  try {
    // Strict: a file that is not UTF-8 is refused rather than read with replacement characters.
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const lenient = bytes.toString("utf8");
    const where = positionOf(lenient, Math.max(0, lenient.indexOf("\uFFFD")));
    throw new ExperimentError([{ file: shown, ...where, path: "", message: "not UTF-8 text (is this a binary file?); experiment files are YAML or JSON text" }]);
  }
  return parseExperiment(text, shown, options);
}

/** Validate experiment text. `file` is only used in messages. */
export function parseExperiment(text: string, file: string, options: LoadOptions): CompiledExperiment {
  try {
    return parseText(text, file, options);
  } catch (err) {
    if (!(err instanceof ExperimentError)) throw err;
    // Every list of problems went through shown(); make single problems printable too.
    throw new ExperimentError(err.problems.map(printable));
  }
}

/**
 * What is worth showing: tens of thousands of problems help nobody (a 1 MiB file can have them, and
 * joined they can exceed the longest string V8 can build), so the first ones and a count, each
 * printable and of a readable length.
 */
function shown(problems: Problem[], file: string, total = problems.length): Problem[] {
  const first = problems.slice(0, MAX_PROBLEMS);
  const more = total - first.length;
  if (more > 0) first.push({ file, path: "", message: `… and ${more} more problem(s) not shown; fix these first` });
  return first.map(printable);
}

/**
 * Messages quote what the file holds ("found "…""), and a double-quoted YAML string can hold any
 * character: escape those that would move the cursor, recolour the terminal or reorder the line,
 * so that each problem stays on one line and reads as written.
 */
function printable(problem: Problem): Problem {
  const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);
  return { ...problem, file: forTerminal(problem.file), path: cut(forTerminal(problem.path), 300), message: cut(forTerminal(problem.message), 2000) };
}

function parseText(text: string, file: string, options: LoadOptions): CompiledExperiment {
  // YAML and JSON allow no control characters but tab and line breaks; the parser would keep them.
  const control = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F]/.exec(text);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
    const hint = code === "0000" ? " (is this a binary file?)" : "; write it as an escape in a double-quoted string";
    throw new ExperimentError([{ file, ...positionOf(text, control.index), path: "", message: `control character U+${code} is not allowed in YAML or JSON text${hint}` }]);
  }
  const lines = new LineCounter();
  // Duplicate keys are found by checkStructure: the parser's own check is quadratic in the size of a mapping.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false, strict: true });
  const version = versionDirectiveProblem(doc, text);
  if (version) throw new ExperimentError([{ file, ...lines.linePos(version.offset), path: "", message: version.message }]);
  const problems: Problem[] = [];
  // Locating is linear in the mappings on the path: only problems that can be shown are located,
  // and the same problem found twice (a placeholder repeated in one value) is the same problem.
  const seen = new Map<string, Problem>();
  const at = (p: (string | number)[], message: string, where: "value" | "key" = "value"): Problem => {
    const key = `${where} ${formatPath(p)} ${message}`;
    let problem = seen.get(key);
    if (!problem) {
      problem = { file, ...(seen.size < MAX_PROBLEMS ? locate(doc, lines, p, where) : {}), path: formatPath(p), message };
      seen.set(key, problem);
    }
    return problem;
  };

  // YAML accepts what JSON does not (trailing commas, comments): a .json file must be strict JSON.
  if (file.endsWith(".json")) {
    const jsonProblem = strictJsonProblem(text, file, lines);
    if (jsonProblem) throw new ExperimentError([jsonProblem]);
  }
  if (doc.errors.length > 0 || doc.warnings.length > 0) {
    const seenLines = new Set<number>();
    for (const error of doc.errors) {
      const { offset, message } = explainYamlError(error.code, firstLine(error.message), error.pos[0], doc, text);
      const pos = lines.linePos(offset);
      // One syntax error makes the parser stumble over the rest of its line: report the first.
      if (seenLines.has(pos.line)) continue;
      seenLines.add(pos.line);
      problems.push({ file, line: pos.line, col: pos.col, path: "", message });
    }
    // YAML reads an unquoted `!= 5` as a tag and would silently drop the "!=": never accept tags.
    for (const warning of doc.warnings) {
      const pos = lines.linePos(warning.pos[0]);
      const tag = /Unresolved tag: (\S+)/.exec(warning.message)?.[1]?.replace(/^tag:yaml\.org,2002:/, "!!");
      const message = !tag
        ? `not valid here: ${firstLine(warning.message)}`
        : tag.startsWith("!=")
          ? `unknown YAML tag ${tag}; to write a comparator, quote it: "${tag} …"`
          : `YAML tags are not supported: remove ${tag}`;
      problems.push({ file, line: pos.line, col: pos.col, path: "", message });
    }
    throw new ExperimentError(shown(problems, file));
  }
  const structure = checkStructure(doc, text);
  if (structure.problems.length > 0) {
    const first = structure.problems.slice(0, MAX_PROBLEMS).map((p) => ({ file, ...lines.linePos(p.offset), path: "", message: p.message }));
    throw new ExperimentError(shown(first, file, structure.problems.length));
  }
  // Few aliases can still expand into a lot (50 aliases of a 1 MiB value): bound the size too.
  const expansion = expansionProblem(doc, MAX_EXPANDED_CHARS, structure.firstAlias);
  if (expansion) throw new ExperimentError([{ file, ...lines.linePos(expansion.offset), path: "", message: expansion.message }]);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    const message = /Excessive alias count/.test((err as Error).message)
      ? "the aliases (*name) in this file expand into too much data; write the values out instead"
      : `cannot read the document: ${(err as Error).message}`;
    throw new ExperimentError([{ file, ...lines.linePos(structure.firstAlias ?? 0), path: "", message }]);
  }
  // Aliases can nest one deep structure inside another beyond what the YAML text shows.
  const deep = structure.firstAlias === undefined ? undefined : pathDeeperThan(raw, MAX_DEPTH);
  if (deep) throw new ExperimentError([at(deep, `nested more than ${MAX_DEPTH} levels deep (through aliases); an experiment never needs that`)]);
  if (raw === null || raw === undefined) {
    throw new ExperimentError([{ file, line: 1, col: 1, path: "", message: "the file is empty; expected an experiment (version, title, faults …); `chaoscast init` writes one" }]);
  }
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new ExperimentError([at([], `expected a mapping with version, title, faults … at the top, found ${describeValue(raw)}`)]);
  }

  const interpolated = interpolateDocument(raw, options.vars);
  // Messages quote what they found, which may be a substituted secret.
  const fail = (list: Problem[]) => new ExperimentError(shown(makeRedactor(interpolated.secrets)(list), file));
  for (const problem of interpolated.problems) problems.push(at(problem.path, problem.message));
  const badPaths = new Set(interpolated.problems.map((p) => formatPath(p.path)));

  let schema = schemas.get(options.registry);
  if (!schema) {
    schema = buildExperimentSchema(options.registry);
    schemas.set(options.registry, schema);
  }
  const parsed = schema.safeParse(interpolated.value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      for (const report of explainIssue(issue, interpolated.value, schema)) {
        // "found "http"" pointing at "${vars.port}": say where the value came from (--var, CHAOSCAST_VAR_…, vars:).
        const written = report.at === "value" ? lookupPath(raw, report.path) : undefined;
        const from = typeof written === "string" && written.includes("${") ? ` (from ${describeValue(written)})` : "";
        if (!badPaths.has(formatPath(report.path))) problems.push(at(report.path, report.message + from, report.at));
      }
    }
    // Everything else that can be checked without a valid document, so one pass reports it all;
    // nothing is said twice about one place.
    const reported = new Set(parsed.error.issues.map((issue) => formatPath(issue.path as (string | number)[])));
    for (const p of salvageChecks(interpolated.value, options.registry)) {
      const where = formatPath(p.path);
      if (![...reported].some((r) => where === r || where.startsWith(`${r}.`) || where.startsWith(`${r}[`))) problems.push(at(p.path, p.message, p.at));
    }
    throw fail(dedupe(problems));
  }
  if (problems.length > 0) throw fail(dedupe(problems));

  const compiled = compileExperiment(parsed.data, options.registry);
  if (!compiled.ok) throw fail(compiled.problems.map((p) => at(p.path, p.message, p.at)));
  const here = path.dirname(file);
  const b = compiled.experiment.budget;
  // Where budget.slo is written, for messages about the SLO it names (a file or a name not found).
  const writtenAt = b ? locate(doc, lines, ["budget", "slo"], "value") : undefined;
  const budget = b && {
    ...b,
    slo: "file" in b.slo ? { file: path.resolve(here, b.slo.file), name: b.slo.name, writtenAt } : { near: path.resolve(here), name: b.slo.name, writtenAt },
  };
  return { ...compiled.experiment, budget, file, display: interpolated.display, secrets: interpolated.secrets, secretSources: interpolated.secretSources, variables: variableNames(raw) };
}

/** Load every file first, so that one bad file stops the whole batch before anything runs. */
export async function loadAll(files: string[], options: LoadOptions): Promise<CompiledExperiment[]> {
  const loaded: CompiledExperiment[] = [];
  const problems: Problem[] = [];
  for (const file of files) {
    try {
      loaded.push(await loadExperiment(file, options));
    } catch (err) {
      if (!(err instanceof ExperimentError)) throw err;
      problems.push(...err.problems);
    }
  }
  if (problems.length > 0) throw new ExperimentError(problems);
  return loaded;
}

/** Expand files and directories (recursively: *.yaml, *.yml, *.json) into a sorted list of files. */
export async function expandPaths(inputs: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    let info;
    try {
      info = await stat(input);
    } catch {
      throw new UsageError(`${input}: no such file or directory`);
    }
    if (info.isDirectory()) {
      const found = (await readdir(input, { recursive: true, withFileTypes: true }))
        .filter((entry) => entry.isFile() && EXPERIMENT_EXTENSIONS.has(path.extname(entry.name)))
        .map((entry) => path.join(entry.parentPath, entry.name))
        .sort();
      if (found.length === 0) throw new UsageError(`${input}: the directory has no .yaml, .yml or .json files`);
      // SLO files often live next to the experiments that gate on them; they are read through
      // budget:, not run. Named one by one, an SLO file is still reported as not an experiment.
      const experiments = [];
      for (const file of found) if (!(await looksLikeSloFile(file))) experiments.push(file);
      if (experiments.length === 0) throw new UsageError(`${input}: the directory holds SLO files only, no experiments`);
      files.push(...experiments);
    } else files.push(input);
  }
  // The same file named twice (a file and its directory) runs once.
  return [...new Set(files.map((f) => path.resolve(f)))].map((f) => displayPath(f));
}

/** An OpenSLO document or chaoscast's short SLO form, judged from the file's first 8 KiB. */
export async function looksLikeSloFile(file: string): Promise<boolean> {
  let head: string;
  try {
    const handle = await open(file, "r");
    try {
      const buffer = Buffer.alloc(8192);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      head = buffer.subarray(0, bytesRead).toString("utf8");
    } finally {
      await handle.close();
    }
  } catch {
    return false; // unreadable: the loader says why, as for any experiment file
  }
  const openSlo = /^apiVersion:\s*["']?openslo\//m.test(head) || /"apiVersion"\s*:\s*"openslo\//.test(head);
  const shortForm = (/^slo:\s*\S/m.test(head) || /^\s*\{\s*"slo"\s*:/.test(head)) && !/^version:|"version"\s*:/m.test(head);
  return openSlo || shortForm;
}

export function formatPath(p: readonly (string | number)[]): string {
  return p.reduce<string>((acc, seg) => (typeof seg === "number" ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), "");
}

function strictJsonProblem(text: string, file: string, lines: LineCounter): Problem | undefined {
  // Editors on Windows save a byte-order mark; it is not part of the JSON text.
  const bom = text.startsWith("\uFEFF") ? 1 : 0;
  try {
    JSON.parse(text.slice(bom));
    return undefined;
  } catch (err) {
    // V8's messages do not always carry a position (never for a trailing comma): find it ourselves.
    const found = jsonSyntaxError(text, bom, (offset) => {
      const pos = lines.linePos(offset);
      return `${pos.line}:${pos.col}`;
    });
    const offset = found?.offset ?? Number(/position (\d+)/.exec((err as Error).message)?.[1] ?? 0) + bom;
    const message = found?.message ?? firstLine((err as Error).message).replace(/ in JSON at position \d+.*$/, "");
    return { file, ...lines.linePos(offset), path: "", message: `not valid JSON: ${message}` };
  }
}

/** Where strict JSON text first goes wrong, said for people; undefined if nothing is found. Iterative. */
function jsonSyntaxError(text: string, start: number, where: (offset: number) => string): { offset: number; message: string } | undefined {
  const open: { close: "}" | "]"; at: number }[] = [];
  let state: "value" | "key" | "colon" | "after" = "value";
  let comma = -1;
  let i = start;
  const shown = (at: number) => {
    const word = /[A-Za-z_$][\w$]*/y;
    word.lastIndex = at;
    return word.test(text) ? `"${text.slice(at, word.lastIndex)}"` : JSON.stringify(text[at]);
  };
  for (;;) {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
    const c = text[i];
    const inner = open[open.length - 1];
    if (c === undefined) {
      if (state === "after" && !inner) return undefined;
      if (inner) return { offset: text.length, message: `the file ends before the ${inner.close === "}" ? "{" : "["} at ${where(inner.at)} is closed with ${inner.close}` };
      return { offset: text.length, message: "the file ends where a value was expected" };
    }
    if (c === "/" && (text[i + 1] === "/" || text[i + 1] === "*")) return { offset: i, message: "comments are not allowed in JSON (a .yaml file may have # comments)" };
    if (c === "'") return { offset: i, message: "JSON strings and keys are written in double quotes" };
    if ((state === "value" || state === "key") && (c === "]" || c === "}") && comma >= 0) {
      return { offset: comma, message: `a comma before ${c} is not allowed in JSON (remove the trailing comma)` };
    }
    if (state === "value" || state === "key") {
      if (state === "key" && c !== '"' && !(c === "}" && comma < 0)) return { offset: i, message: `expected a key in double quotes, found ${shown(i)}` };
      if (c === "}" || c === "]") {
        if (inner?.close !== c) return { offset: i, message: `expected a value, found ${shown(i)}` };
        open.pop();
        i++;
        state = "after";
        continue;
      }
      comma = -1;
      if (c === "{" || c === "[") {
        open.push({ close: c === "{" ? "}" : "]", at: i });
        i++;
        state = c === "{" ? "key" : "value";
        continue;
      }
      if (c === '"') {
        const problem = jsonString();
        if (problem) return problem;
        state = state === "key" ? "colon" : "after";
        continue;
      }
      const literal = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null/y;
      literal.lastIndex = i;
      if (literal.test(text)) {
        i = literal.lastIndex;
        state = "after";
        continue;
      }
      return { offset: i, message: `expected a value, found ${shown(i)}` };
    }
    if (state === "colon") {
      if (c !== ":") return { offset: i, message: `expected ":" after the key, found ${shown(i)}` };
      i++;
      state = "value";
      continue;
    }
    // state "after": a value is complete.
    if (!inner) return { offset: i, message: `unexpected ${shown(i)} after the end of the document` };
    if (c === ",") {
      comma = i;
      i++;
      state = inner.close === "}" ? "key" : "value";
      continue;
    }
    if (c === inner.close) {
      open.pop();
      i++;
      continue;
    }
    return { offset: i, message: `expected "," or "${inner.close}", found ${shown(i)}` };
  }

  function jsonString(): { offset: number; message: string } | undefined {
    const opening = i;
    for (i++; i < text.length; i++) {
      const c = text[i]!;
      if (c === '"') {
        i++;
        return undefined;
      }
      if (c === "\\") {
        const escapeSequence = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;
        escapeSequence.lastIndex = i;
        if (!escapeSequence.test(text)) return { offset: i, message: `invalid escape ${JSON.stringify(text.slice(i, i + 2))} in a string` };
        i = escapeSequence.lastIndex - 1;
      } else if (c < " ") {
        return { offset: i, message: c === "\n" ? `the string at ${where(opening)} is not closed on its line` : "a control character in a string must be escaped (\\t, \\u0000 …)" };
      }
    }
    return { offset: opening, message: "the string starting here is never closed" };
  }
}

/** The YAML parser's errors, said for people, at the place the person has to look. */
function explainYamlError(code: string, message: string, offset: number, doc: Document, text: string): { offset: number; message: string } {
  if (code === "MULTIPLE_DOCS") return { offset, message: "a file holds one experiment, but a second YAML document (---) starts here; put it in its own file" };
  if (/Maximum call stack/.test(message)) return { offset, message: `nested too deeply; an experiment never needs more than ${MAX_DEPTH} levels` };
  if (code === "MISSING_CHAR" && /quote/.test(message)) {
    // The parser notices at the end of the file; the mistake is where the quote opened.
    const opening = unclosedQuoteStart(doc, offset);
    if (opening !== undefined) return { offset: opening, message: `not valid YAML/JSON: the ${text[opening] === '"' ? "double" : "single"} quote opened here is never closed` };
  }
  const flow = /^Flow (map|sequence) in block collection must be sufficiently indented and end with a ([}\]])/.exec(message);
  if (flow) {
    // The parser notices on the next line; the bracket to close is where the collection opened.
    const opening = unclosedFlowStart(doc, offset);
    const bracket = flow[2] === "}" ? "{" : "[";
    if (opening !== undefined && text[opening] === bracket) {
      return { offset: opening, message: `not valid YAML/JSON: the ${bracket} opened here is not closed with ${flow[2]} (or a line after it is not indented enough)` };
    }
  }
  // `latencyMs: > 500` or `>= 0.995` unquoted: ">" and "|" start a block scalar, and the number breaks it.
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  const lineEnd = text.indexOf("\n", offset);
  const line = text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
  const comparator = /(^|[\s:-])([>|]=?\s*-?\d[\w.+-]*)\s*(#.*)?$/.exec(line);
  if (comparator) {
    const written = comparator[2]!;
    return { offset: lineStart + comparator.index + comparator[1]!.length, message: `not valid YAML/JSON: ${blockScalarHint(written)}` };
  }
  return { offset, message: `not valid YAML/JSON: ${message}` };
}

function blockScalarHint(written: string): string {
  return `an unquoted ${written} starts a YAML block scalar; to write a comparator, quote it: "${written}"`;
}

/** The latest start offset among the document's nodes for which `startOf` gives one. */
function latestStart(doc: Document, startOf: (node: object) => number | undefined): number | undefined {
  let found: number | undefined;
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (!node || typeof node !== "object") continue;
    const start = startOf(node);
    if (start !== undefined) found = Math.max(found ?? -1, start);
    if (isPair(node)) stack.push(node.key, node.value);
    else if (isCollection(node)) for (const item of node.items) stack.push(item);
  }
  return found;
}

/** Start of the innermost flow collection ({ … } or [ … ]) that the parser ended, unclosed, at `end`. */
function unclosedFlowStart(doc: Document, end: number): number | undefined {
  return latestStart(doc, (node) => (isCollection(node) && node.flow && node.range && node.range[1] === end ? node.range[0] : undefined));
}

/** Start of the quoted scalar that runs to `end` without its closing quote. */
function unclosedQuoteStart(doc: Document, end: number): number | undefined {
  return latestStart(doc, (node) =>
    isScalar(node) && (node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE") && node.range && node.range[0] < end && end <= node.range[2] + 1 ? node.range[0] : undefined,
  );
}

interface Structure {
  problems: { offset: number; message: string }[];
  firstAlias?: number;
}

/**
 * What the YAML parser accepts but an experiment must not contain: tags, keys that are not text,
 * merge keys, aliases to nothing or into their own anchor (an endless document), too many aliases,
 * and nesting deeper than MAX_DEPTH. Iterative, so that no document can exhaust the stack here.
 */
function checkStructure(doc: Document, text: string): Structure {
  const problems: Structure["problems"] = [];
  let firstAlias: number | undefined;
  let aliases = 0;
  let tooDeep = false;
  const anchors = new Map<string, unknown>();
  const open = new Set<unknown>();
  const stack: ({ node: unknown; depth: number } | { leave: unknown })[] = [{ node: doc.contents, depth: 1 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if ("leave" in item) {
      open.delete(item.leave);
      continue;
    }
    const { node, depth } = item;
    if (!node || typeof node !== "object") continue;
    const start = rangeStart(node);
    if (isAlias(node)) {
      aliases += 1;
      firstAlias ??= start;
      const target = anchors.get(node.source);
      if (aliases === MAX_ALIASES + 1) problems.push({ offset: start, message: `more than ${MAX_ALIASES} aliases (*name); write the values out instead` });
      if (target === undefined) problems.push({ offset: start, message: `*${node.source} refers to no anchor: &${node.source} must be defined before it` });
      else if (open.has(target)) problems.push({ offset: start, message: `*${node.source} is inside the &${node.source} it repeats, which would never end` });
      continue;
    }
    // `bytes: >1` is valid YAML: an empty folded block with indentation 1. It was meant as a comparator.
    if (isScalar(node) && (node.type === "BLOCK_FOLDED" || node.type === "BLOCK_LITERAL") && node.value === "") {
      const header = /^[>|][-+]?\d[-+]?/.exec(text.slice(start, start + 4));
      if (header) problems.push({ offset: start, message: blockScalarHint(header[0]) });
    }
    const anchor = (node as { anchor?: string }).anchor;
    if (anchor) anchors.set(anchor, node);
    const tag = (node as { tag?: string }).tag;
    if (tag) problems.push({ offset: tagStart(text, start), message: `YAML tags are not supported: remove ${tag.replace(/^tag:yaml\.org,2002:/, "!!")} (quote text, write numbers plainly)` });
    if (!isCollection(node)) continue;
    if (depth > MAX_DEPTH) {
      if (!tooDeep) problems.push({ offset: start, message: `nested more than ${MAX_DEPTH} levels deep; an experiment never needs that` });
      tooDeep = true;
      continue;
    }
    open.add(node);
    stack.push({ leave: node });
    const children: unknown[] = [];
    // Keys as the document will have them: `1` and `"1"` are one key once converted.
    const keys = new Set<string>();
    for (const entry of node.items) {
      if (!isPair(entry)) {
        children.push(entry);
        continue;
      }
      const key = entry.key;
      const name = isScalar(key) ? String(key.value ?? "") : key === null || key === undefined ? "" : undefined;
      if (name !== undefined) {
        if (keys.has(name)) problems.push({ offset: rangeStart(key), message: `the key "${name}" appears twice in this mapping; keys must be unique` });
        keys.add(name);
      }
      if (key !== null && key !== undefined && !isScalar(key)) {
        const kind = isAlias(key) ? `an alias (*${key.source})` : isMap(key) ? "a mapping" : "a list";
        problems.push({ offset: rangeStart(key), message: `a key must be plain text, found ${kind}` });
      } else {
        if (isScalar(key) && key.type === "PLAIN" && key.value === "<<") {
          problems.push({ offset: rangeStart(key), message: "YAML merge keys (<<) are not supported: write the keys out" });
        }
        children.push(key);
      }
      children.push(entry.value);
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i], depth: depth + 1 });
  }
  return { problems, firstAlias };
}

function rangeStart(node: unknown): number {
  return (node as { range?: [number, number, number] | null }).range?.[0] ?? 0;
}

/** A node's range starts at its value; point at the `!tag` written before it when there is one. */
function tagStart(text: string, valueStart: number): number {
  let bang = text.lastIndexOf("!", valueStart);
  while (bang > 0 && text[bang - 1] === "!") bang--;
  return bang >= 0 && /^![^\s]*\s+(&\S+\s+)?$/.test(text.slice(bang, valueStart)) ? bang : valueStart;
}

/** The path to the first value nested deeper than `max`, without recursion. */
function pathDeeperThan(root: unknown, max: number): (string | number)[] | undefined {
  interface Frame { value: unknown; depth: number; parent?: Frame; key?: string | number }
  const stack: Frame[] = [{ value: root, depth: 1 }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (frame.value === null || typeof frame.value !== "object") continue;
    if (frame.depth > max) {
      const path: (string | number)[] = [];
      for (let f: Frame | undefined = frame; f?.parent; f = f.parent) path.unshift(f.key!);
      return path;
    }
    const entries = Array.isArray(frame.value) ? frame.value.map((v, i) => [i, v] as const) : Object.entries(frame.value);
    for (const [key, value] of entries.reverse()) stack.push({ value, depth: frame.depth + 1, parent: frame, key });
  }
  return undefined;
}

/** 1-based line and column of an offset, counted as the YAML parser counts them (lines end at \n). */
function positionOf(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf("\n") + 1;
  return { line: before.split("\n").length, col: offset - lineStart + 1 };
}

function firstLine(text: string): string {
  return text.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.line}:${p.col}:${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
