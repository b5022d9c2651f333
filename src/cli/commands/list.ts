// `chaoscast list`: every action and probe with its parameters, straight from their schemas.

import { UsageError } from "../../errors.js";
import { paramRows } from "../../experiment/json-schema.js";
import { didYouMean } from "../../util/did-you-mean.js";
import { makeStyle } from "../render/style.js";
import { registry, type CommonOptions } from "../shared.js";
import { SelectionSchema } from "../../contract/selection.js";
import { forTerminal, terminalSafeJson } from "../../util/terminal-text.js";

export async function listCommand(what: string | undefined, options: CommonOptions): Promise<number> {
  const style = makeStyle(process.stdout, options.color);
  const actions = [...registry.actions.values()].map((a) => ({
    kind: "action" as const,
    name: a.name,
    description: a.description,
    target: a.target,
    reversible: a.reversible,
    params: paramRows(a.params),
    example: a.example,
  }));
  const probes = [...registry.probes.values()].map((p) => ({
    kind: "probe" as const,
    name: p.name,
    description: p.description,
    fields: p.fields,
    defaultExpect: p.defaultExpect,
    params: paramRows(p.params),
    example: p.example,
  }));
  const targets = [...registry.targetKinds.entries()].map(([kind, def]) => ({
    kind: "target" as const,
    name: kind,
    description: `${registry.adapters.find((a) => a.kind === kind)?.description ?? ""} Written as targets: { NAME: { ${kind}: { … }, select: { … } } }.`,
    params: paramRows(def.selector),
  }));
  const select = { kind: "target" as const, name: "select", description: "Optional in any target: which of the candidates found are hit.", params: paramRows(SelectionSchema) };
  let items = [...targets, select, ...actions, ...probes];
  if (what === "actions") items = actions;
  else if (what === "probes") items = probes;
  else if (what === "targets") items = [...targets, select];
  else if (what !== undefined) {
    // An adapter kind (`list docker`) shows its target, its actions (`docker.*`) and its probes.
    items = items.filter((i) => i.name === what || i.name.startsWith(`${what}.`) || (i.kind === "target" && i.name === what));
    if (items.length === 0) {
      const names = [...actions, ...probes].map((i) => i.name);
      // Quoted as one escaped line: main() keeps a message's line breaks, so a value must not bring its own.
      throw new UsageError(`no action or probe named "${forTerminal(what)}"${didYouMean(what, names)}; try: chaoscast list`);
    }
  }
  if (options.output === "json") {
    process.stdout.write(`${terminalSafeJson(items, 2)}\n`);
    return 0;
  }
  const out: string[] = [];
  const headings = { target: "TARGETS (targets:  NAME: { KIND: … })", action: "ACTIONS (faults:  action: NAME)", probe: "PROBES (steadyState:  probe: NAME)" };
  for (const section of ["target", "action", "probe"] as const) {
    const group = items.filter((i) => i.kind === section);
    if (group.length === 0) continue;
    out.push(style.bold(headings[section]));
    for (const item of group) {
      const meta = item.kind === "action" ? ` ${style.dim(`[target: ${item.target ?? "none"}; reversible: ${item.reversible}]`)}` : "";
      out.push(`  ${style.cyan.bold(item.name)}${meta}`);
      out.push(`    ${item.description}`);
      for (const p of item.params) {
        const dflt = p.default !== undefined ? ` (default ${JSON.stringify(p.default)})` : p.required ? " (required)" : "";
        out.push(`      ${p.name.padEnd(14)} ${style.dim(p.type.padEnd(18))} ${p.description}${dflt}`);
      }
      if (item.kind === "probe") {
        out.push(`      ${style.dim("fields for expect:")} ${Object.entries(item.fields).map(([f, d]) => `${f} (${d})`).join(", ")}`);
        out.push(`      ${style.dim("default expect:")} ${JSON.stringify(item.defaultExpect)}`);
      }
      if ("example" in item) out.push(`      ${style.dim("example with:")} ${JSON.stringify(item.example)}`);
    }
    out.push("");
  }
  process.stdout.write(`${out.join("\n")}\n`);
  return 0;
}
