// A real Prometheus for tests (Debian's `prometheus` package), run as a child process on
// 127.0.0.1 with its own config and storage in a temporary directory, scraping the targets a test
// names (e.g. fixtures/prometheus/exporter.ts) every second. Where no prometheus binary is found the
// tests that need it skip with a note, unless CHAOSCAST_REQUIRE_SERVICES=1 (CI), where they fail.
//
//   const available = await prometheusAvailability();
//   describe.skipIf(!available)("…", () => {
//     const prom = await startPrometheus({ targets: [exporter.target] });
//     await prom.waitForSeries('http_requests_total{job="fixture"}');
//     const [sample] = await prom.query("sum(rate(http_requests_total[30s]))");
//     await prom.stop();
//   });

import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { findPrometheus } from "../../src/demo/prometheus.js";
import { execa } from "execa";
import { pollUntil } from "./poll.js";
import { freePort } from "./processes.js";
import { tempDir } from "./temp.js";

/** The prometheus binary the demo would find (first on PATH, else /usr/bin/prometheus); undefined when there is none. */
export function prometheusBinary(): string | undefined {
  // The tests' Prometheus is the one on this machine whatever the demo was told to use.
  return findPrometheus({ PATH: process.env.PATH }).binary;
}

/**
 * Whether the Prometheus tests can run: a prometheus binary is found and runs. Otherwise they skip
 * with a note, unless CHAOSCAST_REQUIRE_SERVICES=1 (CI), where that is a failure.
 */
export async function prometheusAvailability(): Promise<boolean> {
  const unavailable = (why: string): false => {
    if (process.env.CHAOSCAST_REQUIRE_SERVICES === "1") throw new Error(`CHAOSCAST_REQUIRE_SERVICES=1 but ${why}`);
    process.stderr.write(`\n  skipped: Prometheus tests, ${why}.\n\n`);
    return false;
  };
  const binary = prometheusBinary();
  if (!binary) return unavailable(`prometheus is neither on PATH nor at /usr/bin/prometheus; install Debian's prometheus package to run them`);
  try {
    await execa(binary, ["--version"], { timeout: 10_000, stdin: "ignore" });
  } catch (err) {
    const detail = ((err as { stderr?: string }).stderr || (err as Error).message).trim().split("\n").at(-1);
    return unavailable(`${binary} --version fails (${detail})`);
  }
  return true;
}

export interface PrometheusOptions {
  /** Scrape targets, each "127.0.0.1:PORT", in one job named "fixture". */
  targets: string[];
  /** How often the targets are scraped; "1s" by default. Rules are evaluated every second. */
  scrapeInterval?: string;
  /** How long Prometheus may take to answer /-/ready; 15 s by default. */
  readyTimeoutMs?: number;
}

/** One element of an instant query's result (a scalar result is one sample without labels). */
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface RunningPrometheus {
  /** Its HTTP API, http://127.0.0.1:PORT. */
  url: string;
  /** Evaluate an instant query now; throws on a query Prometheus rejects. */
  query(promql: string): Promise<Sample[]>;
  /**
   * Poll the instant query until its result is non-empty; 15 s by default. Prometheus 2.42 applies
   * its targets about 5 s after start (its scrape manager's fixed reload tick), so the first series
   * of a fresh instance take that long to appear.
   */
  waitForSeries(promql: string, timeoutMs?: number): Promise<void>;
  /** SIGTERM, SIGKILL if it has not exited within 5 s, then remove its directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** The config Prometheus is started with; JSON is YAML, so no YAML is hand-written. */
function config(targets: string[], scrapeInterval: string): string {
  return JSON.stringify(
    {
      global: { scrape_interval: scrapeInterval, scrape_timeout: scrapeInterval, evaluation_interval: "1s" },
      scrape_configs: [{ job_name: "fixture", static_configs: [{ targets }] }],
    },
    null,
    2,
  );
}

const STOP_GRACE_MS = 5_000;
const PORT_ATTEMPTS = 5;

type Child = ReturnType<typeof startChild>;

function startChild(binary: string, args: string[]) {
  return execa(binary, args, {
    reject: false,
    stdin: "ignore",
    // kill() sends SIGTERM; execa follows with SIGKILL when the process is still there after this.
    forceKillAfterDelay: STOP_GRACE_MS,
  });
}

export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const binary = prometheusBinary();
  if (!binary) throw new Error(`prometheus is neither on PATH nor at /usr/bin/prometheus`);
  for (const target of options.targets) {
    if (!/^127\.0\.0\.1:\d+$/.test(target)) throw new Error(`a Prometheus test target is "127.0.0.1:PORT", not ${JSON.stringify(target)}`);
  }
  // Made with mkdtemp, and also removed when the test file ends should stop() never be called.
  const dir = tempDir("chaoscast-prometheus-");
  const configFile = path.join(dir, "prometheus.yml");
  writeFileSync(configFile, config(options.targets, options.scrapeInterval ?? "1s"));

  let child: Child | undefined;
  let url = "";
  try {
    for (let attempt = 1; ; attempt += 1) {
      // A port that was free a moment ago; should another process take it first, Prometheus exits
      // with "address already in use" and the next attempt picks another.
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      child = startChild(binary, [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ]);
      const started = await waitUntilReady(child, url, options.readyTimeoutMs ?? 15_000);
      if (started === "ready") break;
      if (attempt >= PORT_ATTEMPTS) throw new Error(`Prometheus found no free port in ${PORT_ATTEMPTS} attempts`);
    }
  } catch (err) {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    throw err;
  }

  const query = async (promql: string): Promise<Sample[]> => {
    const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: promql })}`, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: unknown } };
    if (body.status !== "success" || !body.data) throw new Error(`Prometheus rejected ${JSON.stringify(promql)}: ${body.error ?? `HTTP ${res.status}`}`);
    const { resultType, result } = body.data;
    if (resultType === "vector") {
      return (result as { metric: Record<string, string>; value: [number, string] }[]).map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
    }
    if (resultType === "scalar") return [{ metric: {}, value: Number((result as [number, string])[1]) }];
    throw new Error(`${JSON.stringify(promql)} gives a ${resultType}; query() takes instant vectors and scalars`);
  };

  const running = child!;
  let stopped = false;
  return {
    url,
    query,
    async waitForSeries(promql: string, timeoutMs = 15_000) {
      await pollUntil(async () => (await query(promql)).length > 0, timeoutMs, `Prometheus series for ${promql}`, 200);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopChild(running);
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

/**
 * "ready" once /-/ready answers 200; "port taken" when Prometheus exited because its port was in
 * use. Throws, with what Prometheus printed, when it exits for another reason or is not ready in time.
 */
async function waitUntilReady(child: Child, url: string, timeoutMs: number): Promise<"ready" | "port taken"> {
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  try {
    await pollUntil(
      async () => {
        if (exited) return true;
        try {
          const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
          await res.body?.cancel();
          return res.status === 200;
        } catch {
          return false; // not listening yet
        }
      },
      timeoutMs,
      "Prometheus answering /-/ready",
      100,
    );
  } catch (err) {
    await stopChild(child);
    const { stderr } = await child;
    throw new Error(`${(err as Error).message}; it printed:\n${String(stderr)}`);
  }
  if (!exited) return "ready";
  const { stderr, exitCode, signal } = await child;
  if (/address already in use/i.test(String(stderr))) return "port taken";
  throw new Error(`Prometheus exited (${signal ?? `code ${exitCode}`}) before it was ready; it printed:\n${String(stderr)}`);
}

async function stopChild(child: Child | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  await child;
}
