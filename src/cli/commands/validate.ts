// `chaoscast validate`: load every file, report every problem, touch nothing.

import { displayPath } from "../../util/display-path.js";
import { ExperimentError, formatProblem } from "../../errors.js";
import { expandPaths, loadExperiment } from "../../experiment/loader.js";
import { makeStyle } from "../render/style.js";
import { makeRedactor } from "../../contract/redact.js";
import { checkVarFlagsUsed, parseVarFlags, registry, type CommonOptions } from "../shared.js";
import type { CompiledExperiment } from "../../contract/compiled-experiment.js";
import { forTerminal, terminalSafeJson } from "../../util/terminal-text.js";
import { formatAnnotation, underGitHubActions } from "../../report/github.js";

export async function validateCommand(paths: string[], options: CommonOptions): Promise<number> {
  const files = await expandPaths(paths);
  const vars = { cli: parseVarFlags(options.var), env: process.env };
  const style = makeStyle(process.stdout, options.color);
  const results: { file: string; valid: boolean; title?: string; problems: ReturnType<typeof toJson>[] }[] = [];
  const loaded: CompiledExperiment[] = [];
  for (const file of files) {
    const shown = displayPath(file);
    try {
      const experiment = await loadExperiment(file, { registry, vars });
      // The SLO file of a budget gate is part of the experiment's input.
      if (experiment.budget) await (await import("../../slo/gate.js")).sloOfExperiment(experiment);
      loaded.push(experiment);
      const title = makeRedactor(experiment.secrets)(experiment.title);
      results.push({ file: shown, valid: true, title, problems: [] });
      if (options.output !== "json") process.stdout.write(`${style.green("✔")} ${forTerminal(shown)}: ${forTerminal(title)}\n`);
    } catch (err) {
      if (!(err instanceof ExperimentError)) throw err;
      results.push({ file: shown, valid: false, problems: err.problems.map(toJson) });
      if (options.output !== "json") {
        process.stdout.write(`${style.red("✖")} ${forTerminal(shown)}: ${err.problems.length} problem(s)\n`);
        // The header and its details on one stream, so neither a pipe nor 2>/dev/null separates them.
        for (const problem of err.problems) process.stdout.write(`  ${forTerminal(formatProblem(problem))}\n`);
      }
      if (underGitHubActions()) {
        for (const p of err.problems) {
          const annotation = formatAnnotation({ level: "error", file: p.file, ...(p.line !== undefined ? { line: p.line } : {}), ...(p.col !== undefined ? { col: p.col } : {}), title: "chaoscast: invalid experiment", message: `${p.path ? `${p.path}: ` : ""}${p.message}` });
          process.stdout.write(`${forTerminal(annotation.trimEnd())}\n`);
        }
      }
    }
  }
  const invalid = results.filter((r) => !r.valid).length;
  if (invalid === 0) checkVarFlagsUsed(vars.cli, loaded);
  if (options.output === "json") process.stdout.write(`${terminalSafeJson({ valid: invalid === 0, files: results }, 2)}\n`);
  else if (files.length > 1) process.stdout.write(`${files.length - invalid} of ${files.length} file(s) valid\n`);
  return invalid === 0 ? 0 : 4;
}

function toJson(problem: ExperimentError["problems"][number]) {
  return { line: problem.line ?? null, col: problem.col ?? null, path: problem.path, message: problem.message };
}
