// `chaoscast demo --viewers`: a whole number; 0 means no synthetic viewers, and only for `demo up`
// (the game day judges playback by its viewers). Prometheus is left out to keep these quick.

import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { CLI, runCli, waitForOutput, workdir } from "../helpers/processes.js";

describe("chaoscast demo --viewers", () => {
  it("refuses what is not a whole number from 0 to 5000, and 0 for the game day, before starting anything (exit 4)", async () => {
    const dir = workdir();
    for (const [value, message] of [
      ["ten", /--viewers ten: expected a whole number of synthetic viewers from 0 to 5000/],
      ["-3", /--viewers -3: expected a whole number/],
      ["1.5", /--viewers 1\.5: expected a whole number/],
      ["9999", /--viewers 9999: expected a whole number of synthetic viewers from 0 to 5000/],
      ["0", /--viewers 0: the game day judges playback by its viewers; 0 works with demo up/],
    ] as const) {
      const result = await runCli(["demo", "--viewers", value], { cwd: dir, env: { CHAOSCAST_DEMO_PROMETHEUS: "off" } });
      expect(result.exitCode, result.all).toBe(4);
      expect(result.stderr).toMatch(message);
      expect(result.stdout).not.toMatch(/Starting the embedded OTT stack/);
    }
  });

  it("starts demo up with no viewers at all for --viewers 0, and stops on Ctrl-C", async () => {
    const dir = workdir();
    const child = execa(process.execPath, [CLI, "demo", "up", "--viewers", "0"], {
      cwd: dir,
      env: { CI: "1", NO_COLOR: "1", CHAOSCAST_DIR: path.join(dir, ".chaoscast"), CHAOSCAST_DEMO_PROMETHEUS: "off" },
      reject: false,
      stdin: "ignore",
    });
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await waitForOutput(child, "--var duration=", 60_000);
    expect(output).toContain("viewers          none (--viewers 0)");
    child.kill("SIGINT");
    const result = await child;
    expect(result.exitCode, output).toBe(0);
  });
});
