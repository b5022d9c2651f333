#!/usr/bin/env node
// The five-minute tour: starts a small real HTTP service on 127.0.0.1, runs every experiment in
// experiments/local/ against it with live output, and checks each outcome is the documented one.
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const experimentsDir = path.join(root, "experiments", "local");
// chaoscast's documented exit codes name the outcome; each journal goes where every run's goes
// (runs/ in chaoscast's state directory, printed at the end of each run), so the tour leaves nothing in /tmp.
const OUTCOMES = { 0: "passed", 1: "deviated", 2: "aborted", 3: "rollback-failed", 4: "invalid", 5: "skipped", 70: "internal-error" };

function startService() {
  const child = spawn(process.execPath, [path.join(root, "fixtures/servers/http-server.js")], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    child.stdout.once("data", (chunk) => resolve({ child, ...JSON.parse(chunk.toString().split("\n")[0]) }));
    child.once("exit", () => reject(new Error("the tour service exited before listening")));
  });
}

function runChaoscast(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, "bin/chaoscast.js"), ...args], { stdio: "inherit" });
    // Ctrl-C reaches chaoscast too (same process group); it rolls back, and the tour stops after it.
    child.on("exit", (code) => resolve(code ?? 1));
  });
}

const service = await startService();
console.log(`tour: service listening on http://127.0.0.1:${service.port} (pid ${service.pid})\n`);
const rows = [];
let interrupted = false;
process.on("SIGINT", () => (interrupted = true));
try {
  for (const name of readdirSync(experimentsDir).filter((f) => f.endsWith(".yaml")).sort()) {
    if (interrupted) break;
    const file = path.join(experimentsDir, name);
    const expected = /Expected outcome: ([a-z-]+)/.exec(readFileSync(file, "utf8"))?.[1] ?? "passed";
    const code = await runChaoscast(["run", file, "--yes", "--var", `port=${service.port}`]);
    const outcome = OUTCOMES[code] ?? `exit ${code}`;
    rows.push({ name, expected, outcome });
    console.log("");
  }
} finally {
  try {
    process.kill(service.pid, "SIGCONT");
  } catch {}
  service.child.kill();
}
console.log("experiment                                   expected   outcome");
for (const r of rows) console.log(`${r.name.padEnd(44)} ${r.expected.padEnd(10)} ${r.outcome} ${r.outcome === r.expected ? "✔" : "✖ (unexpected)"}`);
const ok = rows.length > 0 && rows.every((r) => r.outcome === r.expected) && !interrupted;
process.exit(ok ? 0 : 1);
