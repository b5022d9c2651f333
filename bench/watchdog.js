// Watchdog: how long faults stay in after chaoscast dies (SIGKILL) or freezes (SIGSTOP, as a frozen
// event loop looks from outside), with no one at the keyboard. Each run freezes a victim process
// with process.suspend through the real CLI, then kills or stops the CLI; the figure is the time
// until the victim runs again. Baseline, in the same run: a human's best case after a SIGKILL,
// `chaoscast rollback` started the instant the CLI died.

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const name = "watchdog";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CLI = path.join(ROOT, "bin/chaoscast.js");
const HANG_MS = 1000;

const stateOf = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
};

async function until(condition, timeoutMs, what) {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** One run: start the CLI on the victim, wait for the fault, end the CLI with `signal`, time the victim's return. */
async function once(dir, victim, mode) {
  const env = { ...process.env, CI: "1", NO_COLOR: "1", CHAOSCAST_DIR: path.join(dir, ".chaoscast") };
  const args = [CLI, "run", path.join(dir, "exp.yaml"), "--yes", ...(mode === "hang" ? ["--watchdog", `${HANG_MS}ms`] : []), ...(mode === "manual" ? ["--watchdog", "off"] : [])];
  const cli = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  cli.stdout.on("data", (chunk) => (out += chunk));
  const exited = new Promise((resolve) => cli.on("exit", resolve));
  await until(() => out.includes("injected freeze") && stateOf(victim) === "T", 15_000, "the fault was not injected");
  const started = performance.now();
  cli.kill(mode === "hang" ? "SIGSTOP" : "SIGKILL");
  if (mode === "manual") {
    await exited;
    spawnSync(process.execPath, [CLI, "rollback"], { env, stdio: "ignore" });
  }
  await until(() => stateOf(victim) !== "T", 15_000, `${mode}: the victim was not resumed`);
  const ms = performance.now() - started;
  if (mode === "hang") cli.kill("SIGKILL");
  await exited;
  return ms;
}

export async function run({ quick, signal, log }) {
  if (process.platform !== "linux") return { skipped: "needs Linux (/proc)" };
  const dir = mkdtempSync(path.join(os.tmpdir(), "chaoscast-bench-watchdog-"));
  const victim = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  try {
    writeFileSync(path.join(dir, "exp.yaml"), `version: 1\ntitle: watchdog bench\nduration: 60s\ntargets:\n  victim: { process: { pid: ${victim.pid} } }\nfaults:\n  - { name: freeze, target: victim, action: process.suspend }\n`);
    const runs = quick ? 3 : 20;
    const samples = { kill: [], hang: [], manual: [] };
    for (let i = 0; i < runs; i++) {
      for (const mode of ["kill", "hang", "manual"]) {
        if (signal.aborted) throw signal.reason;
        const ms = await once(dir, victim.pid, mode);
        samples[mode].push(ms);
        log(`watchdog: run ${i + 1}/${runs} ${mode}: ${ms.toFixed(1)} ms`);
      }
    }
    const stats = (values) => {
      const sorted = [...values].sort((a, b) => a - b);
      const at = (p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
      return { p50: Math.round(at(50)), p95: Math.round(at(95)), max: Math.round(sorted.at(-1)) };
    };
    const kill = stats(samples.kill);
    const hang = stats(samples.hang);
    const manual = stats(samples.manual);
    return { runs, hangBoundMs: HANG_MS, kill, hang, manual, killOverManualP50: Math.round((kill.p50 / manual.p50) * 100) / 100, killMeetsTwoSeconds: kill.p95 < 2000 };
  } finally {
    victim.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

export function format(r) {
  if (r.skipped) return `watchdog: skipped (${r.skipped})`;
  const row = (label, s) => `${label.padEnd(46)} ${String(s.p50).padStart(7)} ${String(s.p95).padStart(7)} ${String(s.max).padStart(7)}`;
  return [
    `watchdog: ${r.runs} runs each; time until every fault is reverted, in ms`,
    `${"".padEnd(46)} ${"p50".padStart(7)} ${"p95".padStart(7)} ${"max".padStart(7)}`,
    row("SIGKILL of the run → reverted by the watchdog", r.kill),
    row(`frozen run (SIGSTOP, bound ${r.hangBoundMs} ms) → reverted`, r.hang),
    row("baseline: SIGKILL → `chaoscast rollback` at once", r.manual),
    `SIGKILL p50 = ${r.killOverManualP50}× the instant manual rollback; p95 under 2 s: ${r.killMeetsTwoSeconds ? "yes" : "no"}`,
  ].join("\n");
}
