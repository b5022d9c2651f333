import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseExperiment } from "../../src/experiment/loader.js";
import { registry } from "../../src/registry.js";
import { parsePolicy } from "../../src/policy/file.js";
import { parseSlos } from "../../src/slo/file.js";
import { docPages, readDoc } from "../helpers/docs.js";

// Docs that cannot rot: every yaml/json example in the docs (every page, found by itself) is a
// complete experiment that the real loader accepts, and every action and probe has at least one.
const DOCS = docPages();

function examples(file: string): { lang: string; text: string; line: number }[] {
  const text = readDoc(file);
  const found: { lang: string; text: string; line: number }[] = [];
  const fence = /^```(yaml|json)\n([\s\S]*?)^```/gm;
  for (const match of text.matchAll(fence)) {
    found.push({ lang: match[1]!, text: match[2]!, line: text.slice(0, match.index).split("\n").length });
  }
  return found;
}

/** A block whose first key is `policy:` is a .chaoscast.yaml, not an experiment. */
const isPolicy = (text: string) => /^policy:/m.test(text) && !/^version:/m.test(text);
/** An SLO file: chaoscast's short form, or an OpenSLO document (checked by the SLO reader, not as a manifest). */
const isSlo = (text: string) => /^slo:/m.test(text) || /^apiVersion: openslo\/v1$/m.test(text);
/** A CI pipeline shown for users to copy says which file it is on its first line. */
const isCiFile = (text: string) => /^# (\.github\/workflows\/|\.gitlab-ci\.yml)/.test(text);
/** A block with apiVersion and kind is a Kubernetes manifest (RBAC, a CronJob), shown for users to apply. */
const isManifest = (text: string) => /^apiVersion:/m.test(text) && /^kind:/m.test(text);

/** An AWS IAM policy document (docs/adapters/aws.md's least privilege). */
const isIamPolicy = (text: string) => /"Version":\s*"2012-10-17"/.test(text);

/** A manifest must at least be one YAML document naming what it is. */
function checkManifest(text: string): void {
  const doc = parseYaml(text) as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } };
  expect(typeof doc.apiVersion).toBe("string");
  expect(typeof doc.kind).toBe("string");
  expect(typeof doc.metadata?.name).toBe("string");
}

describe.each(DOCS.filter((file) => examples(file).length > 0))("examples in %s", (file) => {
  it.each(examples(file).map((e) => [`${e.lang} block at line ${e.line}`, e] as const))("%s is a valid experiment, policy file or manifest", (_name, example) => {
    const where = `${file}:${example.line}`;
    if (isSlo(example.text)) expect(parseSlos(example.text, where).length).toBeGreaterThan(0);
    else if (isCiFile(example.text)) expect(() => parseYaml(example.text)).not.toThrow();
    else if (isIamPolicy(example.text)) expect((JSON.parse(example.text) as { Statement: unknown[] }).Statement.length).toBeGreaterThan(0);
    else if (isManifest(example.text)) checkManifest(example.text);
    else if (isPolicy(example.text)) expect(Object.keys(parsePolicy(example.text, where).limits).length).toBeGreaterThan(0);
    else expect(() => parseExperiment(example.text, where, { registry, vars: { cli: {}, env: {} } })).not.toThrow();
  });
});

describe("the docs", () => {
  it("have an example for every action and every probe", () => {
    const all = DOCS.flatMap((file) => examples(file)).map((e) => e.text).join("\n");
    const missing = [
      ...[...registry.actions.keys()].filter((name) => !new RegExp(`"?action"?: "?${name.replace(".", "\\.")}\\b`).test(all)),
      ...[...registry.probes.keys()].filter((name) => !new RegExp(`"?probe"?: "?${name}\\b`).test(all)),
    ];
    expect(missing).toEqual([]);
  });
});
