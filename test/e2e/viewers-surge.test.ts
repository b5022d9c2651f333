// viewers.surge through the real CLI against a local HLS server: requests arrive, the crowd grows
// along the ramp, stops when the run ends and leaves its figures in the journal; a SIGKILLed run's
// crowd ends with its channel; and a crowd is stopped by its token alone, never another one.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { findCrowds, startCrowd } from "../../src/adapters/viewers/crowd-process.js";
import { SURGE_MARKER, type CrowdConfig } from "../../src/adapters/viewers/protocol.js";
import { stopSurgeRevert } from "../../src/adapters/viewers/reverts.js";
import type { RunContext } from "../../src/contract/adapter.js";
import { holdsFor, pollUntil } from "../helpers/poll.js";
import { processesMentioning, readJournals, runCli, waitForOutput, workdir, writeExperiment } from "../helpers/processes.js";

/** A long VOD (10 min of 1 s segments): a viewer's session outlasts every test, so a master request is a viewer starting. */
const SEGMENTS = 600;
const MEDIA = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:1", "#EXT-X-PLAYLIST-TYPE:VOD", ...Array.from({ length: SEGMENTS }, (_, i) => ["#EXTINF:1.000,", `seg-${i}.ts`]).flat(), "#EXT-X-ENDLIST", ""].join("\n");
const MASTER = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=200000\nlow/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nhigh/index.m3u8\n";
const SEGMENT = Buffer.alloc(4_096, 0x47);

interface Counts {
  master: number;
  media: number;
  segment: number;
}
const counts: Counts = { master: 0, media: 0, segment: 0 };
const crowdRequests = () => counts.master + counts.media + counts.segment;

let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    // Only the crowd's requests are counted: the run's preflight and probes say who they are.
    const crowd = req.headers["user-agent"] === "chaoscast-viewers-surge";
    if (req.url === "/health") return res.end("ok");
    if (req.url === "/master.m3u8") {
      if (crowd) counts.master += 1;
      return res.end(MASTER);
    }
    if (req.url?.endsWith("/index.m3u8")) {
      if (crowd) counts.media += 1;
      return res.end(MEDIA);
    }
    if (req.url?.endsWith(".ts")) {
      if (crowd) counts.segment += 1;
      return res.end(SEGMENT);
    }
    res.statusCode = 404;
    res.end();
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const crowdProcesses = () => processesMentioning(SURGE_MARKER);

const experiment = (surge: string, duration: string) => `version: 1
title: A flash crowd on a local stream
duration: ${duration}
targets:
  crowd: { viewers: { url: "${base}/master.m3u8" } }
steadyState:
  - { name: the server answers, probe: http, with: { url: "${base}/health", timeout: 2s }, expect: { status: 200 } }
abort: { interval: 1s, after: 3 }
faults:
  - { name: flash crowd, target: crowd, action: viewers.surge, with: ${surge} }
`;

