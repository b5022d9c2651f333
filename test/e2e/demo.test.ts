import { describe, expect, it } from "vitest";
import { mkdirSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { processesMentioning, runCli, workdir } from "../helpers/processes.js";
import { prometheusAvailability } from "../helpers/prometheus.js";

type Journal = {
  file: string;
  outcome: string;
  faults: { action: string; status: string }[];
  events: { type: string; t: number; phase?: string; probe?: string; value?: unknown; metric?: number }[];
  gates: { gate: string; status: string; detail: string }[];
  budget: { slo: string; before: { sli: number | null; remaining: number | null } | null; during: { sli: number | null; events: number } | null } | null;
};


describe("chaoscast demo", () => {
  it("runs the game day against the embedded stack with every outcome as documented", async () => {
    // With a prometheus binary the demo starts it and runs 08-slo-budget too; without one (a note
    // says so; CHAOSCAST_REQUIRE_SERVICES=1 fails instead) the game day is the other seven.
    const prometheus = await prometheusAvailability();
    const dir = workdir();
    // Prometheus's temporary directory goes under TMPDIR: here, so the test can see it removed.
    const tmp = path.join(dir, "tmp");
    mkdirSync(tmp);
    // The default fleet: 160 viewers, so the 1% canary cohort has a member and 07 is a real test.
    const result = await runCli(["demo", "--duration", "8s"], { cwd: dir, env: { TMPDIR: tmp } });
    expect(result.exitCode, result.all).toBe(0);
    const count = prometheus ? 12 : 11;
    expect(result.stdout).toMatch(new RegExp(`${count} of ${count} experiment\\(s\\) ended as documented`));
    // The game day's journals are kept with every run's, in the state directory, not in /tmp.
    const journalsDir = path.resolve(dir, /Journals: (\S+)/.exec(result.stdout)![1]!);
    expect(path.dirname(journalsDir)).toBe(path.join(dir, ".chaoscast", "runs"));
    const journals = readdirSync(journalsDir).map((f) => JSON.parse(readFileSync(path.join(journalsDir, f), "utf8")) as Journal);
    const byName = (name: string) => journals.find((j) => j.file.includes(name))!;
    // The origin 5xx burst (both regions) aborts and its toxics were removed (the revert checks the proxy).
    expect(byName("02-origin-5xx")).toMatchObject({ outcome: "aborted", faults: [{ action: "proxy.http-error", status: "reverted" }, { action: "proxy.http-error", status: "reverted" }] });
    // Region A down: the edge fails over to region B and the DR objective holds. Failover time: from
    // the fault to the first round in which region B had served the edge more than before.
    const drill = byName("09-region-failover");
    expect(drill).toMatchObject({ outcome: "passed", faults: [{ action: "proxy.down", status: "reverted" }] });
    const injectedAt = drill.events.find((e) => e.type === "fault-injected")!.t;
    const regionB = drill.events.filter((e) => e.type === "observation" && e.probe === "region B serves the edge");
    const baseline = regionB.filter((e) => e.phase === "steady-state-before").at(-1)!.metric!;
    const failedOver = regionB.find((e) => e.phase === "method" && e.metric! > baseline);
    expect(failedOver, JSON.stringify(regionB)).toBeDefined();
    process.stderr.write(`  region failover seen ${failedOver!.t - injectedAt} ms after region A went down (probe interval 1 s)\n`);
    // Playback passes while the payment link is really down, and it is brought back up after.
    expect(byName("03-payment-down")).toMatchObject({ outcome: "passed", faults: [{ action: "proxy.down", status: "reverted" }] });
    // The throttle forces a downshift, visible in the journal's bitrate observations. The gauge is
    // the rendition at the playhead, which plays what was loaded a buffer's length (about 6 s live)
    // earlier: the lower renditions show late in the method and in the recovery that follows.
    const bitrates = (...phases: string[]) =>
      byName("05-bandwidth").events.filter((e) => e.type === "observation" && phases.includes(e.phase ?? "") && e.probe?.startsWith("mean viewer bitrate")).map((e) => Number(e.value));
    expect(Math.min(...bitrates("method", "recovery"))).toBeLessThan(Math.max(...bitrates("steady-state-before")));
    // The canary cohort really was hit: segment errors were counted while 07 ran.
    expect(byName("07-canary").outcome).toBe("passed");
    // The cohort verdict: segment errors on the experiment cohort are caught by comparing it with
    // control, and a fault the players absorb makes no difference.
    type Verdict = { verdict: string; failedBeforeDetection: number | null; detail: string };
    const verdictOf = (name: string) => (byName(name) as unknown as { cohorts: Verdict | null }).cohorts;
    const caught = byName("10-cohort-errors-caught");
    expect(caught.outcome).toBe("aborted");
    expect(verdictOf("10-cohort-errors-caught")).toMatchObject({ verdict: "diverged", failedBeforeDetection: expect.any(Number) });
    expect(caught.faults.map((f) => f.status)).toEqual(["reverted", "reverted"]);
    expect(verdictOf("12-cohort-latency-no-difference")).toMatchObject({ verdict: "no-difference" });
    // The flash crowd overwhelms the single demo edge: aborted, the crowd stopped by its revert,
    // and the journal says what the surge reached.
    const crowd = byName("11-flash-crowd") as unknown as { outcome: string; events: { type: string; notes?: string[] }[] };
    expect(crowd.outcome).toBe("aborted");
    const reached = crowd.events.filter((e) => e.type === "fault-reverted").flatMap((e) => e.notes ?? []).find((n) => n.startsWith("surge reached"));
    expect(reached, JSON.stringify(crowd.events.filter((e) => e.type === "fault-reverted"))).toBeDefined();
    process.stderr.write(`  flash crowd: ${reached}\n`);
    process.stderr.write(`  cohort verdict: ${verdictOf("10-cohort-errors-caught")!.detail}\n  cohort verdict: ${verdictOf("12-cohort-latency-no-difference")!.detail}\n`);

    if (!prometheus) {
      expect(result.stdout).toMatch(/Prometheus +not found \(.*\), so 08-slo-budget\.yaml is skipped \(apt-get install prometheus adds it\)/);
      expect(result.stdout).toMatch(/– 08-slo-budget\.yaml +not run: it needs Prometheus/);
      return;
    }
    // The SLO experiment ran against the demo's Prometheus: its budget gate measured the SLO and
    // let it go ahead, the journal's budget records the SLI before and during, and its hypothesis
    // was read from Prometheus.
    const promUrl = /Prometheus +(http:\/\/127\.0\.0\.1:\d+) /.exec(result.stdout)?.[1];
    expect(promUrl, result.stdout).toBeDefined();
    const slo = byName("08-slo-budget");
    expect(slo.outcome).toBe("passed");
    expect(slo.gates.find((g) => g.gate === "budget")).toMatchObject({ status: "passed", detail: expect.stringMatching(/^SLO playback-start: SLI .* of the error budget left \(minimum 25%\)$/) });
    expect(slo.budget).toMatchObject({ slo: "playback-start", before: { remaining: expect.any(Number) }, during: { sli: expect.any(Number) } });
    expect(slo.budget!.before!.remaining!).toBeGreaterThanOrEqual(0.25);
    expect(slo.budget!.during!.events).toBeGreaterThan(0);
    const before = slo.events.filter((e) => e.type === "observation" && e.phase === "steady-state-before" && e.probe?.includes("from Prometheus"));
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((e) => Number(e.value) >= 0.95), JSON.stringify(before)).toBe(true);
    // And Prometheus stopped with the demo: no process, no directory, nothing on its port.
    expect(processesMentioning(path.join(tmp, "chaoscast-demo-prometheus-"))).toEqual([]);
    expect(readdirSync(tmp).filter((f) => f.startsWith("chaoscast-demo-prometheus-"))).toEqual([]);
    await expect(fetch(`${promUrl}/-/ready`)).rejects.toThrow();
  }, 300_000);

  it("explains an unknown mode", async () => {
    const result = await runCli(["demo", "sideways"], { cwd: workdir() });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toMatch(/demo takes "up", "down" or nothing, found "sideways"/);
  });
});
