// Reading a zod schema by path, to list the keys that are valid at a place in the document (for
// "did you mean"). zod exposes its definitions under `_zod.def`; only that is read.

import type { z } from "zod";

type Def = { type: string; [key: string]: unknown };

function defOf(schema: unknown): Def | undefined {
  const zod = (schema as { _zod?: { def?: Def } } | undefined)?._zod;
  return zod?.def;
}

function unwrap(schema: unknown): unknown {
  for (let i = 0; i < 20; i++) {
    const def = defOf(schema);
    if (!def) return schema;
    if (["optional", "nullable", "default", "prefault", "catch", "readonly", "nonoptional"].includes(def.type)) schema = def.innerType;
    else if (def.type === "pipe") schema = def.in;
    else if (def.type === "lazy") schema = (def.getter as () => unknown)();
    else return schema;
  }
  return schema;
}

export function lookupPath(root: unknown, path: readonly (string | number)[]): unknown {
  let current = root;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

function chooseOption(def: Def, input: unknown): unknown {
  const options = (def.options as unknown[]) ?? [];
  const discriminator = def.discriminator as string | undefined;
  if (discriminator && input && typeof input === "object") {
    const wanted = (input as Record<string, unknown>)[discriminator];
    for (const option of options) {
      const shape = defOf(unwrap(option))?.shape as Record<string, unknown> | undefined;
      const literal = defOf(shape?.[discriminator])?.values as unknown[] | undefined;
      if (literal?.includes(wanted)) return option;
    }
  }
  return options.find((o) => defOf(unwrap(o))?.type === "object");
}

/** The keys an object schema accepts at `path`; empty when the place is not an object. */
export function knownKeysAt(schema: z.ZodType, path: readonly (string | number)[], root: unknown): string[] {
  let current: unknown = schema;
  for (let i = 0; i <= path.length; i++) {
    current = unwrap(current);
    let def = defOf(current);
    if (def?.type === "union") {
      current = unwrap(chooseOption(def, lookupPath(root, path.slice(0, i))));
      def = defOf(current);
    }
    if (i === path.length) {
      return def?.type === "object" ? Object.keys(def.shape as Record<string, unknown>) : [];
    }
    const segment = path[i]!;
    if (def?.type === "object") current = (def.shape as Record<string, unknown>)[String(segment)];
    else if (def?.type === "array") current = def.element;
    else if (def?.type === "record") current = def.valueType;
    else return [];
  }
  return [];
}
