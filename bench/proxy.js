// Fault proxy overhead: the same load sent straight to a server and through `chaoscast proxy` (no
// toxics), measured in the same run and printed as ratios: throughput and added latency. Two load
// clients: autocannon (Node, on every machine) and, where it is installed, wrk (C), which is not
// itself the bottleneck on bulk bodies as a Node client can be. With TOXIPROXY_SERVER naming a
// toxiproxy-server binary, Toxiproxy is measured in the same rounds, as another target; with
// CHAOSCAST_BENCH_WORKERS=N, so is the proxy relaying through N worker processes.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { spawn } from "node:child_process";
import { execa } from "execa";
import { freePort, startChild } from "./children.js";

export const name = "proxy";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BODIES = [
  { label: "1 KB", bytes: 1024 },
  { label: "2 MB", bytes: 2 * 1024 * 1024 },
];
const CONNECTIONS = 50;

export async function run({ quick, signal, log }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "chaoscast-bench-proxy-"));
  const children = [];
  try {
    const upstream = await startChild(children, [path.join(ROOT, "fixtures/servers/http-server.js")], (line) => JSON.parse(line).port);
    const [apiPort, linkPort] = [await freePort(), await freePort()];
    writeFileSync(path.join(dir, "proxies.yaml"), `- { name: bench, listen: "127.0.0.1:${linkPort}", upstream: "127.0.0.1:${upstream}" }\n`);
    await startChild(children, [path.join(ROOT, "bin/chaoscast.js"), "proxy", "--api", `127.0.0.1:${apiPort}`, "--config", path.join(dir, "proxies.yaml"), "--workers", "0"], (line) => (line.includes("bench:") ? true : undefined));
    const targets = { direct: upstream, proxied: linkPort };
    // With CHAOSCAST_BENCH_WORKERS=N, the same proxy with N worker processes is a target of its own.
    const workers = Number(process.env.CHAOSCAST_BENCH_WORKERS ?? 0);
    if (workers > 0) {
      const [workersApi, workersLink] = [await freePort(), await freePort()];
      writeFileSync(path.join(dir, "workers.yaml"), `- { name: bench, listen: "127.0.0.1:${workersLink}", upstream: "127.0.0.1:${upstream}" }\n`);
      await startChild(children, [path.join(ROOT, "bin/chaoscast.js"), "proxy", "--api", `127.0.0.1:${workersApi}`, "--config", path.join(dir, "workers.yaml"), "--workers", String(workers)], (line) => (line.includes("bench:") ? true : undefined));
      targets.workers = workersLink;
    }
    if (process.env.TOXIPROXY_SERVER) targets.toxiproxy = await startToxiproxy(children, process.env.TOXIPROXY_SERVER, upstream);
    const seconds = quick ? 1 : 5;
    const clients = [{ name: "autocannon", load }, ...((await hasWrk()) ? [{ name: "wrk", load: wrkLoad }] : [])];
    const rows = [];
    for (const client of clients) {
      for (const body of BODIES) {
        // Alternate direct and proxied runs so drift on a shared machine affects both alike.
        const samples = Object.fromEntries(Object.keys(targets).map((which) => [which, []]));
        for (let round = 0; round < (quick ? 1 : 3); round++) {
          for (const which of Object.keys(targets)) {
            if (signal.aborted) throw signal.reason;
            log(`proxy: ${client.name}, ${body.label} ${which}, ${CONNECTIONS} connections, ${seconds}s`);
            samples[which].push(await client.load(`http://127.0.0.1:${targets[which]}/bytes?n=${body.bytes}`, seconds));
          }
        }
        const direct = average(samples.direct);
        const proxied = average(samples.proxied);
        const ratios = samples.proxied.map((p, i) => p.mbPerSecond / samples.direct[i].mbPerSecond);
        const row = { client: client.name, body: body.label, direct, proxied, throughputRatio: proxied.mbPerSecond / direct.mbPerSecond, requestRatio: proxied.requestsPerSecond / direct.requestsPerSecond, roundRatios: ratios };
        if (samples.workers) {
          row.workers = average(samples.workers);
          row.workersRatio = row.workers.mbPerSecond / direct.mbPerSecond;
        }
        if (samples.toxiproxy) {
          row.toxiproxy = average(samples.toxiproxy);
          row.toxiproxyRatio = row.toxiproxy.mbPerSecond / direct.mbPerSecond;
          row.toxiproxyRoundRatios = samples.toxiproxy.map((p, i) => p.mbPerSecond / samples.direct[i].mbPerSecond);
        }
        rows.push(row);
      }
    }
    log("proxy: unloaded latency, 1 KB, sequential keep-alive requests");
    const count = quick ? 300 : 3000;
    const latency = {};
    for (const which of ["direct", "proxied"]) latency[which] = await sequentialLatency(`http://127.0.0.1:${targets[which]}/bytes?n=1024`, count);
    return { connections: CONNECTIONS, seconds, rows, latency, addedP50Ms: latency.proxied.p50 - latency.direct.p50, addedP99Ms: latency.proxied.p99 - latency.direct.p99 };
  } finally {
    for (const child of children) child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function format(r) {
  const lines = [
    `${r.connections} concurrent keep-alive connections, ${r.seconds}s per run, direct and proxied runs alternated`,
    "",
    "client      body   target    req/s     MB/s   p50 ms  p99 ms",
    "----------  -----  -------  --------  ------  ------  ------",
  ];
  for (const row of r.rows) {
    for (const which of ["direct", "proxied"]) {
      const m = row[which];
      lines.push(`${row.client.padEnd(10)}  ${row.body.padEnd(5)}  ${which.padEnd(7)}  ${m.requestsPerSecond.toFixed(0).padStart(8)}  ${m.mbPerSecond.toFixed(1).padStart(6)}  ${m.p50.toFixed(2).padStart(6)}  ${m.p99.toFixed(2).padStart(6)}`);
    }
    lines.push(`${row.client.padEnd(10)}  ${row.body.padEnd(5)}  ratio    ${row.requestRatio.toFixed(2).padStart(7)}×  ${row.throughputRatio.toFixed(2).padStart(5)}×  (rounds: ${row.roundRatios.map((x) => x.toFixed(2)).join(", ")})`);
    if (row.workers) {
      const m = row.workers;
      lines.push(`${row.client.padEnd(10)}  ${row.body.padEnd(5)}  workers  ${m.requestsPerSecond.toFixed(0).padStart(8)}  ${m.mbPerSecond.toFixed(1).padStart(6)}  ${m.p50.toFixed(2).padStart(6)}  ${m.p99.toFixed(2).padStart(6)}  (${row.workersRatio.toFixed(2)}× direct, with worker processes)`);
    }
    if (row.toxiproxy) {
      const m = row.toxiproxy;
      lines.push(`${row.client.padEnd(10)}  ${row.body.padEnd(5)}  toxipr.  ${m.requestsPerSecond.toFixed(0).padStart(8)}  ${m.mbPerSecond.toFixed(1).padStart(6)}  ${m.p50.toFixed(2).padStart(6)}  ${m.p99.toFixed(2).padStart(6)}`);
      lines.push(`${row.client.padEnd(10)}  ${row.body.padEnd(5)}  ratio             ${row.toxiproxyRatio.toFixed(2).padStart(5)}×  (Toxiproxy; rounds: ${row.toxiproxyRoundRatios.map((x) => x.toFixed(2)).join(", ")})`);
    }
  }
  lines.push("");
  lines.push(`unloaded 1 KB latency (sequential): direct p50 ${r.latency.direct.p50.toFixed(3)} ms, proxied p50 ${r.latency.proxied.p50.toFixed(3)} ms → added ${r.addedP50Ms.toFixed(3)} ms (p99 ${r.addedP99Ms >= 0 ? "+" : ""}${r.addedP99Ms.toFixed(3)} ms)`);
  // The client least likely to be the bottleneck decides the aim.
  const big = r.rows.findLast((row) => row.body === "2 MB");
  if (big.toxiproxy) lines.push(`2 MB through chaoscast vs through Toxiproxy (${big.client}): ${(big.proxied.mbPerSecond / big.toxiproxy.mbPerSecond).toFixed(2)}×`);
  lines.push(`aim ≥ 0.75× direct throughput on 2 MB (${big.client}): ${big.throughputRatio >= 0.75 ? "met" : "not met"} (${big.throughputRatio.toFixed(2)}×)`);
  lines.push(`aim ≤ 0.3 ms added p50 on 1 KB: ${r.addedP50Ms <= 0.3 ? "met" : "not met"} (${r.addedP50Ms.toFixed(3)} ms)`);
  return lines.join("\n");
}

function load(url, seconds) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: seconds }, (err, result) => {
      if (err) return reject(err);
      if (result.non2xx > 0 || result.errors > 0) return reject(new Error(`${url}: ${result.errors} errors, ${result.non2xx} non-2xx answers`));
      resolve({ requestsPerSecond: result.requests.average, mbPerSecond: result.throughput.average / 1e6, p50: result.latency.p50, p99: result.latency.p99 });
    });
  });
}

