// Faults on containers: pause (reverted by unpause), stop and kill (reverted by start), restart,
// exec (with an optional undo command), network-disconnect (reverted by reconnecting), limit
// (reverted by restoring the limits) and stress (reverted by stopping the burners). docker.netem
// lives in netem.ts. Each checks the container in preflight and again before acting, and confirms
// through the engine that the fault took effect.

import { constants } from "node:os";
import { z } from "zod";
import { AdapterError } from "../../errors.js";
import { defineAction, revertWith, type Target } from "../../contract/adapter.js";
import { ArgvSchema, DurationSchema } from "../../contract/common-schemas.js";
import { createExec, execExpectingSuccess, spawnIn } from "./exec.js";
import { requireImage } from "./helper.js";
import { cpusetOf, removeStressHelpersRevert, runningStressHelpers, startStressHelper } from "./stress-helpers.js";
import { sleep } from "../../util/abortable.js";
import { dockerEngine, engineError, statusOf } from "./client.js";
import { containerOf, mustRun, runningState, stoppableState } from "./checks.js";
import { formatDuration } from "../../contract/duration.js";
import { endpointOn, execRevert, leftRun, processesMarked, inspectResources, reconnectRevert, restoreResourcesRevert, startRevert, type Attachment, type LimitKind, stopBurnersRevert, unpauseRevert, waitForContainer, type ContainerState } from "./reverts.js";
import type { ContainerData } from "./targets.js";
import type { EndpointSettings } from "dockerode";

const SIGNAL_NAMES = Object.keys(constants.signals) as [string, ...string[]];

async function confirm(data: ContainerData, action: string, what: string, wanted: (s: ContainerState | undefined) => boolean): Promise<void> {
  if (!(await waitForContainer(data, wanted, 10_000))) throw new AdapterError(`${action}: container ${data.name} did not become ${what}`, { action, target: data.name });
}

/** A running container nobody has paused: chaoscast will not take over someone else's pause. */
async function pausable(target: Target | null): Promise<ContainerData> {
  const data = await containerOf(target, "docker.pause");
  const state = await runningState(data, "docker.pause");
  if (state.paused) throw new AdapterError(`container ${data.name} is already paused; chaoscast will not take over a pause it did not make`, { action: "docker.pause", target: data.name });
  return data;
}

export const pause = defineAction({
  name: "docker.pause",
  description: "Freeze every process of the container (cgroup freezer): it holds its sockets but answers nothing. Reverted by unpause.",
  target: "docker",
  reversible: "always",
  params: z.object({}).strict(),
  example: {},
  async preflight(_params, target) {
    await pausable(target);
  },
  async prepare(_params, target) {
    const data = await pausable(target);
    return {
      revert: revertWith(unpauseRevert, { ...data }),
      async apply() {
        try {
          await (await dockerEngine()).getContainer(data.id).pause();
        } catch (err) {
          throw engineError(`docker.pause of ${data.name}`, err);
        }
        await confirm(data, "docker.pause", "paused", (s) => s?.paused === true);
      },
    };
  },
});

export const stop = defineAction({
  name: "docker.stop",
  description: "Stop the container (SIGTERM, then SIGKILL after `timeout`). Reverted by starting it again.",
  target: "docker",
  reversible: "always",
  params: z.object({ timeout: DurationSchema.prefault("10s").meta({ description: "Grace period before Docker kills it." }) }).strict(),
  example: { timeout: "5s" },
  preflight: mustRun("docker.stop", stoppableState),
  async prepare(params, target) {
    const data = await containerOf(target, "docker.stop");
    const before = await stoppableState(data, "docker.stop");
    return {
      // Docker kills it `timeout` after SIGTERM; a few seconds more cover the engine's own work.
      revert: revertWith(startRevert, { ...data, startedAt: before.startedAt, settleBy: Date.now() + params.timeout + 5_000 }),
      async apply() {
        try {
          await (await dockerEngine()).getContainer(data.id).stop({ t: Math.ceil(params.timeout / 1000) });
        } catch (err) {
          if (statusOf(err) !== 304) throw engineError(`docker.stop of ${data.name}`, err);
        }
        await confirm(data, "docker.stop", "stopped", (s) => s !== undefined && !s.running);
      },
    };
  },
});

