// Turns zod's issues into sentences for people: where, what was expected, what was found, and a
// "did you mean" for misspelt keys, actions and probes.

import type { z } from "zod";
import { didYouMean } from "../util/did-you-mean.js";
import { describeValue } from "../util/describe.js";
import { lookupPath, knownKeysAt } from "./schema-walk.js";

export interface IssueReport {
  path: (string | number)[];
  message: string;
  at: "value" | "key";
}

const ZOD_DEFAULT = /^(Invalid|Too (small|big)|Unrecognized key)/;

export function explainIssue(issue: z.core.$ZodIssue, root: unknown, schema: z.ZodType): IssueReport[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  const found = lookupPath(root, path);
  const custom = !ZOD_DEFAULT.test(issue.message);
  switch (issue.code) {
    case "unrecognized_keys": {
      const known = knownKeysAt(schema, path, root);
      return issue.keys.map((key) => ({
        path: [...path, key],
        at: "key" as const,
        message: `unknown key "${key}"${didYouMean(key, known)}${known.length ? `; expected one of: ${known.join(", ")}` : ""}`,
      }));
    }
    case "invalid_type": {
      if (found === undefined) {
        const key = path[path.length - 1];
        return [{ path, at: "value", message: `missing required key "${String(key)}"` }];
      }
      if (custom) return [{ path, at: "value", message: issue.message }];
      // YAML reads 1e999 (or a port pasted twice) as Infinity, and .nan as NaN: neither is a usable number.
      const shown = typeof found === "number" && !Number.isFinite(found) ? `${describeValue(found)} (${Number.isNaN(found) ? "not a number" : "too large to be a number"})` : describeValue(found);
      return [{ path, at: "value", message: `expected ${article(issue.expected)}, found ${shown}` }];
    }
    case "invalid_union": {
      if ("discriminator" in issue && issue.discriminator) {
        const kind = String(issue.discriminator);
        const options = ((issue as { options?: unknown[] }).options ?? []).map(String);
        if (found === undefined) {
          return [{ path, at: "value", message: `missing "${kind}": expected one of: ${options.join(", ")}` }];
        }
        const what = `unknown ${kind} ${describeValue(found)}`;
        return [
          {
            path,
            at: "value",
            message: `${what}${typeof found === "string" ? didYouMean(found, options) : ""}; known ${kind}s: ${options.join(", ")}`,
          },
        ];
      }
      if (custom) return [{ path, at: "value", message: issue.message }];
      // A branch whose problems all lie deeper in accepted the value's type: its problems are the real ones
      // (a list inside an expect mapping), not "the mapping is not accepted".
      const deeper = issue.errors.find((branch) => branch.length > 0 && branch.every((inner) => inner.path.length > 0));
      if (deeper) return deeper.flatMap((inner) => explainIssue({ ...inner, path: [...issue.path, ...inner.path] }, root, schema));
      const expected = issue.errors.flatMap((branch) => branch.filter((inner) => inner.code === "invalid_type" && inner.path.length === 0).map((inner) => article((inner as { expected: string }).expected)));
      if (expected.length === issue.errors.length) return [{ path, at: "value", message: `expected ${listOr(expected)}, found ${describeValue(found)}` }];
      return [{ path, at: "value", message: `found ${describeValue(found)}, which is not an accepted form here` }];
    }
    case "invalid_key": {
      // A key of a free-form mapping (targets, vars) that breaks its naming rule: say the rule, at the key.
      const rule = issue.issues.find((inner) => !ZOD_DEFAULT.test(inner.message))?.message ?? "not an accepted key here";
      return [{ path, at: "key", message: `${rule}, found ${describeValue(String(path[path.length - 1] ?? ""))}` }];
    }
    case "invalid_value": {
      if (custom) return [{ path, at: "value", message: issue.message }];
      const options = issue.values.map((v) => JSON.stringify(v)).join(", ");
      return [{ path, at: "value", message: `expected ${issue.values.length > 1 ? "one of " : ""}${options}, found ${describeValue(found)}` }];
    }
    case "too_small":
    case "too_big": {
      if (custom) return [{ path, at: "value", message: issue.message }];
      const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
      const word = issue.code === "too_small" ? "at least" : "at most";
      const unit = issue.origin === "array" ? " item(s)" : issue.origin === "string" ? " character(s)" : "";
      return [{ path, at: "value", message: `expected ${word} ${String(bound)}${unit}, found ${describeValue(found)}` }];
    }
    case "invalid_format":
      return [{ path, at: "value", message: custom ? issue.message : `expected text in the ${issue.format} format, found ${describeValue(found)}` }];
    default:
      return [{ path, at: "value", message: issue.message }];
  }
}

function article(type: string): string {
  const names: Record<string, string> = {
    object: "a mapping",
    array: "a list",
    string: "text",
    number: "a number",
    int: "a whole number",
    boolean: "true or false",
    record: "a mapping",
  };
  return names[type] ?? type;
}

function listOr(items: string[]): string {
  const unique = [...new Set(items.map((item) => (item === "true or false" ? "true/false" : item)))];
  return unique.length <= 1 ? (unique[0] ?? "") : `${unique.slice(0, -1).join(", ")} or ${unique[unique.length - 1]}`;
}
