// Undoing container faults from data alone (in the run, or by `chaoscast rollback` after a crash):
// unpause a paused container, start a stopped or killed one; each then inspects it to confirm.

import { readFileSync } from "node:fs";
import { forbiddenPid } from "../../util/process-owner.js";
import { z } from "zod";
import { AdapterError } from "../../errors.js";
import { defineRevert } from "../../contract/adapter.js";
import { sleep } from "../../util/abortable.js";
import { dockerEngine, engineError, statusOf } from "./client.js";
import { execExpectingSuccess, execIn, stopExec } from "./exec.js";
import type { EndpointSettings } from "dockerode";

// The engine's full container ID: a record holding anything else (an empty or partial id would
// match any cgroup or command line it is compared with) was not written by a run.
export const ContainerDataSchema = z.object({ id: z.string().regex(/^[0-9a-f]{64}$/, { error: "expected the engine's 64-hex-digit container ID" }), name: z.string(), engine: z.string().optional(), engineAt: z.string().optional() });
type ContainerData = z.output<typeof ContainerDataSchema>;

export interface ContainerState {
  running: boolean;
  paused: boolean;
  restarting: boolean;
  status: string;
  health: string | undefined;
  restartCount: number;
  restartPolicy: string;
  /** When its current run began: a kill that a restart policy answered changes it. */
  startedAt: string;
  /** `docker run --rm`: the engine removes it once it stops, so nothing can start it again. */
  autoRemove: boolean;
}

/** The container's state, or undefined when it no longer exists. */
export async function inspectContainer(data: ContainerData): Promise<ContainerState | undefined> {
  const docker = await dockerEngine();
  try {
    const info = await docker.getContainer(data.id).inspect();
    return {
      running: info.State.Running,
      paused: info.State.Paused,
      restarting: info.State.Restarting,
      status: info.State.Status,
      health: info.State.Health?.Status,
      restartCount: info.RestartCount,
      restartPolicy: info.HostConfig.RestartPolicy?.Name ?? "no",
      startedAt: info.State.StartedAt,
      autoRemove: info.HostConfig.AutoRemove === true,
    };
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw engineError(`inspecting container ${data.name}`, err);
  }
}

/**
 * Whether the container has left the run it had at `startedAt`: it stopped, was removed, or a
 * restart began another. What a stop or kill is seen to have done.
 */
export function leftRun(startedAt: string | undefined): (s: ContainerState | undefined) => boolean {
  return (s) => s === undefined || !s.running || s.startedAt !== startedAt;
}

/** Poll until `wanted` holds for the container (true) or `ms` pass (false). */
export async function waitForContainer(data: ContainerData, wanted: (s: ContainerState | undefined) => boolean, ms = 10_000): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (wanted(await inspectContainer(data))) return true;
    if (performance.now() > deadline) return false;
    await sleep(50);
  }
}

export const unpauseRevert = defineRevert({
  kind: "docker.unpause",
  data: ContainerDataSchema,
  describe: (data) => `unpause container ${data.name}`,
  async run(data, ctx) {
    const state = await inspectContainer(data);
    if (!state) {
      ctx.note(`container ${data.name} was removed; its pause went with it`);
      return;
    }
    if (!state.paused) {
      ctx.note(`container ${data.name} was not paused any more; nothing to undo`);
      return;
    }
    try {
      await (await dockerEngine()).getContainer(data.id).unpause();
    } catch (err) {
      if (statusOf(err) !== 304) throw engineError(`unpausing container ${data.name}`, err);
    }
  },
  async verify(data) {
    const state = await inspectContainer(data);
    if (!state) return null;
    return state.paused ? `container ${data.name} is still paused` : null;
  },
});

