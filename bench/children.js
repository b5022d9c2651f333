// Helpers for benchmarks that start servers as child processes (not a benchmark: it exports no run).

import { spawn } from "node:child_process";
import net from "node:net";

/** Start `node args…`, resolve with ready(line) for the first stdout line it accepts; the child is pushed to `children`. */
export function startChild(children, args, ready) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    children.push(child);
    let buffer = "";
    child.stdout.on("data", (chunk) => {
      buffer += chunk.toString();
      for (const line of buffer.split("\n")) {
        const value = line.trim() ? ready(line) : undefined;
        if (value !== undefined) return resolve(value);
      }
    });
    child.once("exit", (code) => reject(new Error(`${args[0]} exited (${code}) before it was ready`)));
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
