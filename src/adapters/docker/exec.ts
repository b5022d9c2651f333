// Running a program inside a container (argument array, never a shell string): the docker.exec
// action and its revert share it.

import { readdirSync, readFileSync } from "node:fs";
import { forbiddenPid } from "../../util/process-owner.js";
import { PassThrough } from "node:stream";
import { AdapterError } from "../../errors.js";
import { sleep } from "../../util/abortable.js";
import { dockerEngine, engineError, statusOf } from "./client.js";

export interface ExecOutcome {
  exitCode: number | null;
  output: string;
}

/**
 * Create (not start) an exec of argv in the container. Its id can go on record before the program
 * runs, so that a rollback after a crash finds it and stops it if it still runs.
 */
export async function createExec(container: { id: string; name: string }, argv: string[]): Promise<string> {
  const docker = await dockerEngine();
  try {
    return (await docker.getContainer(container.id).exec({ Cmd: argv, AttachStdout: true, AttachStderr: true })).id;
  } catch (err) {
    throw engineError(`preparing ${argv[0]} in container ${container.name}`, err);
  }
}

/** Run argv in the container; resolves with its exit code and (the tail of) its output. */
export async function execIn(container: { id: string; name: string }, argv: string[], timeoutMs: number, signal: AbortSignal): Promise<ExecOutcome> {
  return startExec(container, await createExec(container, argv), argv, timeoutMs, signal);
}

/** Start an exec made by createExec and wait for it, stopping it when `timeoutMs` pass or `signal` aborts. */
export async function startExec(container: { id: string; name: string }, execId: string, argv: string[], timeoutMs: number, signal: AbortSignal): Promise<ExecOutcome> {
  const docker = await dockerEngine();
  const exec = docker.getExec(execId);
  let output = "";
  try {
    const stream = await exec.start({ hijack: true, stdin: false });
    const sink = new PassThrough();
    sink.on("data", (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-2000);
    });
    docker.modem.demuxStream(stream, sink, sink);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs}ms`)), timeoutMs);
      const onAbort = () => finish(new Error("cancelled"));
      function finish(err?: Error) {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        stream.destroy();
        if (err) reject(err);
        else resolve();
      }
      signal.addEventListener("abort", onAbort, { once: true });
      stream.on("end", () => finish());
      stream.on("close", () => finish());
      stream.on("error", (err: Error) => finish(err));
    });
    const info = await exec.inspect();
    return { exitCode: info.ExitCode ?? null, output };
  } catch (err) {
    if (err instanceof Error && /timed out|cancelled/.test(err.message)) {
      // Giving up waiting must not leave the program to change things later, unrecorded.
      const stopped = await stopExec(execId, container.id);
      const said = stopped === "stopped" ? "; it was stopped" : stopped === "remote" ? "; it may still be running inside the container (chaoscast can stop it only on a local engine)" : "";
      throw new AdapterError(`${argv[0]} in container ${container.name}: ${err.message}${said}`);
    }
    throw engineError(`running ${argv[0]} in container ${container.name}`, err);
  }
}

/**
 * Stop an exec that is still running, with everything it started. Docker cannot kill an exec, so
 * its processes are signalled from here: found from its host pid when /proc here shows that pid
 * in the container's cgroup (the engine is local). "gone": it had ended (or the engine forgot it);
 * "remote": it runs where chaoscast cannot signal it.
 */
export async function stopExec(execId: string, containerId: string): Promise<"gone" | "stopped" | "remote"> {
  const exec = (await dockerEngine()).getExec(execId);
  const info = await exec.inspect().catch((err: unknown) => {
    if (statusOf(err) === 404) return undefined;
    throw engineError("inspecting a docker.exec program", err);
  });
  if (!info?.Running || !info.Pid) return "gone";
  const tree = localProcessTree(info.Pid, containerId);
  if (!tree) return "remote";
  for (const pid of tree) {
    if (await forbiddenPid(pid)) continue;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  // The engine notices the exit asynchronously: wait, briefly, until it no longer says "running".
  for (let i = 0; i < 100; i++) {
    const now = await exec.inspect().catch(() => undefined);
    if (!now?.Running) break;
    await sleep(20);
  }
  return "stopped";
}

/** `pid` and all its descendants, parents first, if `pid` runs here in the container's cgroup. */
export function localProcessTree(pid: number, containerId: string): number[] | undefined {
  try {
    if (!readFileSync(`/proc/${pid}/cgroup`, "utf8").includes(containerId)) return undefined;
  } catch {
    return undefined;
  }
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name may hold spaces and parentheses: the fields after it follow the last ")".
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended while the list was read.
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

/** Run argv in the container (through an exec made ahead, when given) and throw unless it exits 0. */
export async function execExpectingSuccess(container: { id: string; name: string }, argv: string[], timeoutMs: number, signal: AbortSignal, what: string, execId?: string): Promise<void> {
  const outcome = execId ? await startExec(container, execId, argv, timeoutMs, signal) : await execIn(container, argv, timeoutMs, signal);
  if (outcome.exitCode !== 0) {
    const tail = outcome.output.trim().split("\n").slice(-3).join(" | ");
    throw new AdapterError(`${what}: ${argv.join(" ")} in container ${container.name} exited with ${outcome.exitCode}${tail ? `: ${tail}` : ""}`);
  }
}

/** Start argv in the container, detached; resolves once it runs (with its host pid). */
export async function spawnIn(container: { id: string; name: string }, argv: string[]): Promise<{ pid: number }> {
  const docker = await dockerEngine();
  try {
    const exec = await docker.getContainer(container.id).exec({ Cmd: argv, AttachStdout: false, AttachStderr: false });
    await exec.start({ Detach: true });
    for (let i = 0; i < 100; i++) {
      const info = await exec.inspect();
      if (info.Pid > 0) return { pid: info.Pid };
      if (!info.Running && info.ExitCode !== null) throw new AdapterError(`${argv.join(" ")} in container ${container.name} exited at once with ${info.ExitCode}`);
      await sleep(10);
    }
    throw new AdapterError(`${argv.join(" ")} in container ${container.name} did not start`);
  } catch (err) {
    if (err instanceof AdapterError) throw err;
    throw engineError(`starting ${argv[0]} in container ${container.name}`, err);
  }
}