// What a command changes inside a container cannot be observed in general: the undo command
// exiting 0 is the check. Before it, the fault's own program is stopped if it still runs: after a
// crash mid-fault nothing else would stop it, and it could change things after the rollback.
export const execRevert = defineRevert({
  kind: "docker.exec",
  data: ContainerDataSchema.extend({
    /** The exec the fault's program runs in, made before it started (older records have none). */
    execId: z.string().optional(),
    program: z.string().optional(),
    command: z.array(z.string()).min(1).optional(),
    timeout: z.number(),
  }),
  describe: (data) =>
    data.command ? `run ${data.command.join(" ")} in container ${data.name}` : `stop ${data.program ?? "the docker.exec program"} in container ${data.name} if it still runs`,
  async run(data, ctx) {
    const program = data.program ?? "the docker.exec program";
    const state = await inspectContainer(data);
    if (!state) {
      ctx.note(`container ${data.name} was removed, and what the fault changed inside it went with it${data.command ? `; ${data.command[0]} was not run` : ""}`);
      return;
    }
    if (data.execId) {
      const stopped = await stopExec(data.execId, data.id);
      if (stopped === "remote") throw new AdapterError(`${program} still runs in container ${data.name}, on an engine chaoscast cannot signal processes of; stop it there (docker top ${data.name}), then roll back again`);
      if (stopped === "stopped") ctx.note(`${program} was still running in container ${data.name}; it was stopped`);
    }
    if (data.command) await execExpectingSuccess(data, data.command, data.timeout, ctx.signal, "revert");
  },
  async verify(data) {
    if (!data.execId || !(await inspectContainer(data))) return null;
    const info = await (await dockerEngine()).getExec(data.execId).inspect().catch(() => undefined);
    return info?.Running ? `${data.program ?? "the docker.exec program"} still runs in container ${data.name}` : null;
  },
});

const AttachmentSchema = z.object({
  network: z.string().min(1),
  aliases: z.array(z.string()),
  /** The addresses it was given (--ip, --ip6, --link-local-ip), as Docker's IPAMConfig. */
  ipam: z.object({ IPv4Address: z.string().optional(), IPv6Address: z.string().optional(), LinkLocalIPs: z.array(z.string()).optional() }).optional(),
  links: z.array(z.string()).optional(),
  driverOpts: z.record(z.string(), z.string()).optional(),
});
export type Attachment = z.output<typeof AttachmentSchema>;

/** Reconnect a container to a network as it was attached: aliases, fixed addresses, links, driver options. */
export const reconnectRevert = defineRevert({
  kind: "docker.network-connect",
  data: ContainerDataSchema.extend(AttachmentSchema.shape),
  describe: (data) => `reconnect container ${data.name} to network ${data.network}`,
  async run(data, ctx) {
    const docker = await dockerEngine();
    if (!(await inspectContainer(data))) {
      ctx.note(`container ${data.name} was removed; there is nothing to reconnect`);
      return;
    }
    if (await endpointOn(data, data.network)) {
      ctx.note(`container ${data.name} is already on network ${data.network}`);
      return;
    }
    const endpointConfig = {
      Aliases: data.aliases,
      ...(data.ipam ? { IPAMConfig: data.ipam } : {}),
      ...(data.links ? { Links: data.links } : {}),
      ...(data.driverOpts ? { DriverOpts: data.driverOpts } : {}),
    };
    try {
      await docker.getNetwork(data.network).connect({ Container: data.id, EndpointConfig: endpointConfig });
    } catch (err) {
      throw engineError(`reconnecting container ${data.name} to network ${data.network}`, err);
    }
  },
  async verify(data) {
    if (!(await inspectContainer(data))) return null;
    const endpoint = await endpointOn(data, data.network);
    if (!endpoint) return `container ${data.name} is not on network ${data.network}`;
    const missing = data.aliases.filter((a) => !(endpoint.Aliases ?? []).includes(a));
    if (missing.length) return `container ${data.name} is back on network ${data.network} without its aliases ${missing.join(", ")}`;
    const { IPv4Address: ipv4, IPv6Address: ipv6 } = data.ipam ?? {};
    if (ipv4 && endpoint.IPAddress !== ipv4) return `container ${data.name} is back on network ${data.network} at ${endpoint.IPAddress || "no address"}, not at its fixed ${ipv4}`;
    if (ipv6 && endpoint.GlobalIPv6Address !== ipv6) return `container ${data.name} is back on network ${data.network} at ${endpoint.GlobalIPv6Address || "no IPv6 address"}, not at its fixed ${ipv6}`;
    return null;
  },
});

