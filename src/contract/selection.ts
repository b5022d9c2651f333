// Choosing which of the resolved candidates a fault hits: all of them, a count, or a percentage,
// bounded by min/max. The choice is seeded so that `plan` and `run` with the same seed agree.

import { z } from "zod";
import { PercentSchema } from "./common-schemas.js";
import { seededRandom } from "../util/random.js";

export const SelectionSchema = z
  .object({
    count: z.int().min(1).optional().meta({ description: "Choose this many (all of them if fewer are found)." }),
    percent: PercentSchema.optional().meta({ description: "Choose this share of the candidates, rounded up (10% of 5 → 1)." }),
    min: z.int().min(0).optional().meta({ description: "Choose at least this many; if fewer candidates exist, the run is skipped." }),
    max: z.int().min(1).optional().meta({ description: "Never choose more than this many." }),
    seed: z.union([z.string(), z.int()]).optional().meta({ description: "Makes the choice reproducible; overrides --seed." }),
  })
  .strict()
  .refine((s) => s.percent === undefined || s.percent > 0, { message: "percent must be more than 0 (remove the fault instead)", path: ["percent"] })
  .refine((s) => !(s.count !== undefined && s.percent !== undefined), {
    message: "give either count or percent, not both",
    path: ["percent"],
  })
  .refine((s) => s.min === undefined || s.max === undefined || s.min <= s.max, {
    message: "min is greater than max",
    path: ["min"],
  });

export type Selection = z.output<typeof SelectionSchema>;

export interface SelectionResult<T> {
  chosen: T[];
  /** Why fewer than asked, or why none: a sentence for the user. Undefined when all is well. */
  problem?: string;
}

/** Pure: candidates in, chosen subset out. Candidates are ordered by id first so the seed alone decides. */
export function selectTargets<T extends { id: string }>(
  candidates: readonly T[],
  selection: Selection | undefined,
  seed: string,
): SelectionResult<T> {
  const sorted = [...candidates].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let wanted = sorted.length;
  if (selection?.count !== undefined) wanted = Math.min(selection.count, sorted.length);
  // percent × n / 100 in that order, with a little slack: 0.28 × 25 is 7.000000000000001 in floating point.
  if (selection?.percent !== undefined) wanted = Math.ceil((selection.percent * sorted.length) / 100 - 1e-9);
  if (selection?.max !== undefined) wanted = Math.min(wanted, selection.max);
  if (selection?.min !== undefined && wanted < selection.min) {
    if (sorted.length < selection.min) {
      return { chosen: [], problem: `needs at least ${selection.min} target(s) but only ${sorted.length} found` };
    }
    wanted = selection.min;
  }
  const random = seededRandom(String(selection?.seed ?? seed));
  const shuffled = [...sorted];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  const chosen = shuffled.slice(0, wanted).sort((a, b) => (a.id < b.id ? -1 : 1));
  return { chosen };
}
