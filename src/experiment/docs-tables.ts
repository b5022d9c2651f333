// The parameter tables in the docs, made from the same zod schemas as `chaoscast list` and the JSON
// Schema, so no parameter list is kept by hand. A doc marks where a table goes:
//
//   <!-- chaoscast:params ACTION-OR-PROBE -->   the parameters of an action or probe (`with:`)
//   <!-- chaoscast:fields PROBE -->             the fields a probe observes (for `expect`)
//   <!-- chaoscast:target KIND -->              the keys of a target kind's block (or of `select`)
//   <!-- /chaoscast -->                         the end of any of them
//
// `npm run docs` rewrites what stands between the markers; a unit test fails while a doc is stale.

import type { z } from "zod";
import type { RegistryView } from "../contract/registry-view.js";
import { SelectionSchema } from "../contract/selection.js";
import { paramRows, type ParamRow } from "./json-schema.js";

export type TableKind = "params" | "fields" | "target";

const REGION = /(<!-- chaoscast:(params|fields|target) ([A-Za-z0-9_.-]+) -->\n)([\s\S]*?)(<!-- \/chaoscast -->)/g;

export class DocsTableError extends Error {}

/** Markdown cell text: pipes escaped, line breaks flattened. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");
}

function code(value: unknown): string {
  return `\`${cell(typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value))}\``;
}

function rowsTable(rows: readonly ParamRow[], first: string): string {
  if (rows.length === 0) return "It takes no parameters.\n";
  const lines = [`| ${first} | Type | Default | Meaning |`, "|---|---|---|---|"];
  for (const row of rows) {
    const fallback = row.default !== undefined ? code(row.default) : row.required ? "**required**" : "none";
    lines.push(`| \`${row.name}\` | ${cell(row.type)} | ${fallback} | ${cell(row.description)} |`);
  }
  return `${lines.join("\n")}\n`;
}

function fieldsTable(fields: Record<string, string>, primary: string | undefined): string {
  const lines = ["| Field | Meaning |", "|---|---|"];
  for (const [name, meaning] of Object.entries(fields)) lines.push(`| \`${name}\` | ${cell(meaning)}${name === primary ? " (primary field)" : ""} |`);
  return `${lines.join("\n")}\n`;
}

/** The table for one marker, or an error naming what the registry does not have. */
export function renderTable(kind: TableKind, name: string, registry: RegistryView): string {
  if (kind === "params") {
    const def = registry.actions.get(name) ?? registry.probes.get(name);
    if (!def) throw new DocsTableError(`no action or probe named "${name}"`);
    return rowsTable(paramRows(def.params as z.ZodType), "Parameter");
  }
  if (kind === "fields") {
    const probe = registry.probes.get(name);
    if (!probe) throw new DocsTableError(`no probe named "${name}"`);
    return fieldsTable(probe.fields, probe.primaryField);
  }
  if (name === "select") return rowsTable(paramRows(SelectionSchema), "Key");
  const target = registry.targetKinds.get(name);
  if (!target) throw new DocsTableError(`no target kind named "${name}"`);
  return rowsTable(paramRows(target.selector as z.ZodType), "Key");
}

export interface MarkedTable {
  kind: TableKind;
  name: string;
}

/** Every table a document marks. */
export function markedTables(markdown: string): MarkedTable[] {
  return [...markdown.matchAll(REGION)].map((m) => ({ kind: m[2] as TableKind, name: m[3]! }));
}

/** The document with every marked table made afresh (a blank line before the end marker). */
export function refreshTables(markdown: string, registry: RegistryView): string {
  return markdown.replace(REGION, (_all, open: string, kind: TableKind, name: string, _old: string, close: string) => `${open}${renderTable(kind, name, registry)}${close}`);
}