// Signals that freeze, resume or are ignored by default: the container would keep "running" and the
// revert (a start) could not undo them, so they are not a kill.
const NOT_KILLING = new Set(["SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGCONT", "SIGCHLD", "SIGURG", "SIGWINCH"]);
const KILL_SIGNALS = SIGNAL_NAMES.filter((s) => !NOT_KILLING.has(s)) as [string, ...string[]];
const KillSignalSchema = z.enum(KILL_SIGNALS, {
  error: (issue) =>
    typeof issue.input === "string" && NOT_KILLING.has(issue.input)
      ? `${issue.input} does not end a container (it freezes, resumes or is ignored); to freeze one, use docker.pause`
      : "expected a signal name such as SIGKILL, SIGTERM or SIGINT",
});

export const kill = defineAction({
  name: "docker.kill",
  description:
    "Send a signal (default SIGKILL) to the container's main process and check that it ended (or that its restart policy restarted it) within `within`. Reverted by starting it again, unless something already did.",
  target: "docker",
  reversible: "always",
  params: z
    .object({
      signal: KillSignalSchema.default("SIGKILL").meta({ description: "The signal to send; one that ends a process (SIGKILL, SIGTERM, SIGINT, SIGQUIT …)." }),
      within: DurationSchema.prefault("10s").meta({ description: "How long the container may take to end after the signal before the fault counts as failed." }),
    })
    .strict(),
  example: { signal: "SIGKILL" },
  preflight: mustRun("docker.kill", stoppableState),
  async prepare(params, target) {
    const data = await containerOf(target, "docker.kill");
    const before = await stoppableState(data, "docker.kill");
    return {
      revert: revertWith(startRevert, { ...data, startedAt: before.startedAt, settleBy: Date.now() + params.within + 1_000 }),
      async apply() {
        try {
          await (await dockerEngine()).getContainer(data.id).kill({ signal: params.signal });
        } catch (err) {
          throw engineError(`docker.kill of ${data.name}`, err);
        }
        // A signal the process handles or ignores (a PID 1 without a handler ignores SIGTERM) leaves
        // it running, which must not pass for a kill: it ended, or a restart policy began a new run.
        if (!(await waitForContainer(data, leftRun(before.startedAt), params.within))) {
          throw new AdapterError(
            `docker.kill: container ${data.name} still runs ${formatDuration(params.within)} after ${params.signal}: its main process handled or ignored the signal (a PID 1 with no handler ignores SIGTERM and SIGINT); send SIGKILL, or use docker.stop`,
            { action: "docker.kill", target: data.name },
          );
        }
      },
    };
  },
});

export const restart = defineAction({
  name: "docker.restart",
  description: "Restart the container (stop, then start). The revert only makes sure it is running.",
  target: "docker",
  reversible: "always",
  params: z.object({ timeout: DurationSchema.prefault("10s").meta({ description: "Grace period before Docker kills it." }) }).strict(),
  example: { timeout: "5s" },
  preflight: mustRun("docker.restart"),
  async prepare(params, target) {
    const data = await containerOf(target, "docker.restart");
    const before = await runningState(data, "docker.restart");
    return {
      revert: revertWith(startRevert, { ...data, startedAt: before.startedAt, settleBy: Date.now() + params.timeout + 5_000 }),
      async apply() {
        try {
          await (await dockerEngine()).getContainer(data.id).restart({ t: Math.ceil(params.timeout / 1000) });
        } catch (err) {
          throw engineError(`docker.restart of ${data.name}`, err);
        }
        await confirm(data, "docker.restart", "running again", (s) => s?.running === true);
      },
    };
  },
});

