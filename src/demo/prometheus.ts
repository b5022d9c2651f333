// A real Prometheus for the demo, when one is installed (Debian's `prometheus` package, or any
// `prometheus` on PATH): a child process on a free 127.0.0.1 port with its config and storage in a
// temporary directory, scraping the demo services' /metrics every second, so that the game day can
// show the `prometheus` probe and an experiment's error-budget gate (experiments/demo/*-slo-*).
//
// It never outlives the demo. stop() (the demo's own cleanup) sends SIGTERM, then SIGKILL. And it
// runs under a small Node keeper (prometheus-guard.ts) in a process group of its own (so a Ctrl-C
// at the terminal reaches chaoscast, whose cleanup stops it, rather than killing Prometheus
// mid-run): the keeper holds a pipe from chaoscast, and when that pipe closes, because chaoscast
// ended however it ended (killed with SIGKILL included), it stops Prometheus and removes the
// temporary directory.

import { mkdtempSync, rmSync, writeFileSync, accessSync, constants } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { sleep } from "../util/abortable.js";

/** Where Debian's package puts it, when PATH does not lead there. */
const DEBIAN_BINARY = "/usr/bin/prometheus";

/**
 * CHAOSCAST_DEMO_PROMETHEUS: "off" leaves Prometheus out even when it is installed; a path picks
 * the binary. Unset: the first `prometheus` on PATH, else /usr/bin/prometheus.
 */
export const PROMETHEUS_ENV = "CHAOSCAST_DEMO_PROMETHEUS";

export type PrometheusLookup = { binary: string } | { binary: undefined; why: string };

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The prometheus binary the demo would start, or why there is none. */
export function findPrometheus(env: NodeJS.ProcessEnv = process.env): PrometheusLookup {
  const chosen = env[PROMETHEUS_ENV]?.trim();
  if (chosen === "off") return { binary: undefined, why: `${PROMETHEUS_ENV}=off` };
  if (chosen) return executable(chosen) ? { binary: chosen } : { binary: undefined, why: `${PROMETHEUS_ENV} names ${chosen}, which is not an executable file` };
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (!dir || !path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, "prometheus");
    if (executable(candidate)) return { binary: candidate };
  }
  if (executable(DEBIAN_BINARY)) return { binary: DEBIAN_BINARY };
  return { binary: undefined, why: `no prometheus on PATH or at ${DEBIAN_BINARY}` };
}

/** One scrape job: a service's metrics URL, which must be http://127.0.0.1:PORT/…. */
export interface ScrapeTarget {
  job: string;
  metricsUrl: string;
}

export interface DemoPrometheusOptions {
  binary: string;
  targets: ScrapeTarget[];
  /** How long Prometheus may take to answer /-/ready; 20 s by default. */
  readyTimeoutMs?: number;
  /** How long the first scrape of every target may take after that; 20 s by default (2.42 waits ~5 s before it scrapes). */
  firstScrapeTimeoutMs?: number;
  /** Give up starting (and stop what was started) when this aborts. */
  signal?: AbortSignal;
}

export interface DemoPrometheus {
  /** Its HTTP API, http://127.0.0.1:PORT. */
  url: string;
  /** The guard's pid, leader of the process group Prometheus runs in. */
  pid: number;
  /** The temporary directory (config and storage), removed when it stops. */
  dir: string;
  /** SIGTERM, SIGKILL after 5 s, then the directory is removed. Safe to call twice. */
  stop(): Promise<void>;
}

export class DemoPrometheusError extends Error {}

const SCRAPE_INTERVAL = "1s";
const STOP_GRACE_MS = 5_000;
const PORT_ATTEMPTS = 5;

function scrapeConfig(targets: ScrapeTarget[]): string {
  const jobs = targets.map(({ job, metricsUrl }) => {
    const url = new URL(metricsUrl);
    if (url.protocol !== "http:" || url.hostname !== "127.0.0.1" || !url.port || url.search || url.username || url.password) {
      throw new DemoPrometheusError(`the demo's Prometheus scrapes http://127.0.0.1:PORT/… only, not ${JSON.stringify(metricsUrl)}`);
    }
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(job)) throw new DemoPrometheusError(`not a job name: ${JSON.stringify(job)}`);
    return { job_name: job, metrics_path: url.pathname, static_configs: [{ targets: [url.host] }] };
  });
  // JSON is YAML: nothing is written by hand.
  return `${JSON.stringify({ global: { scrape_interval: SCRAPE_INTERVAL, scrape_timeout: SCRAPE_INTERVAL, evaluation_interval: SCRAPE_INTERVAL }, scrape_configs: jobs }, null, 2)}\n`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once("error", reject);
  });
}

type Guard = ReturnType<typeof startGuard>;

/** The keeper process (prometheus-guard.ts, compiled next to this file). */
const GUARD_SCRIPT = fileURLToPath(new URL("./prometheus-guard.js", import.meta.url));