/** The container's endpoint on `network` (by name or full id), or undefined when it is not on it. */
export async function endpointOn(data: ContainerData, network: string): Promise<EndpointSettings | undefined> {
  const docker = await dockerEngine();
  try {
    const info = await docker.getContainer(data.id).inspect();
    return Object.entries(info.NetworkSettings.Networks ?? {}).find(([name, n]) => name === network || n.NetworkID === network)?.[1];
  } catch (err) {
    if (statusOf(err) === 404) throw new AdapterError(`container ${data.name} no longer exists`);
    throw engineError(`inspecting container ${data.name}`, err);
  }
}

export const startRevert = defineRevert({
  kind: "docker.start",
  data: ContainerDataSchema.extend({
    /** The container's StartedAt when the fault was prepared, and until when (epoch ms) its stop or kill may still be landing. */
    startedAt: z.string().optional(),
    settleBy: z.number().optional(),
  }),
  describe: (data) => `start container ${data.name}`,
  async run(data, ctx) {
    // A restart policy may be bringing it back already: give it a moment rather than race it.
    await waitForContainer(data, (s) => !s?.restarting, 5_000);
    let state = await inspectContainer(data);
    if (!state) throw new AdapterError(`container ${data.name} no longer exists (removed by someone, or by its --rm after the fault), so it cannot be started again: recreate it; until then this fault stays on record`);
    if (state.running && data.startedAt !== undefined && state.startedAt === data.startedAt && data.settleBy !== undefined && Date.now() < data.settleBy) {
      // Still the run the fault hit, within the fault's own grace: a rollback after chaoscast was
      // killed mid-stop or mid-kill gets here while the stop is still landing. Wait for it to end
      // (or not) rather than call a container that is about to exit "running".
      await waitForContainer(data, leftRun(data.startedAt), data.settleBy - Date.now());
      state = await inspectContainer(data);
      if (!state) throw new AdapterError(`container ${data.name} no longer exists, so it cannot be started again: recreate it; until then this fault stays on record`);
    }
    if (state.running) {
      ctx.note(`container ${data.name} is already running (${state.startedAt === data.startedAt ? "the fault did not end it" : "its restart policy, or someone, started it"})`);
      return;
    }
    try {
      await (await dockerEngine()).getContainer(data.id).start();
    } catch (err) {
      if (statusOf(err) !== 304) throw engineError(`starting container ${data.name}`, err);
    }
    await waitForContainer(data, (s) => s?.running === true, 5_000);
  },
  async verify(data) {
    const state = await inspectContainer(data);
    if (!state) return `container ${data.name} no longer exists`;
    return state.running ? null : `container ${data.name} is ${state.status}, not running`;
  },
});

const ResourcesSchema = z.object({ nanoCpus: z.number(), cpuQuota: z.number(), cpuPeriod: z.number(), memory: z.number(), memorySwap: z.number() });
export type Resources = z.output<typeof ResourcesSchema>;

export async function inspectResources(data: ContainerData): Promise<Resources> {
  const docker = await dockerEngine();
  try {
    const h = (await docker.getContainer(data.id).inspect()).HostConfig;
    return { nanoCpus: h.NanoCpus ?? 0, cpuQuota: h.CpuQuota ?? 0, cpuPeriod: h.CpuPeriod ?? 0, memory: h.Memory ?? 0, memorySwap: h.MemorySwap ?? 0 };
  } catch (err) {
    if (statusOf(err) === 404) throw new AdapterError(`container ${data.name} no longer exists`);
    throw engineError(`inspecting container ${data.name}`, err);
  }
}

