// docs/events.md is the contract other tools parse the event stream by: it must name every event
// type src/contract/events.ts defines, and the version the code writes.

import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { EVENT_VERSION } from "../../src/contract/events.js";
import { readDoc } from "../helpers/docs.js";

const source = readFileSync(new URL("../../src/contract/events.ts", import.meta.url), "utf8");
const page = readDoc("docs/events.md");

describe("docs/events.md", () => {
  it("documents every event type of the stream", () => {
    const types = [...source.matchAll(/type: "([a-z-]+)"/g)].map((m) => m[1]!);
    expect(types.length).toBeGreaterThan(15);
    const missing = types.filter((type) => !page.includes(`| \`${type}\` |`));
    expect(missing).toEqual([]);
  });

  it("states the version the code writes", () => {
    expect(page).toContain(`(event version ${EVENT_VERSION})`);
    expect(page).toContain(`"eventVersion": ${EVENT_VERSION}`);
  });
});