describe("viewers.surge through the CLI", () => {
  it("ramps viewers up against the server, stops them when the run ends, and journals what they reached", { timeout: 60_000 }, async () => {
    const dir = workdir();
    const before = { ...counts };
    const to = 120;
    const run = runCli(["run", "--yes", writeExperiment(dir, "surge.yaml", experiment(`{ to: ${to}, ramp: 6s }`, "12s"))], { cwd: dir });
    // How many viewers had started, seen from the server, while the run went on.
    const started: number[] = [];
    let done = false;
    void run.finally(() => {
      done = true;
    });
    await pollUntil(
      () => {
        started.push(counts.master - before.master);
        return done;
      },
      60_000,
      "the run to end",
      100,
    );
    const result = await run;
    expect(result.exitCode, result.all).toBe(0);

    // The ramp: viewers arrived over time (some sample saw the crowd part-way), up to `to` and never past it.
    const peak = Math.max(...started);
    expect(peak).toBeGreaterThanOrEqual(to * 0.9);
    expect(peak).toBeLessThanOrEqual(to);
    expect(started.some((n) => n >= to * 0.15 && n <= to * 0.85), `viewers started over time: ${started.join(",")}`).toBe(true);
    // Real load: each viewer fetches its media playlist and fills a 30 s buffer of segments, then one a second.
    expect(counts.media - before.media).toBeGreaterThanOrEqual(to * 0.9);
    expect(counts.segment - before.segment).toBeGreaterThan(to * 20);

    // The run is over: no crowd process is left and no request arrives any more.
    expect(crowdProcesses()).toEqual([]);
    const after = crowdRequests();
    await holdsFor(() => expect(crowdRequests()).toBe(after), 1_000, 100);

    const journal = readJournals(dir)[0]!;
    expect(journal).toMatchObject({ outcome: "passed", faults: [{ status: "reverted" }] });
    const reverted = (journal.events as { type: string; notes?: string[] }[]).find((e) => e.type === "fault-reverted");
    const note = reverted?.notes?.[0] ?? "";
    expect(note).toMatch(new RegExp(`^surge reached \\d+ of ${to} viewers playing .*peak \\d+ requests/s .* 0 error\\(s\\)`));
    expect(Number(/reached (\d+) of/.exec(note)?.[1])).toBeGreaterThanOrEqual(to * 0.9);
  });

  it("leaves no crowd behind a run killed with SIGKILL: the crowd ends with its channel, and rollback finds it gone", { timeout: 60_000 }, async () => {
    const dir = workdir();
    const run = runCli(["run", "--yes", "--watchdog", "off", writeExperiment(dir, "killed.yaml", experiment("{ to: 40, ramp: 1s }", "60s"))], { cwd: dir });
    await waitForOutput(run, "injected flash crowd", 30_000);
    const flowing = crowdRequests();
    await pollUntil(() => crowdRequests() > flowing + 100, 10_000, "the crowd's requests");
    run.kill("SIGKILL");
    await run;
    await pollUntil(() => crowdProcesses().length === 0, 10_000, "the crowd to end without its chaoscast");
    const after = crowdRequests();
    await holdsFor(() => expect(crowdRequests()).toBe(after), 1_000, 100);

    const rollback = await runCli(["rollback"], { cwd: dir });
    expect(rollback.exitCode, rollback.all).toBe(0);
    expect(rollback.stdout).toMatch(/reverted flash crowd .* the crowd had already stopped/);
  });
});

describe("stopping a crowd from recorded data", () => {
  const config = (to: number): CrowdConfig => ({ url: `${base}/master.m3u8`, from: to, to, rampMs: 0, maxRequestsPerSecond: 500, maxDurationMs: 60_000, rendition: "lowest", timeoutMs: 5_000, thinkTimeMs: 1_000, headers: {} });
  const context = (notes: string[]): RunContext => ({ signal: new AbortController().signal, runId: "test", note: (m) => notes.push(m), defer: () => {} });

  it("ends the process its token names, checked by pid and start time, and no other crowd", async () => {
    const mine = "1".repeat(32);
    const other = "2".repeat(32);
    // Started by this test, so no run's handle knows them: the revert must find them by their argv.
    const a = await startCrowd(mine, config(3), () => {});
    const b = await startCrowd(other, config(3), () => {});
    try {
      await pollUntil(() => (a.latest?.requests ?? 0) > 0 && (b.latest?.requests ?? 0) > 0, 10_000, "both crowds' requests");
      expect(await findCrowds(mine)).toEqual([{ pid: a.pid, startTime: expect.any(String) }]);

      const notes: string[] = [];
      const data = { token: mine, url: `${base}/master.m3u8`, to: 3 };
      await stopSurgeRevert.run(data, context(notes));
      expect(notes).toEqual([`stopped the crowd process (pid ${a.pid}) its run left behind`]);
      await pollUntil(() => !a.running, 5_000, "the stopped crowd to be reaped");
      expect(await stopSurgeRevert.verify!(data, context([]))).toBeNull();
      expect(b.running).toBe(true);
      expect(await findCrowds(other)).toHaveLength(1);

      // Again: nothing to stop, and it says so.
      const again: string[] = [];
      await stopSurgeRevert.run(data, context(again));
      expect(again).toEqual([expect.stringMatching(/already stopped/)]);
    } finally {
      await a.stop();
      await b.stop();
    }
    expect(await findCrowds(other)).toEqual([]);
  });
});