const LimitKindSchema = z.enum(["cpu", "memory"]);
export type LimitKind = z.output<typeof LimitKindSchema>;

/**
 * The update that brings back what `before` had of the `changed` limits, and only those: a field
 * the fault never touched is left as it is. Docker cannot set NanoCpus or a memory limit back to
 * 0 ("none") through an update (moby/moby#22516), so a limit that was absent is restored as the
 * whole host: all its CPUs and all its memory, which is what "no limit" means in effect. A CPU
 * quota can be lifted (-1), which a container limited by period alone gets back.
 */
export async function restoringUpdate(before: Resources, changed: readonly LimitKind[]): Promise<Record<string, number>> {
  const host = await (await dockerEngine()).info();
  const update: Record<string, number> = {};
  if (changed.includes("cpu")) {
    if (before.cpuQuota > 0) Object.assign(update, { CpuQuota: before.cpuQuota, CpuPeriod: before.cpuPeriod });
    else if (before.cpuPeriod > 0) update.CpuQuota = -1;
    else update.NanoCpus = before.nanoCpus > 0 ? before.nanoCpus : host.NCPU * 1e9;
  }
  if (changed.includes("memory")) {
    const memory = before.memory > 0 ? before.memory : host.MemTotal;
    update.Memory = memory;
    // An update cannot ask for unlimited swap (-1 is ignored): twice the host's memory is as good.
    update.MemorySwap = before.memorySwap > 0 ? before.memorySwap : 2 * Math.max(memory, host.MemTotal);
  }
  return update;
}

export const restoreResourcesRevert = defineRevert({
  kind: "docker.restore-resources",
  // Journals written before `changed` was recorded restored both limits.
  data: ContainerDataSchema.extend({ before: ResourcesSchema, changed: z.array(LimitKindSchema).min(1).default(["cpu", "memory"]) }),
  describe: (data) => `restore the ${data.changed.map((k) => (k === "cpu" ? "CPU" : k)).join(" and ")} limits of container ${data.name}`,
  async run(data, ctx) {
    if (!(await inspectContainer(data))) {
      ctx.note(`container ${data.name} was removed; its limits went with it`);
      return;
    }
    const now = await inspectResources(data);
    // A limit already as it was (the squeeze failed, or was undone) is left alone: "restoring" an
    // absent limit would otherwise set one of the whole host where there was none.
    const kinds = data.changed.filter((kind) => differs(kind, now, data.before));
    if (kinds.length === 0) {
      ctx.note(`the limits of container ${data.name} are as they were; nothing to restore`);
      return;
    }
    const update = await restoringUpdate(data.before, kinds);
    const container = (await dockerEngine()).getContainer(data.id);
    try {
      // cgroup v1 refuses a memory limit above the memory+swap limit: widen swap first.
      if (update.Memory !== undefined && now.memory > 0 && (update.MemorySwap ?? 0) > now.memorySwap) await container.update({ Memory: now.memory, MemorySwap: update.MemorySwap });
      await container.update(update);
    } catch (err) {
      if (statusOf(err) === 404) throw new AdapterError(`container ${data.name} no longer exists; its limits cannot be restored`);
      throw engineError(`restoring the limits of container ${data.name}`, err);
    }
  },
  async verify(data) {
    if (!(await inspectContainer(data))) return null;
    const now = await inspectResources(data);
    const wanted = await restoringUpdate(data.before, data.changed);
    const cpuOk =
      !data.changed.includes("cpu") ||
      !differs("cpu", now, data.before) ||
      (wanted.NanoCpus !== undefined ? now.nanoCpus === wanted.NanoCpus : wanted.CpuQuota! > 0 ? now.cpuQuota === wanted.CpuQuota : now.cpuQuota <= 0);
    const memoryOk = !data.changed.includes("memory") || !differs("memory", now, data.before) || now.memory === wanted.Memory;
    if (cpuOk && memoryOk) return null;
    const cpu = now.nanoCpus > 0 ? `${now.nanoCpus / 1e9} CPUs` : now.cpuQuota > 0 ? `CPU quota ${now.cpuQuota}/${now.cpuPeriod || 100_000}` : "no CPU limit";
    return `container ${data.name} still has ${cpu} and memory ${now.memory} bytes`;
  },
});

