// The layering rule is a lint rule generated from scripts/layers.js: these tests prove it catches
// an import that runs upward, lets the allowed ones through, and covers every module of src/.

import { describe, expect, it } from "vitest";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
// @ts-expect-error: a plain JavaScript script, without type declarations
import { biomeOverrides, MODULES } from "../../scripts/layers.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const BIOME = path.join(ROOT, "node_modules", ".bin", "biome");

/** Lint one file placed at `file` (a path under src/) in a scratch tree with the project's biome.json. */
async function lintAt(file: string, source: string): Promise<{ failed: boolean; output: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), "chaoscast-layers-"));
  try {
    copyFileSync(path.join(ROOT, "biome.json"), path.join(dir, "biome.json"));
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), source);
    const result = await execa(BIOME, ["lint", "--error-on-warnings", "--colors=off", file], { cwd: dir, reject: false, all: true });
    return { failed: result.exitCode !== 0, output: result.all ?? "" };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("the layering rule", () => {
  it("knows every module of src/", () => {
    const modules = readdirSync(path.join(ROOT, "src"))
      .filter((name) => name !== "types") // ambient type declarations, imported by nothing
      .map((name) => name.replace(/\.ts$/, ""));
    expect(modules.filter((m) => !MODULES.includes(m))).toEqual([]);
  });

  it("is what biome.json holds, so editing one without the other fails", () => {
    const config = JSON.parse(readFileSync(path.join(ROOT, "biome.json"), "utf8")) as { overrides: unknown };
    expect(config.overrides).toEqual(biomeOverrides());
  });

  it.each([
    ["src/contract/probe.ts", "../engine/runner.js"],
    ["src/engine/probe.ts", "../experiment/loader.js"],
    ["src/experiment/probe.ts", "../engine/state.js"],
    ["src/util/probe.ts", "../contract/duration.js"],
    ["src/adapters/docker/probe.ts", "../../engine/rollback.js"],
    ["src/adapters/docker/probe.ts", "../../cli/main.js"],
    ["src/proxy/toxics/probe.ts", "../../adapters/proxy/client.js"],
    ["src/engine/probe.ts", "../registry.js"],
  ])("refuses %s importing %s", async (file, specifier) => {
    const { failed, output } = await lintAt(file, `import { x } from "${specifier}";\nexport const y = x;\n`);
    expect(failed, output).toBe(true);
    expect(output).toContain("Layering:");
  });

  it.each([
    ["src/engine/probe.ts", "../contract/adapter.js"],
    ["src/adapters/docker/probe.ts", "../proxy/client.js"],
    ["src/adapters/proxy/probe.ts", "../../proxy/address.js"],
    ["src/cli/commands/probe.ts", "../../engine/runner.js"],
    ["src/watchdog/probe.ts", "../registry.js"],
  ])("lets %s import %s", async (file, specifier) => {
    const { failed, output } = await lintAt(file, `import { x } from "${specifier}";\nexport const y = x;\n`);
    expect(failed, output).toBe(false);
  });
});
