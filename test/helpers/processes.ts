// Real processes for end-to-end tests: the fixture HTTP server, and the built CLI run as a user
// runs it. Everything binds 127.0.0.1 and is cleaned up by the test that started it.

import { execa, type ResultPromise } from "execa";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tempDir } from "./temp.js";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = path.join(ROOT, "bin", "chaoscast.js");

export interface TestServer {
  port: number;
  pid: number;
  url: string;
  stop(): Promise<void>;
}

export async function startServer(): Promise<TestServer> {
  const child = execa(process.execPath, [path.join(ROOT, "fixtures/servers/http-server.js")], { reject: false, stdin: "ignore" });
  const first = await new Promise<string>((resolve, reject) => {
    let buffer = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      if (buffer.includes("\n")) resolve(buffer.split("\n")[0]!);
    });
    child.once("exit", () => reject(new Error("the test server exited before listening")));
  });
  const { port, pid } = JSON.parse(first) as { port: number; pid: number };
  return {
    port,
    pid,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      // A suspended process cannot handle SIGTERM; resume it first so tests never leak stopped servers.
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        /* already gone */
      }
      child.kill("SIGKILL");
      await child;
    },
  };
}

/** Process state letter from /proc (R, S, T …), or undefined when it has gone. */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

/** A working directory for a test, removed when the test file ends. */
export function workdir(): string {
  return tempDir("chaoscast-e2e-");
}

export function writeExperiment(dir: string, name: string, yaml: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

export function runCli(args: string[], options: { cwd: string; env?: Record<string, string> }): ResultPromise<{ reject: false; all: true }> {
  return execa(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    // State, locks and journals in the test's own directory, where the test reads them.
    env: { CI: "1", NO_COLOR: "1", CHAOSCAST_DIR: path.join(options.cwd, ".chaoscast"), ...options.env },
    reject: false,
    all: true,
    stdin: "ignore",
  }) as ResultPromise<{ reject: false; all: true }>;
}

export function readJournals(dir: string): Record<string, unknown>[] {
  const runs = path.join(dir, ".chaoscast", "runs");
  return readdirSync(runs)
    .sort()
    .map((f) => JSON.parse(readFileSync(path.join(runs, f), "utf8")) as Record<string, unknown>);
}

/** Journals written in `dir`, or none when the run never got as far as writing one. */
export function readJournalsSafe(dir: string): Record<string, unknown>[] {
  try {
    return readJournals(dir);
  } catch {
    return [];
  }
}

/**
 * Resolves once the child has printed `text` on stdout (however the output was chunked). Rejects,
 * with what it did print, when its stdout ends first or `timeoutMs` (when given) pass, instead of
 * leaving the test to hang until its own timeout.
 */
export function waitForOutput(child: { stdout: NodeJS.ReadableStream | null }, text: string, timeoutMs?: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const stdout = child.stdout!;
    const fail = (why: string) => {
      stdout.off("data", onData);
      stdout.off("end", onEnd);
      reject(new Error(`the child did not print ${JSON.stringify(text)}: ${why}; it printed:\n${seen}`));
    };
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => fail(`not within ${timeoutMs}ms`), timeoutMs);
    const onEnd = () => {
      clearTimeout(timer);
      fail("its output ended");
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (!seen.includes(text)) return;
      clearTimeout(timer);
      stdout.off("data", onData);
      stdout.off("end", onEnd);
      resolve();
    };
    stdout.on("data", onData);
    stdout.once("end", onEnd);
  });
}

// Polling with a deadline lives in poll.ts; re-exported here, where the e2e tests have always found it.
export { pollUntil } from "./poll.js";

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Processes whose command line mentions `text` (e.g. a temporary directory a service runs from). */
export function processesMentioning(text: string): string[] {
  return readdirSync("/proc")
    .filter((pid) => /^\d+$/.test(pid))
    .flatMap((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
        return cmdline.includes(text) ? [`${pid}: ${cmdline}`] : [];
      } catch {
        return []; // gone meanwhile
      }
    });
}
