// The parameter tables in the docs are generated from the schemas (npm run docs): these tests fail
// while a page is stale, while an action, probe or target kind has no table, and when a parameter
// table is kept by hand outside the markers.

import { describe, expect, it } from "vitest";
import { markedTables, refreshTables } from "../../src/experiment/docs-tables.js";
import { registry } from "../../src/registry.js";
import { docPages, readDoc } from "../helpers/docs.js";

const pages = docPages().map((page) => ({ page, text: readDoc(page) }));
const marked = pages.flatMap(({ text }) => markedTables(text)).map((t) => `${t.kind} ${t.name}`);

describe("the docs' parameter tables", () => {
  it.each(pages.map((p) => [p.page, p] as const))("in %s match the schemas (run npm run docs when this fails)", (_page, { text }) => {
    expect(refreshTables(text, registry)).toBe(text);
  });

  it("cover every action, probe and target kind", () => {
    const wanted = [
      ...[...registry.actions.keys()].map((name) => `params ${name}`),
      ...[...registry.probes.keys()].flatMap((name) => [`params ${name}`, `fields ${name}`]),
      ...[...registry.targetKinds.keys()].map((kind) => `target ${kind}`),
      "target select",
    ];
    expect(wanted.filter((w) => !marked.includes(w))).toEqual([]);
  });

  it("are never kept by hand outside the generated regions", () => {
    const handKept = pages.flatMap(({ page, text }) => {
      const outside = text.replace(/<!-- chaoscast:[\s\S]*?<!-- \/chaoscast -->/g, "");
      return [...outside.matchAll(/^\| (Parameter|Field) \|.*$/gm)].map((m) => `${page}: ${m[0]}`);
    });
    expect(handKept).toEqual([]);
  });

  it("name only what the registry has", () => {
    for (const { text } of pages) expect(() => refreshTables(text, registry)).not.toThrow();
  });
});
