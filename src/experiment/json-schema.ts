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

type JsonSchema = {
  title?: string;
  type?: string | string[];
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  description?: string;
  default?: unknown;
  pattern?: string;
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  propertyNames?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  required?: string[];
  format?: string;
  minimum?: number;
  maximum?: number;
};

function typeName(s: JsonSchema): string {
  // The shared units (contract/common-schemas.ts) carry their name as a title.
  if (s.title === "duration" || s.title === "percentage") return s.title;
  if (s.enum) return s.enum.includes("SIGKILL") ? "signal name" : `one of ${s.enum.map(String).join(", ")}`;
  if (s.anyOf || s.oneOf) return (s.anyOf ?? s.oneOf)!.map(typeName).join(" or ");
  if (s.type === "array") return `list of ${s.items ? typeName(s.items) : "values"}`;
  if (s.type === "integer") return wholeNumber(s);
  if (s.type === "object" && s.properties) return `mapping { ${Object.keys(s.properties).join(", ")} }`;
  if (s.type === "object" && s.propertyNames?.pattern?.includes("!#$%&")) return "HTTP headers (names are tokens; values are one line)";
  if (s.type === "object" && typeof s.additionalProperties === "object") return `mapping of ${typeName(s.additionalProperties)}`;
  if (s.type === "object") return "mapping";
  if (s.format === "uri") return "url";
  if (s.type === "string") return "text";
  const plain = (t: string) => (t === "string" ? "text" : t);
  return Array.isArray(s.type) ? s.type.map(plain).join(" or ") : plain(s.type ?? "any");
}

function wholeNumber(s: JsonSchema): string {
  if (s.minimum !== undefined && s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER) return `whole number ${s.minimum}..${s.maximum}`;
  if (s.minimum !== undefined) return `whole number ≥ ${s.minimum}`;
  return "whole number";
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
