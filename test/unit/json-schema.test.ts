import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { experimentJsonSchema } from "../../src/experiment/json-schema.js";
import { registry } from "../../src/registry.js";

describe("the JSON Schema shipped in schema/", () => {
  it("is generated from the current zod schema (run `npm run schema` when this fails)", () => {
    const checkedIn = JSON.parse(readFileSync(new URL("../../schema/experiment.schema.json", import.meta.url), "utf8")) as unknown;
    expect(checkedIn).toEqual(experimentJsonSchema(registry));
  });

  it("describes every action and probe", () => {
    const text = JSON.stringify(experimentJsonSchema(registry));
    for (const name of [...registry.actions.keys(), ...registry.probes.keys()]) expect(text).toContain(`"const":"${name}"`);
  });
});
