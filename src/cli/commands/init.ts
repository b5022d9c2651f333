// `chaoscast init`: write a commented, valid starting experiment (a local process, the fault
// proxy, Docker or Kubernetes), or a ready-made CI job (GitHub Actions, GitLab CI).

import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { didYouMean } from "../../util/did-you-mean.js";
import { UnsafeTargetError, writeFileAtomic } from "../../util/atomic-file.js";
import { forTerminal } from "../../util/terminal-text.js";
import path from "node:path";
import { UsageError } from "../../errors.js";
import type { CommonOptions } from "../shared.js";

export const STARTER_EXPERIMENT = `# yaml-language-server: $schema=./node_modules/chaoscast/schema/experiment.schema.json
# A starting experiment: freeze the service listening on port 8080 for 10 seconds and check that
# its health endpoint keeps answering. Adjust the port, the URL and the expectations, then:
#   chaoscast validate THIS_FILE && chaoscast plan THIS_FILE && chaoscast run THIS_FILE
version: 1
title: The API keeps answering while one instance is frozen
description: Suspends the process listening on the API port (SIGSTOP) and resumes it (SIGCONT).
tags: [starter]
vars:
  port: 8080                       # override with --var port=9090
duration: 10s                      # how long the method lasts
targets:
  api:
    process: { port: "\${vars.port}" }
steadyState:
  - name: health endpoint answers
    probe: http
    with: { url: "http://127.0.0.1:\${vars.port}/health", timeout: 500ms }
    expect: { status: "200..299", latencyMs: "< 300" }
abort:
  interval: 500ms                  # probes run this often while faults are active
  after: 2                         # this many breaches in a row abort and roll back
faults:
  - name: freeze the api
    target: api
    action: process.suspend
    at: 2s
    duration: 5s
recovery: { timeout: 15s }
`;

/** What `init --template` writes: the starter above, or a file of templates/, and where by default. */
export const TEMPLATES = {
  process: { file: "chaoscast-experiment.yaml", source: null, experiment: true, about: "freeze a local process (the default)" },
  proxy: { file: "chaoscast-proxy.yaml", source: "experiments/proxy.yaml", experiment: true, about: "CDN-edge latency through the fault proxy" },
  docker: { file: "chaoscast-docker.yaml", source: "experiments/docker.yaml", experiment: true, about: "kill one container of a service" },
  kubernetes: { file: "chaoscast-kubernetes.yaml", source: "experiments/kubernetes.yaml", experiment: true, about: "delete one pod of a Deployment" },
  "github-actions": { file: ".github/workflows/chaoscast.yml", source: "ci/github-actions.yml", experiment: false, about: "a smoke-chaos workflow for GitHub Actions" },
  "gitlab-ci": { file: "chaoscast.gitlab-ci.yml", source: "ci/gitlab-ci.yml", experiment: false, about: "a smoke-chaos job for GitLab CI" },
} as const;

export type TemplateName = keyof typeof TEMPLATES;

const TEMPLATES_DIR = path.resolve(import.meta.dirname, "../../../templates");

export async function templateText(name: TemplateName): Promise<string> {
  const source = TEMPLATES[name].source;
  return source === null ? STARTER_EXPERIMENT : readFile(path.join(TEMPLATES_DIR, source), "utf8");
}

const SCENARIOS_DIR = path.resolve(import.meta.dirname, "../../../experiments/scenarios");

/** The scenario library: experiments/scenarios/*.yaml, by name. */
export async function scenarioNames(): Promise<string[]> {
  return (await readdir(SCENARIOS_DIR)).filter((f) => f.endsWith(".yaml")).map((f) => f.replace(/\.yaml$/, "")).sort();
}

/** What `init` writes and where: a template, or a scenario of the library (`--from`). */
async function chosen(fileOption: string | undefined, options: { template?: string; from?: string }): Promise<{ file: string; text: string; experiment: boolean }> {
  if (options.from !== undefined) {
    const names = await scenarioNames();
    if (!names.includes(options.from)) {
      throw new UsageError(`--from ${forTerminal(options.from)}: no such scenario${didYouMean(options.from, names)}; scenarios: ${names.join(", ")}`);
    }
    return { file: fileOption ?? `${options.from}.yaml`, text: await readFile(path.join(SCENARIOS_DIR, `${options.from}.yaml`), "utf8"), experiment: true };
  }
  const name = (options.template ?? "process") as TemplateName;
  if (!(name in TEMPLATES)) throw new UsageError(`--template ${forTerminal(name)}: expected one of ${Object.keys(TEMPLATES).join(", ")}`);
  return { file: fileOption ?? TEMPLATES[name].file, text: await templateText(name), experiment: TEMPLATES[name].experiment };
}

export async function initCommand(fileOption: string | undefined, options: CommonOptions & { force?: boolean; template?: string; from?: string }): Promise<number> {
  if (options.from !== undefined && options.template !== undefined && options.template !== "process") throw new UsageError("--from and --template each name what to write: give one");
  if (options.from === "") throw new UsageError("--from: expected a scenario name, or list");
  if (options.from === "list") {
    if (fileOption !== undefined) throw new UsageError("--from list writes nothing: drop the file name");
    for (const name of await scenarioNames()) {
      const text = await readFile(path.join(SCENARIOS_DIR, `${name}.yaml`), "utf8");
      const teaches = /^# What it teaches: (.*)$/m.exec(text)?.[1] ?? "";
      process.stdout.write(`${name.padEnd(24)} ${teaches}\n`);
    }
    return 0;
  }
  const template = await chosen(fileOption, options);
  const file = template.file;
  await mkdir(path.dirname(file), { recursive: true });
  const content = template.text.replaceAll("THIS_FILE", file);
  const shown = forTerminal(file);
  try {
    // --force replaces a regular file (never writing through a link, never a device); without it,
    // "wx" creates the file only if nothing, not even a dangling link, is there.
    if (options.force) await writeFileAtomic(file, content, 0o644);
    else await writeFile(file, content, { flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new UsageError(`${shown} already exists; use --force to overwrite it`);
    if (err instanceof UnsafeTargetError) throw new UsageError(`cannot write ${shown}: ${forTerminal(err.found)}; chaoscast only replaces regular files`);
    throw err;
  }
  const next = template.experiment ? `chaoscast validate ${shown} && chaoscast plan ${shown}` : "put your experiments in chaos/, check them with chaoscast validate chaos/, and commit this file";
  process.stdout.write(`wrote ${shown}\nnext: ${next}\n`);
  return 0;
}
