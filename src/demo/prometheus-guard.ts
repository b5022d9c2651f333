// The demo Prometheus's keeper, run as its own Node process: `node prometheus-guard.js DIR BINARY
// ARGS…`. It starts Prometheus, and stops it (SIGTERM, then SIGKILL) and removes DIR when the pipe
// from chaoscast on its stdin closes (chaoscast ended, however it ended: SIGKILL included) or when
// it is itself told to stop. It then exits with Prometheus's status. No shell is involved.

import { spawn } from "node:child_process";
import { rmSync } from "node:fs";

const KILL_AFTER_MS = 5_000;

function main(argv: string[]): void {
  const [dir, binary, ...args] = argv;
  if (!dir || !binary) {
    process.stderr.write("usage: prometheus-guard DIR BINARY [ARGS…]\n");
    process.exit(2);
  }
  // Prometheus's output goes to our stderr (the demo keeps it for its messages).
  const child = spawn(binary, args, { stdio: ["ignore", "inherit", "inherit"] });
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    if (child.exitCode !== null || child.signalCode !== null || killTimer) return;
    child.kill("SIGTERM");
    killTimer = setTimeout(() => child.kill("SIGKILL"), KILL_AFTER_MS);
  };
  process.stdin.on("end", stop);
  process.stdin.on("error", stop);
  process.stdin.resume();
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, stop);
  child.on("error", (err) => {
    process.stderr.write(`cannot start ${binary}: ${err.message}\n`);
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    process.exit(127);
  });
  child.on("exit", (code, signal) => {
    clearTimeout(killTimer);
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    process.exit(code ?? (signal ? 128 : 1));
  });
}

main(process.argv.slice(2));
