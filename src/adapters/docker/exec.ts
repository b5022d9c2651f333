// Running a program inside a container (argument array, never a shell string): the docker.exec
// action and its revert share it.

import { readdirSync, readFileSync } from "node:fs";
import { PassThrough } from "node:stream";
import type Dockerode from "dockerode";
import { AdapterError } from "../../errors.js";
import { sleep } from "../../util/abortable.js";
import { dockerEngine, engineError } from "./client.js";

export interface ExecOutcome {
  exitCode: number | null;
  output: string;
}

/** Run argv in the container; resolves with its exit code and (the tail of) its output. */
export async function execIn(container: { id: string; name: string }, argv: string[], timeoutMs: number, signal: AbortSignal): Promise<ExecOutcome> {
  const docker = await dockerEngine();
  let output = "";
  let exec: Awaited<ReturnType<Dockerode.Container["exec"]>> | undefined;
  try {
    exec = await docker.getContainer(container.id).exec({ Cmd: argv, AttachStdout: true, AttachStderr: true });
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
      const stopped = exec ? await stopExec(exec, container.id) : "";
      throw new AdapterError(`${argv[0]} in container ${container.name}: ${err.message}${stopped}`);
    }
    throw engineError(`running ${argv[0]} in container ${container.name}`, err);
  }
}

/**
 * Stop an exec that is still running, with everything it started. Docker cannot kill an exec, so
 * its processes are signalled from here: found from its host pid when /proc here shows that pid
 * in the container's cgroup (the engine is local). Says what happened, for the error message.
 */
async function stopExec(exec: Dockerode.Exec, containerId: string): Promise<string> {
  const info = await exec.inspect().catch(() => undefined);
  if (!info?.Running || !info.Pid) return "";
  const tree = localProcessTree(info.Pid, containerId);
  if (!tree) return "; it may still be running inside the container (chaoscast can stop it only on a local engine)";
  for (const pid of tree) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  return "; it was stopped";
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

/** Run argv in the container and throw unless it exits 0. */
export async function execExpectingSuccess(container: { id: string; name: string }, argv: string[], timeoutMs: number, signal: AbortSignal, what: string): Promise<void> {
  const outcome = await execIn(container, argv, timeoutMs, signal);
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
