import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readJournals, runCli, startServer, workdir, writeExperiment, type TestServer } from "../helpers/processes.js";

let server: TestServer;
let dir: string;
let traffic: NodeJS.Timeout;
beforeEach(async () => {
  server = await startServer();
  dir = workdir();
  // Viewers: steady background requests, so the counters move as they would in production.
  traffic = setInterval(() => void fetch(`${server.url}/health`).then((r) => r.arrayBuffer()).catch(() => {}), 25);
});
afterEach(async () => {
  clearInterval(traffic);
  await server.stop();
});

const experiment = (faults: string) => `version: 1
title: success ratio from metrics
duration: 10s
steadyState:
  - name: health traffic
    probe: http
    with: { url: "${`http://127.0.0.1:PORT/health`}", timeout: 1s }
    expect: { status: "100..599" }
  - name: health success ratio
    probe: metrics
    with: { url: "http://127.0.0.1:PORT/metrics", ratio: { good: fixture_health_ok_total, total: fixture_health_total }, window: 1s }
    expect: ">= 0.9"
abort: { interval: 300ms, after: 2 }
faults:
${faults}
recovery: { timeout: 5s }
`;

describe("the metrics probe in a run", () => {
  it("aborts when the success ratio over the window falls, and passes when it holds", async () => {
    const breaking = writeExperiment(
      dir,
      "break.yaml",
      experiment(`  - name: break health
    action: http.request
    at: 500ms
    with: { url: "http://127.0.0.1:PORT/admin/break", method: POST, revert: { url: "http://127.0.0.1:PORT/admin/repair" } }`).replaceAll("PORT", String(server.port)),
    );
    const result = await runCli(["run", breaking], { cwd: dir });
    expect(result.exitCode, result.all).toBe(2);
    expect(result.all).toMatch(/health success ratio: value 0(\.\d+)? does not match >= 0\.9/);

    const harmless = writeExperiment(dir, "ok.yaml", experiment(`  - { name: noop, action: command.run, with: { command: ["true"] } }`).replaceAll("PORT", String(server.port)).replace("duration: 10s", "duration: 1500ms"));
    const ok = await runCli(["run", harmless], { cwd: dir });
    expect(ok.exitCode, ok.all).toBe(0);
    const journal = readJournals(dir).find((j) => j.title === "success ratio from metrics" && j.outcome === "passed");
    expect(journal).toBeDefined();
  });

  it("names a missing metric with a suggestion", async () => {
    const file = writeExperiment(dir, "typo.yaml", `version: 1
title: typo
duration: 1s
steadyState:
  - { name: ratio, probe: metrics, with: { url: "http://127.0.0.1:${server.port}/metrics", metric: fixture_helth_total }, expect: ">= 0" }
faults:
  - { name: noop, action: command.run, with: { command: ["true"] } }
`);
    const result = await runCli(["run", file], { cwd: dir });
    expect(result.exitCode).toBe(5);
    expect(result.all).toMatch(/metric fixture_helth_total not found at .* \(did you mean "fixture_health_total"\?\)/);
  });

  it("requires an explicit expect", async () => {
    const file = writeExperiment(dir, "noexpect.yaml", `version: 1\ntitle: t\nduration: 1s\nsteadyState:\n  - { name: m, probe: metrics, with: { url: "http://127.0.0.1:1/metrics", metric: x } }\nfaults:\n  - { name: noop, action: command.run, with: { command: ["true"] } }\n`);
    const result = await runCli(["validate", file], { cwd: dir });
    expect(result.exitCode).toBe(4);
    expect(result.all).toMatch(/the metrics probe has no sensible default: add expect/);
  });
});
