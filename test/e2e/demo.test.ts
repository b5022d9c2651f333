import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { runCli, workdir } from "../helpers/processes.js";

type Journal = {
  file: string;
  outcome: string;
  faults: { action: string; status: string }[];
  events: { type: string; phase?: string; probe?: string; value?: unknown }[];
};

describe("chaoscast demo", () => {
  it("runs the game day against the embedded stack with every outcome as documented", async () => {
    const dir = workdir();
    // The default fleet: 160 viewers, so the 1% canary cohort has a member and 07 is a real test.
    const result = await runCli(["demo", "--duration", "5s"], { cwd: dir });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toMatch(/7 of 7 experiment\(s\) ended as documented/);
    // The game day's journals are kept with every run's, in the state directory, not in /tmp.
    const journalsDir = path.resolve(dir, /Journals: (\S+)/.exec(result.stdout)![1]!);
    expect(path.dirname(journalsDir)).toBe(path.join(dir, ".chaoscast", "runs"));
    const journals = readdirSync(journalsDir).map((f) => JSON.parse(readFileSync(path.join(journalsDir, f), "utf8")) as Journal);
    const byName = (name: string) => journals.find((j) => j.file.includes(name))!;
    // The origin 5xx burst aborts and its toxic was removed (the revert checks the proxy).
    expect(byName("02-origin-5xx")).toMatchObject({ outcome: "aborted", faults: [{ action: "proxy.http-error", status: "reverted" }] });
    // Playback passes while the payment link is really down, and it is brought back up after.
    expect(byName("03-payment-down")).toMatchObject({ outcome: "passed", faults: [{ action: "proxy.down", status: "reverted" }] });
    // The throttle forces a downshift, visible in the journal's bitrate observations.
    const bitrates = (phase: string) =>
      byName("05-bandwidth").events.filter((e) => e.type === "observation" && e.phase === phase && e.probe?.startsWith("mean viewer bitrate")).map((e) => Number(e.value));
    expect(Math.min(...bitrates("method"))).toBeLessThan(Math.max(...bitrates("steady-state-before")));
    // The canary cohort really was hit: segment errors were counted while 07 ran.
    expect(byName("07-canary").outcome).toBe("passed");
  }, 180_000);

  it("explains an unknown mode", async () => {
    const result = await runCli(["demo", "sideways"], { cwd: workdir() });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toMatch(/demo takes "up", "down" or nothing, found "sideways"/);
  });
});
