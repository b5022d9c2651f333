// The checks of compile.ts that do not need a valid document, run when the schema has already
// failed: an unknown action in one fault must not hide a bad expectation, a duplicate name or an
// unknown target elsewhere in the file. Each reads the raw value defensively; compile.ts still
// runs them all again on a valid document.

import type { RegistryView } from "../contract/registry-view.js";
import { checkExpectation, checkUnique, type SemanticProblem } from "./compile.js";

type Entry = Record<string, unknown>;

const isEntry = (value: unknown): value is Entry => typeof value === "object" && value !== null && !Array.isArray(value);

export function salvageChecks(value: unknown, registry: RegistryView): SemanticProblem[] {
  const problems: SemanticProblem[] = [];
  if (!isEntry(value)) return problems;
  const list = (key: string): [number, Entry][] => (Array.isArray(value[key]) ? (value[key] as unknown[]).flatMap((e, i) => (isEntry(e) ? [[i, e] as [number, Entry]] : [])) : []);

  for (const [i, entry] of list("steadyState")) {
    const probe = typeof entry.probe === "string" ? registry.probes.get(entry.probe) : undefined;
    if (probe && entry.expect !== undefined) problems.push(...checkExpectation(probe, entry.expect, ["steadyState", i]).problems);
  }
  for (const [key, what] of [["faults", "fault"], ["steadyState", "probe"]] as const) {
    const named = list(key).filter(([, e]) => typeof e.name === "string");
    const found: SemanticProblem[] = [];
    checkUnique(named.map(([, e]) => e.name as string), [key], what, found);
    // checkUnique counts positions among the named entries; point at the entries' real positions.
    for (const p of found) problems.push({ ...p, path: [key, named[p.path[1] as number]![0], "name"], message: p.message.replace(/\[(\d+)\]/, (_, n: string) => `[${named[Number(n)]![0]}]`) });
  }
  if (isEntry(value.targets)) {
    const declared = Object.keys(value.targets);
    for (const key of ["faults", "rollbacks"]) {
      for (const [i, entry] of list(key)) {
        if (typeof entry.target === "string" && !declared.includes(entry.target)) {
          problems.push({ path: [key, i, "target"], message: `unknown target "${entry.target}"; declared targets: ${declared.slice(0, 10).join(", ") || "none"}` });
        }
      }
    }
  }
  return problems;
}