/** Whether the container's limits of one kind are not what they were before the fault. */
function differs(kind: LimitKind, now: Resources, before: Resources): boolean {
  if (kind === "cpu") return now.nanoCpus !== before.nanoCpus || now.cpuQuota !== before.cpuQuota || now.cpuPeriod !== before.cpuPeriod;
  return now.memory !== before.memory || now.memorySwap !== before.memorySwap;
}

/** Host pids of the container's processes whose command line holds `marker` (via `docker top`). */
export async function processesMarked(data: ContainerData, marker: string): Promise<number[]> {
  const docker = await dockerEngine();
  let top;
  try {
    top = await docker.getContainer(data.id).top();
  } catch (err) {
    if (statusOf(err) === 404) return []; // the container is gone, and its processes with it
    if (statusOf(err) === 409) return []; // not running: nothing burns
    throw engineError(`listing the processes of container ${data.name}`, err);
  }
  const pidColumn = top.Titles.indexOf("PID");
  const cmdColumn = top.Titles.indexOf("CMD") >= 0 ? top.Titles.indexOf("CMD") : top.Titles.length - 1;
  return (top.Processes ?? []).filter((row: string[]) => row[cmdColumn]?.includes(marker)).map((row: string[]) => Number(row[pidColumn]));
}

function runsHere(pid: number, marker: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker);
  } catch {
    return false;
  }
}

// The burners carry a marker in their command line (an extra file argument md5sum never reaches),
// written ahead with the revert: a run killed while starting them still leaves them findable.
export const stopBurnersRevert = defineRevert({
  kind: "docker.stop-stress",
  data: ContainerDataSchema.extend({ marker: z.string().min(8) }),
  describe: (data) => `stop the CPU burners in container ${data.name}`,
  async run(data, ctx) {
    const pids = await processesMarked(data, data.marker);
    if (pids.length === 0) ctx.note(`no CPU burner was running in container ${data.name}`);
    // `docker top` shows the engine host's pids. Only a pid whose command line here carries the
    // marker is signalled from here; on a remote engine (or a Docker Desktop VM) the container
    // itself is asked, with pkill (busybox and procps have it).
    const foreign = pids.filter((pid) => !runsHere(pid, data.marker));
    for (const pid of pids.filter((p) => !foreign.includes(p))) {
      if (await forbiddenPid(pid)) continue;
      try {
        process.kill(pid, "SIGKILL");
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "EPERM") foreign.push(pid); // another user's process here: the container can still stop it
        else if (code !== "ESRCH") throw new AdapterError(`cannot stop CPU burner pid ${pid} in container ${data.name}: ${(err as Error).message}`);
      }
    }
    if (foreign.length > 0) {
      const killed = await execIn(data, ["pkill", "-KILL", "-f", data.marker], 10_000, ctx.signal).catch((err: unknown) => ({ exitCode: null, output: String(err) }));
      if (killed.exitCode !== 0 && killed.exitCode !== 1) throw new AdapterError(`cannot stop the CPU burners in container ${data.name}: pkill inside it failed (${killed.output.trim() || `exit ${killed.exitCode}`})`);
    }
    const deadline = performance.now() + 2_000;
    while (performance.now() < deadline && (await processesMarked(data, data.marker)).length > 0) await sleep(20);
  },
  async verify(data) {
    const left = (await processesMarked(data, data.marker)).length;
    return left ? `${left} CPU burner(s) still run in container ${data.name}` : null;
  },
});