export const exec = defineAction({
  name: "docker.exec",
  description: "Run a program inside the container (argument array, never a shell string); optionally another to undo it.",
  target: "docker",
  reversible: "when-configured",
  revertConfigured: (params) => params.revert !== undefined,
  params: z
    .object({
      command: ArgvSchema,
      revert: ArgvSchema.optional().meta({ description: "A program, run in the container on rollback, that undoes the fault." }),
      timeout: DurationSchema.prefault("30s").meta({ description: "Give up after this long." }),
    })
    .strict(),
  example: { command: ["rm", "-f", "/srv/cache/segments.db"], revert: ["touch", "/srv/cache/segments.db"] },
  preflight: mustRun("docker.exec"),
  async prepare(params, target) {
    const data = await containerOf(target, "docker.exec");
    await runningState(data, "docker.exec");
    // The exec is made (not started) now, so its id is on record before the program runs: a
    // rollback after a crash mid-fault stops it, with or without an undo command.
    const execId = await createExec(data, params.command);
    return {
      revert: revertWith(execRevert, { ...data, execId, program: params.command[0], ...(params.revert ? { command: params.revert } : {}), timeout: params.timeout }),
      apply: (applyCtx) => execExpectingSuccess(data, params.command, params.timeout, applyCtx.signal, "docker.exec", execId),
    };
  },
});

export const networkDisconnect = defineAction({
  name: "docker.network-disconnect",
  description: "Disconnect the container from a Docker network; reverted by reconnecting it as it was attached (aliases, fixed addresses, links).",
  target: "docker",
  reversible: "always",
  params: z.object({ network: z.string().min(1).meta({ description: "The network's name, id, or the start of an id." }) }).strict(),
  example: { network: "ott-backend" },
  async preflight(params, target) {
    const data = await containerOf(target, "docker.network-disconnect");
    await runningState(data, "docker.network-disconnect");
    await endpointToCut(data, params.network);
  },
  async prepare(params, target) {
    const data = await containerOf(target, "docker.network-disconnect");
    await runningState(data, "docker.network-disconnect");
    const docker = await dockerEngine();
    const [network, endpoint] = await endpointToCut(data, params.network);
    const attachment = endpointToRestore(data, endpoint);
    return {
      revert: revertWith(reconnectRevert, { ...data, network, ...attachment }),
      async apply() {
        try {
          await docker.getNetwork(network).disconnect({ Container: data.id, Force: false });
        } catch (err) {
          throw engineError(`disconnecting container ${data.name} from network ${network}`, err);
        }
        if (await endpointOn(data, network)) throw new AdapterError(`docker.network-disconnect: container ${data.name} is still on network ${network}`);
      },
    };
  },
});

/** The network (by name, id or unique id prefix) and endpoint a disconnect would cut, or why it cannot. */
async function endpointToCut(data: ContainerData, wanted: string): Promise<[string, EndpointSettings]> {
  const info = await (await dockerEngine())
    .getContainer(data.id)
    .inspect()
    .catch((err: unknown) => {
      throw engineError(`inspecting container ${data.name}`, err);
    });
  const networks = Object.entries(info.NetworkSettings.Networks ?? {});
  // A name, or an id (a prefix of it, as the docker CLI takes) matching exactly one network.
  const byName = networks.find(([name]) => name === wanted);
  const byId = networks.filter(([, n]) => n.NetworkID?.startsWith(wanted));
  const found = byName ?? (byId.length === 1 ? byId[0] : undefined);
  const refuse = (why: string) => new AdapterError(`container ${data.name} ${why}`, { action: "docker.network-disconnect", target: data.name });
  if (!found) {
    const on = networks.map(([name]) => name).join(", ") || "none";
    if (byId.length > 1) throw refuse(`is on several networks whose ids start with ${wanted} (${byId.map(([name]) => name).join(", ")}); give the name`);
    throw refuse(`is not on network ${wanted}; it is on: ${on}`);
  }
  if (found[0] === "host" || found[0] === "none") throw refuse(`uses the ${found[0]} network, which cannot be disconnected`);
  return found;
}