/** A Toxiproxy server on a free port, with one proxy to the upstream; resolves with the proxy's port. */
async function startToxiproxy(children, binary, upstream) {
  const [apiPort, linkPort] = [await freePort(), await freePort()];
  const child = spawn(binary, ["-host", "127.0.0.1", "-port", String(apiPort)], { stdio: "ignore" });
  children.push(child);
  const deadline = performance.now() + 10_000;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${apiPort}/proxies`, { method: "POST", body: JSON.stringify({ name: "bench", listen: `127.0.0.1:${linkPort}`, upstream: `127.0.0.1:${upstream}` }) });
      if (res.status === 201) return linkPort;
      throw new Error(`Toxiproxy answered ${res.status}: ${await res.text()}`);
    } catch (err) {
      if (performance.now() > deadline) throw new Error(`Toxiproxy at ${binary} did not start: ${err.message}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function hasWrk() {
  const result = await execa("wrk", ["--version"], { reject: false });
  return result.exitCode !== undefined && /^wrk /m.test(`${result.stdout}${result.stderr}`);
}

/** wrk, one thread, the same connections; its figures in autocannon's units (MB/s is 10^6 bytes). */
async function wrkLoad(url, seconds) {
  const { stdout } = await execa("wrk", ["-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, "--latency", url]);
  const number = (re) => {
    const m = re.exec(stdout);
    if (!m) throw new Error(`wrk printed no ${re}: ${stdout}`);
    return m;
  };
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(stdout);
  if (errors) throw new Error(`${url}: wrk saw errors: ${errors[0]}`);
  const bytes = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };
  const transfer = number(/Transfer\/sec:\s+([\d.]+)(B|KB|MB|GB)/);
  const ms = (m) => Number(m[1]) * { us: 0.001, ms: 1, s: 1000, m: 60_000 }[m[2]];
  return {
    requestsPerSecond: Number(number(/Requests\/sec:\s+([\d.]+)/)[1]),
    mbPerSecond: (Number(transfer[1]) * bytes[transfer[2]]) / 1e6,
    p50: ms(number(/\s50%\s+([\d.]+)(us|ms|s|m)\b/)),
    p99: ms(number(/\s99%\s+([\d.]+)(us|ms|s|m)\b/)),
  };
}

function average(samples) {
  const keys = Object.keys(samples[0]);
  return Object.fromEntries(keys.map((k) => [k, samples.reduce((sum, s) => sum + s[k], 0) / samples.length]));
}

async function sequentialLatency(url, count) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const times = [];
  try {
    for (let i = 0; i < count + 50; i++) {
      const started = process.hrtime.bigint();
      await new Promise((resolve, reject) => {
        http.get(url, { agent }, (res) => {
          res.resume();
          res.on("end", resolve);
        }).on("error", reject);
      });
      if (i >= 50) times.push(Number(process.hrtime.bigint() - started) / 1e6); // the first 50 warm up
    }
  } finally {
    agent.destroy();
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length * 0.5)], p99: times[Math.floor(times.length * 0.99)] };
}