function startGuard(dir: string, binary: string, args: string[]) {
  return execa(process.execPath, [GUARD_SCRIPT, dir, binary, ...args], {
    reject: false,
    // A process group of its own: the terminal's Ctrl-C goes to chaoscast, which stops it in order.
    detached: true,
    stdin: "pipe",
    stdout: "ignore",
    stderr: "pipe",
    maxBuffer: 1024 * 1024,
  });
}

function exited(guard: Guard): boolean {
  return guard.exitCode !== null || guard.signalCode !== null;
}

async function stopGuard(guard: Guard, dir: string): Promise<void> {
  if (!exited(guard)) {
    guard.stdin?.end();
    signalGroup(guard, "SIGTERM");
    const done = await Promise.race([guard.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
    if (!done) {
      signalGroup(guard, "SIGKILL");
      await guard;
    }
  }
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

function signalGroup(guard: Guard, signal: NodeJS.Signals): void {
  if (guard.pid === undefined) return;
  try {
    process.kill(-guard.pid, signal);
  } catch {
    // gone already
  }
}

async function get(url: string, signal: AbortSignal | undefined): Promise<Response> {
  return fetch(url, { signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(1_000)]) : AbortSignal.timeout(1_000) });
}

/** "ready", "port taken" (it exited because its port was in use), or throws why it did not start. */
async function waitUntilReady(guard: Guard, url: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<"ready" | "port taken"> {
  const deadline = performance.now() + timeoutMs;
  while (!exited(guard)) {
    if (signal?.aborted) throw new DemoPrometheusError("interrupted while Prometheus was starting");
    try {
      const res = await get(`${url}/-/ready`, signal);
      await res.body?.cancel();
      if (res.status === 200) return "ready";
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new DemoPrometheusError(`it did not answer ${url}/-/ready within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(100, signal);
  }
  const { stderr, exitCode, signal: killedBy } = await guard;
  const printed = String(stderr ?? "").trim();
  if (/address already in use/i.test(printed)) return "port taken";
  throw new DemoPrometheusError(`it exited (${killedBy ?? `code ${exitCode}`}) before it was ready${printed ? `: ${printed.split("\n").at(-1)}` : ""}`);
}

/** Wait until `up` has a sample for every job: each target has been scraped once. */
async function waitForFirstScrape(guard: Guard, url: string, jobs: string[], timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let seen: string[] = [];
  while (!exited(guard)) {
    if (signal?.aborted) throw new DemoPrometheusError("interrupted while Prometheus was starting");
    try {
      const res = await get(`${url}/api/v1/query?${new URLSearchParams({ query: "up" })}`, signal);
      const body = (await res.json()) as { status?: string; data?: { result?: { metric?: { job?: string } }[] } };
      seen = (body.data?.result ?? []).flatMap((s) => (s.metric?.job ? [s.metric.job] : []));
      if (body.status === "success" && jobs.every((j) => seen.includes(j))) return;
    } catch {
      // a slow answer: ask again
    }
    if (performance.now() > deadline) {
      throw new DemoPrometheusError(`it had not scraped ${jobs.filter((j) => !seen.includes(j)).join(", ")} within ${Math.round(timeoutMs / 1000)} s of being ready`);
    }
    await sleep(250, signal);
  }
  throw new DemoPrometheusError("it exited before its first scrape");
}

/**
 * Start Prometheus scraping the targets every second, and return once every target has been
 * scraped. Throws DemoPrometheusError, with nothing left running, when it cannot.
 */
export async function startDemoPrometheus(options: DemoPrometheusOptions): Promise<DemoPrometheus> {
  const config = scrapeConfig(options.targets);
  for (let attempt = 1; ; attempt += 1) {
    // A fresh directory per attempt: the guard removes its directory when Prometheus exits.
    const dir = mkdtempSync(path.join(os.tmpdir(), "chaoscast-demo-prometheus-"));
    let guard: Guard | undefined;
    try {
      const configFile = path.join(dir, "prometheus.yml");
      writeFileSync(configFile, config, { mode: 0o600 });
      // Free a moment ago; should another process take it first, Prometheus exits with "address
      // already in use" and the next attempt picks another.
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      guard = startGuard(dir, options.binary, [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--storage.tsdb.retention.time=2h",
        "--log.level=warn",
      ]);
      const started = await waitUntilReady(guard, url, options.readyTimeoutMs ?? 20_000, options.signal);
      if (started === "port taken") {
        await stopGuard(guard, dir);
        if (attempt >= PORT_ATTEMPTS) throw new DemoPrometheusError(`it found no free port in ${PORT_ATTEMPTS} attempts`);
        continue;
      }
      await waitForFirstScrape(guard, url, options.targets.map((t) => t.job), options.firstScrapeTimeoutMs ?? 20_000, options.signal);
      const running = guard;
      let stopping: Promise<void> | undefined;
      return {
        url,
        pid: running.pid!,
        dir,
        stop() {
          stopping ??= stopGuard(running, dir);
          return stopping;
        },
      };
    } catch (err) {
      if (guard) await stopGuard(guard, dir);
      else rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      throw err instanceof DemoPrometheusError ? err : new DemoPrometheusError((err as Error).message);
    }
  }
}