/**
 * What a reconnect must ask for to bring the endpoint back as it was: its aliases, the addresses it
 * was given with --ip/--ip6/--link-local-ip (Docker's IPAMConfig, empty when none were), its legacy
 * links and driver options. A dynamic address is Docker's to hand out again, as with `docker network
 * connect`.
 */
function endpointToRestore(data: ContainerData, endpoint: EndpointSettings): Omit<Attachment, "network"> {
  const { IPv4Address, IPv6Address, LinkLocalIPs } = endpoint.IPAMConfig ?? {};
  const given = IPv4Address || IPv6Address || LinkLocalIPs?.length;
  return {
    // The container's own short id is an automatic alias, and Docker refuses it back on reconnect.
    aliases: (endpoint.Aliases ?? []).filter((a: string) => !data.id.startsWith(a)),
    ...(given ? { ipam: endpoint.IPAMConfig } : {}),
    ...(endpoint.Links?.length ? { links: endpoint.Links } : {}),
    ...(endpoint.DriverOpts && Object.keys(endpoint.DriverOpts).length ? { driverOpts: endpoint.DriverOpts } : {}),
  };
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|k|kb|m|mb|g|gb)?$/i;
const MemorySchema = z
  .string()
  .regex(SIZE, { error: 'expected a size such as "256m", "1g" or "512mb"' })
  .transform((text) => {
    const [, amount, unit = "b"] = SIZE.exec(text)!;
    const factor = { b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 }[unit.toLowerCase() as "b"];
    return Math.round(Number(amount) * factor);
  })
  .refine((bytes) => bytes >= 6 * 1024 ** 2, { message: "Docker needs at least 6m of memory" });

/** A limit the host cannot honour fails at injection, and one above what it has squeezes nothing: both are refused up front. */
async function withinHost(params: { cpus?: number | undefined; memory?: number | undefined }, data: ContainerData): Promise<void> {
  const host = await (await dockerEngine()).info().catch((err: unknown) => {
    throw engineError("asking the Docker engine about its host", err);
  });
  const refuse = (why: string) => new AdapterError(`docker.limit on container ${data.name}: ${why}`, { action: "docker.limit", target: data.name });
  if (params.cpus !== undefined && params.cpus >= host.NCPU) throw refuse(`cpus: ${params.cpus} is not less than the ${host.NCPU} CPUs of the Docker host, so it would squeeze nothing`);
  if (params.memory !== undefined && params.memory >= host.MemTotal) {
    throw refuse(`memory: ${Math.round(params.memory / 1024 ** 2)}m is not less than the ${Math.round(host.MemTotal / 1024 ** 2)}m of the Docker host, so it would squeeze nothing`);
  }
}

