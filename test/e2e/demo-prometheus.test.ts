// `chaoscast demo up` and its Prometheus: started on 127.0.0.1 scraping every service, named in
// the run line it prints, and never left behind — not after a Ctrl-C, and not after a kill -9 of
// chaoscast (its guard notices the closed pipe). The game day's SLO experiment is in demo.test.ts.
// Skips with a note where no prometheus binary is found, unless CHAOSCAST_REQUIRE_SERVICES=1; the
// last test (Prometheus switched off) runs everywhere.

import { mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { CLI, pollUntil, processesMentioning, waitForOutput, workdir } from "../helpers/processes.js";
import { prometheusAvailability } from "../helpers/prometheus.js";

const available = await prometheusAvailability();


/** `demo up` with its temporary files (Prometheus's among them) under a TMPDIR of the test's own. */
function demoUp(env: Record<string, string> = {}) {
  const dir = workdir();
  const tmp = path.join(dir, "tmp");
  mkdirSync(tmp);
  const child = execa(process.execPath, [CLI, "demo", "up", "--viewers", "20"], {
    cwd: dir,
    env: { CI: "1", NO_COLOR: "1", CHAOSCAST_DIR: path.join(dir, ".chaoscast"), TMPDIR: tmp, ...env },
    reject: false,
    stdin: "ignore",
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return {
    child,
    tmp,
    output: () => output,
    // The run line comes last, after Prometheus's line.
    ready: () => waitForOutput(child, "--var duration=20s", 60_000),
    /** The demo's Prometheus processes (the guard and Prometheus itself). */
    processes: () => processesMentioning(path.join(tmp, "chaoscast-demo-prometheus-")),
    /** Prometheus's temporary directories still there. */
    leftDirs: () => readdirSync(tmp).filter((f) => f.startsWith("chaoscast-demo-prometheus-")),
  };
}

describe.skipIf(!available)("chaoscast demo up with Prometheus", () => {
  it("starts Prometheus scraping every service, passes it to the run line, and a Ctrl-C stops it and removes its files", async () => {
    const demo = demoUp();
    try {
      await demo.ready();
      const url = /Prometheus +(http:\/\/127\.0\.0\.1:\d+) +scraping/.exec(demo.output())?.[1];
      expect(url, demo.output()).toBeDefined();
      expect(demo.output()).toContain(`--var prometheus=${url}`);
      // Ready means every target has been scraped once: each service of the stack is a job, up.
      const up = (await (await fetch(`${url}/api/v1/query?query=up`)).json()) as { data: { result: { metric: { job: string; instance: string }; value: [number, string] }[] } };
      expect(Object.fromEntries(up.data.result.map((s) => [s.metric.job, s.value[1]]))).toEqual({ origin: "1", edge: "1", payment: "1", recommendations: "1", "playback-api": "1", viewers: "1" });
      expect(up.data.result.every((s) => s.metric.instance.startsWith("127.0.0.1:"))).toBe(true);
      expect(demo.processes().some((p) => p.includes(`--web.listen-address=127.0.0.1:${new URL(url!).port}`))).toBe(true);

      demo.child.kill("SIGINT");
      const result = await demo.child;
      expect(result.exitCode, demo.output()).toBe(0);
      expect(demo.processes()).toEqual([]);
      expect(demo.leftDirs()).toEqual([]);
      await expect(fetch(`${url}/-/ready`)).rejects.toThrow();
    } finally {
      demo.child.kill("SIGKILL");
    }
  }, 90_000);

  it("leaves no Prometheus when chaoscast itself is killed (kill -9): the guard stops it and removes its files", async () => {
    const demo = demoUp();
    try {
      await demo.ready();
      expect(demo.processes().length).toBeGreaterThan(0);
      demo.child.kill("SIGKILL");
      await demo.child;
      await pollUntil(() => demo.processes().length === 0 && demo.leftDirs().length === 0, 15_000, "the demo's Prometheus gone, with its directory", 100);
    } finally {
      demo.child.kill("SIGKILL");
    }
  }, 90_000);
});

describe("chaoscast demo up with Prometheus switched off", () => {
  it("says in one line that the SLO experiment is skipped and how to add Prometheus, and leaves it out of the run line", async () => {
    const demo = demoUp({ CHAOSCAST_DEMO_PROMETHEUS: "off" });
    try {
      await demo.ready();
      expect(demo.output()).toMatch(/\n {2}Prometheus +not found \(CHAOSCAST_DEMO_PROMETHEUS=off\), so 08-slo-budget\.yaml is skipped \(apt-get install prometheus adds it\)\n/);
      expect(demo.output()).not.toContain("--var prometheus=");
      expect(demo.processes()).toEqual([]);
      demo.child.kill("SIGINT");
      expect((await demo.child).exitCode, demo.output()).toBe(0);
    } finally {
      demo.child.kill("SIGKILL");
    }
  }, 90_000);
});
