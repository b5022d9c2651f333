// JSON Schema generated from the zod schemas: the experiment file as a whole (for editors), and
// each action's and probe's parameters as rows (for `chaoscast list` and the docs).

import { z } from "zod";
import type { RegistryView } from "../contract/registry-view.js";
import { buildExperimentSchema } from "./schema.js";

export function experimentJsonSchema(registry: RegistryView): Record<string, unknown> {
  const schema = z.toJSONSchema(buildExperimentSchema(registry), { io: "input", unrepresentable: "any", target: "draft-2020-12" });
  return { ...schema, title: "chaoscast experiment (format version 1)" };
}

export interface ParamRow {
  name: string;
  type: string;
  required: boolean;
  default: unknown;
  description: string;
}

type JsonSchema = { type?: string | string[]; enum?: unknown[]; anyOf?: JsonSchema[]; oneOf?: JsonSchema[]; items?: JsonSchema; description?: string; default?: unknown; pattern?: string; const?: unknown; properties?: Record<string, JsonSchema>; required?: string[]; format?: string };

function typeName(s: JsonSchema): string {
  if (s.enum) return s.enum.includes("SIGKILL") ? "signal name" : s.enum.map(String).join("|");
  if (s.anyOf || s.oneOf) return (s.anyOf ?? s.oneOf)!.map(typeName).join(" or ");
  if (s.type === "array") return `list of ${s.items ? typeName(s.items) : "values"}`;
  if (s.type === "object") return "mapping";
  if (s.format === "uri") return "url";
  if (s.pattern?.includes("ms|s|m|h")) return "duration";
  return Array.isArray(s.type) ? s.type.join("|") : (s.type ?? "any");
}

export function paramRows(params: z.ZodType): ParamRow[] {
  const json = z.toJSONSchema(params, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const required = new Set(json.required ?? []);
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    type: typeName(s),
    required: required.has(name) && s.default === undefined,
    default: s.default,
    description: s.description ?? "",
  }));
}