export const limit = defineAction({
  name: "docker.limit",
  description: "Squeeze the container's CPU and/or memory (docker update); reverted by restoring the limits it had.",
  target: "docker",
  reversible: "always",
  params: z
    .object({
      cpus: z.number().min(0.01, { error: "cpus must be at least 0.01 (Docker's smallest CPU limit)" }).optional().meta({ description: "CPUs it may use, e.g. 0.25." }),
      memory: MemorySchema.optional().meta({ description: 'Memory it may use, e.g. "128m" (swap included).' }),
    })
    .strict()
    .refine((p) => p.cpus !== undefined || p.memory !== undefined, { message: "give cpus, memory or both" }),
  example: { cpus: 0.25, memory: "128m" },
  async preflight(params, target) {
    const data = await containerOf(target, "docker.limit");
    await runningState(data, "docker.limit");
    await withinHost(params, data);
  },
  async prepare(params, target) {
    const data = await containerOf(target, "docker.limit");
    await runningState(data, "docker.limit");
    const before = await inspectResources(data);
    const update: Record<string, number> = {};
    const changed: LimitKind[] = [];
    if (params.cpus !== undefined) {
      // Docker refuses NanoCpus on a container that has a CPU period (with or without a quota):
      // squeeze through quota and period then.
      if (before.cpuQuota > 0 || before.cpuPeriod > 0) {
        const period = before.cpuPeriod || 100_000;
        Object.assign(update, { CpuQuota: Math.max(1000, Math.round(params.cpus * period)), CpuPeriod: period });
      } else update.NanoCpus = Math.round(params.cpus * 1e9);
      changed.push("cpu");
    }
    if (params.memory !== undefined) {
      Object.assign(update, { Memory: params.memory, MemorySwap: params.memory });
      changed.push("memory");
    }
    return {
      revert: revertWith(restoreResourcesRevert, { ...data, before, changed }),
      async apply() {
        try {
          await (await dockerEngine()).getContainer(data.id).update(update);
        } catch (err) {
          throw engineError(`docker.limit of ${data.name}`, err);
        }
        const now = await inspectResources(data);
        const cpuShown = update.NanoCpus !== undefined ? now.nanoCpus === update.NanoCpus : update.CpuQuota === undefined || now.cpuQuota === update.CpuQuota;
        if (!cpuShown || (update.Memory !== undefined && now.memory !== update.Memory)) {
          throw new AdapterError(`docker.limit: container ${data.name} does not show the new limits`, { action: "docker.limit", target: data.name });
        }
      },
    };
  },
});

export const stress = defineAction({
  name: "docker.stress",
  description:
    "Burn CPU: `workers` processes reading /dev/zero through md5sum (no shell), inside the container, or with `image` in helper containers sharing its PID namespace and CPU set (for images without md5sum). Reverted by stopping them.",
  target: "docker",
  reversible: "always",
  params: z
    .object({
      workers: z.int().min(1).max(64).default(1).meta({ description: "CPU burners to start; each takes up to one CPU." }),
      image: z
        .string()
        .min(1)
        .optional()
        .meta({ description: "Burn from helper containers of this local image (needs md5sum; never pulled) instead of inside the target; they compete for its CPUs but are not held to its CPU limit." }),
    })
    .strict(),
  example: { workers: 2 },
  async preflight(params, target) {
    await runningState(await containerOf(target, "docker.stress"), "docker.stress");
    if (params.image) await requireImage(params.image, "docker.stress");
  },
  async prepare(params, target, ctx) {
    const data = await containerOf(target, "docker.stress");
    await runningState(data, "docker.stress");
    const marker = `chaoscast-stress-${ctx.runId}-${Math.random().toString(36).slice(2, 8)}`.replace(/[^A-Za-z0-9_.-]/g, "-");
    if (params.image) {
      await requireImage(params.image, "docker.stress");
      const cpuset = await cpusetOf(data);
      return {
        revert: revertWith(removeStressHelpersRevert, { ...data, marker }),
        async apply() {
          for (let i = 0; i < params.workers; i++) await startStressHelper(data, params.image!, marker, cpuset);
          const running = await runningStressHelpers(marker);
          if (running < params.workers) throw new AdapterError(`docker.stress: only ${running} of ${params.workers} CPU-burning helpers run next to container ${data.name} (does ${params.image} have md5sum?)`);
        },
      };
    }
    return {
      revert: revertWith(stopBurnersRevert, { ...data, marker: `/${marker}` }),
      async apply() {
        for (let i = 0; i < params.workers; i++) await spawnIn(data, ["md5sum", "/dev/zero", `/${marker}`]);
        // A burner that exited at once (no md5sum, no /dev/zero) must not pass for a fault.
        await sleep(200);
        const burning = (await processesMarked(data, `/${marker}`)).length;
        if (burning < params.workers) throw new AdapterError(`docker.stress: only ${burning} of ${params.workers} CPU burners run in container ${data.name} (does its image have md5sum?)`);
      },
    };
  },
});
