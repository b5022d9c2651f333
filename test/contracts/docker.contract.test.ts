// The adapter contract against a real Docker engine: every reversible docker action, observed
// through the engine (state, limits, networks, processes, qdiscs) before, during and after.

import { registry } from "../../src/registry.js";
import { execIn } from "../../src/adapters/docker/exec.js";
import type { RunContext, Target } from "../../src/contract/adapter.js";
import { BUSYBOX, containerFactory, engineAvailable, TC_IMAGE } from "../helpers/docker.js";
import { adapterContract, failingCase, runAdapterContract, type Arranged, type ContractCase, type FailingCase } from "./adapter-contract.js";

const available = await engineAvailable();
const containers = containerFactory();
const ctx: RunContext = { signal: new AbortController().signal, runId: "docker-contract", note: () => {}, defer: () => {} };
const networks: string[] = [];

type Started = Awaited<ReturnType<typeof containers.start>>;

async function targetOf(c: Started): Promise<Target> {
  const def = registry.targetKinds.get("docker")!;
  const [target] = await def.resolve(def.selector.parse({ names: c.name }), ctx);
  if (!target) throw new Error(`container ${c.name} was not found as a target`);
  return target;
}

type StartOptions = Parameters<typeof containers.start>[0];

/** A case on a fresh container started with `start`, observed through `observe` (or arranged its own way). */
type OnContainer<O> =
  | { observe: (c: Started) => Promise<O>; start?: StartOptions }
  /** Sets the container up itself (a network, a pause), returning how it is observed. */
  | { arrange: () => Promise<Arranged<O>> };

function arranger<O>(c: OnContainer<O>): () => Promise<Arranged<O>> {
  if ("arrange" in c) return c.arrange;
  return async () => {
    const started = await containers.start(c.start);
    return { target: await targetOf(started), observe: () => c.observe(started) };
  };
}

function dockerCase<O>(c: Omit<ContractCase<O>, "arrange"> & OnContainer<O>) {
  return adapterContract<O>({ ...c, arrange: arranger(c) });
}

function dockerFailing<O>(c: Omit<FailingCase<O>, "arrange"> & OnContainer<O>) {
  return failingCase<O>({ ...c, arrange: arranger(c) });
}

const runState = async (c: Started) => {
  const s = await containers.state(c.id);
  return { running: s.Running, paused: s.Paused };
};
/** StartedAt too: a kill the container shrugged off must not have restarted it either. */
const runIdentity = async (c: Started) => {
  const s = await containers.state(c.id);
  return { running: s.Running, startedAt: s.StartedAt };
};
const fileExists = (file: string) => async (c: Started) => (await execIn(c, ["test", "-e", file], 5_000, ctx.signal)).exitCode === 0;
const burners = async (c: Started) => (await execIn(c, ["ps"], 10_000, ctx.signal)).output.match(/md5sum \/dev\/zero/g)?.length ?? 0;
const stressHelpers = async (c: Started) =>
  (await containers.docker.listContainers({ all: true, filters: JSON.stringify({ label: ["chaoscast.helper=docker.stress", `chaoscast.stress.target=${c.name}`] }) })).length;

/**
 * The limits as they act: a memory limit of the whole host, which is how Docker lets one be lifted,
 * is none. CPUs are shown as set, so that a revert setting a limit the fault never touched shows.
 */
async function limits(c: Started) {
  const h = (await c.container.inspect()).HostConfig;
  const host = await containers.docker.info();
  return {
    cpus: (h.NanoCpus ?? 0) > 0 ? h.NanoCpus : "none",
    cpuQuota: (h.CpuQuota ?? 0) > 0 ? h.CpuQuota : "none",
    cpuPeriod: h.CpuPeriod ?? 0,
    memory: (h.Memory ?? 0) > 0 && h.Memory! < host.MemTotal ? h.Memory : "none",
    memorySwap: (h.MemorySwap ?? 0) > 0 && h.MemorySwap! < 2 * host.MemTotal ? h.MemorySwap : "none",
  };
}

/** An internal network of the test's own (no route out), with a subnet so that fixed addresses work. */
async function testNetwork(): Promise<{ name: string; ip: string }> {
  const name = `cc-contract-${Math.random().toString(36).slice(2, 8)}`;
  const third = 100 + networks.length;
  await containers.docker.createNetwork({ Name: name, Internal: true, IPAM: { Config: [{ Subnet: `172.31.${third}.0/24` }] } });
  networks.push(name);
  return { name, ip: `172.31.${third}.42` };
}

/** Every network the container is on, with its aliases (less its own short id) and address. */
async function attachments(c: Started) {
  const found = (await c.container.inspect()).NetworkSettings.Networks ?? {};
  return Object.fromEntries(
    Object.entries(found).map(([name, n]) => [name, { aliases: (n.Aliases ?? []).filter((a: string) => !c.id.startsWith(a)).sort(), ip: n.IPAddress }]),
  );
}

const onNetwork = async () => {
  const net = await testNetwork();
  const c = await containers.start({ network: { name: net.name, aliases: ["payment-api", "payment"], ipv4: net.ip } });
  return { target: await targetOf(c), observe: () => attachments(c), params: { network: net.name } };
};

runAdapterContract({
  adapter: "docker",
  skip: !available,
  async cleanup() {
    await containers.cleanup();
    for (const name of networks) await containers.docker.getNetwork(name).remove().catch(() => {});
  },
  cases: [
    dockerCase({ action: "docker.pause", params: {}, does: "freezes the container", observe: runState, showsFault: (now) => now.paused }),
    dockerCase({ action: "docker.stop", params: { timeout: "1s" }, does: "stops the container", observe: runState, showsFault: (now) => !now.running }),
    dockerCase({ action: "docker.kill", params: {}, does: "kills the container with SIGKILL", observe: runState, showsFault: (now) => !now.running }),
    dockerCase({
      action: "docker.kill",
      params: { signal: "SIGTERM" },
      does: "ends a container whose main process exits on SIGTERM",
      observe: runState,
      start: { cmd: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"] },
      showsFault: (now) => !now.running,
    }),
    dockerCase({
      action: "docker.exec",
      params: { command: ["touch", "/tmp/broken"], revert: ["rm", "-f", "/tmp/broken"] },
      does: "changes a file inside the container",
      observe: fileExists("/tmp/broken"),
      showsFault: (now) => now,
    }),
    dockerCase({
      action: "docker.network-disconnect",
      params: {},
      does: "cuts the container off a network on which it has aliases and a fixed address",
      arrange: onNetwork,
      showsFault: (now, before) => Object.keys(now).length === Object.keys(before).length - 1,
    }),
    dockerCase({
      action: "docker.limit",
      params: { cpus: 0.5 },
      does: "squeezes the CPUs of a container limited in CPU and memory, and only its CPUs",
      observe: limits,
      start: { hostConfig: { NanoCpus: 1e9, Memory: 256 * 1024 ** 2, MemorySwap: 256 * 1024 ** 2 } },
      showsFault: (now, before) => now.cpus === 5e8 && now.memory === before.memory,
    }),
    dockerCase({
      action: "docker.limit",
      params: { cpus: 0.5 },
      does: "squeezes a container that has a CPU period but no quota, through a quota",
      observe: limits,
      start: { hostConfig: { CpuPeriod: 50_000 } },
      showsFault: (now) => now.cpuQuota === 25_000 && now.cpuPeriod === 50_000,
    }),
    dockerCase({
      action: "docker.limit",
      params: { memory: "64m" },
      does: "squeezes the memory of a container with no limits, leaving its CPUs alone",
      observe: limits,
      showsFault: (now) => now.memory === 64 * 1024 ** 2 && now.cpus === "none",
    }),
    dockerCase({ action: "docker.stress", params: { workers: 2 }, does: "burns CPU inside the container", observe: burners, showsFault: (now) => now === 2 }),
    dockerCase({
      action: "docker.stress",
      params: { workers: 2, image: BUSYBOX },
      does: "burns CPU from helpers sharing the container's PID namespace",
      observe: async (c) => ({ burners: await burners(c), helpers: await stressHelpers(c) }),
      showsFault: (now) => now.burners === 2 && now.helpers === 2,
    }),
    dockerCase({
      action: "docker.netem",
      params: { rate: "2mbit", device: "lo", image: TC_IMAGE },
      does: "caps what the container sends",
      observe: (c) => containers.rootQdisc(c.id).then((q) => q?.kind),
      start: { networkMode: "none" },
      showsFault: (now) => now === "tbf",
    }),
  ],
  failing: [
    dockerFailing({
      action: "docker.kill",
      params: { signal: "SIGTERM", within: "500ms" },
      when: "a SIGTERM the container's PID 1 ignores",
      observe: runIdentity,
      error: /still runs 500ms after SIGTERM: its main process handled or ignored the signal/,
    }),
    dockerFailing({
      action: "docker.stop",
      params: { timeout: "1s" },
      when: "the container was started with --rm, so nothing could start it again",
      observe: runState,
      start: { hostConfig: { AutoRemove: true } },
      error: /was started with --rm/,
    }),
    dockerFailing({
      action: "docker.pause",
      params: {},
      when: "someone else paused the container",
      async arrange() {
        const c = await containers.start();
        await c.container.pause();
        return { target: await targetOf(c), observe: () => runState(c) };
      },
      error: /already paused; chaoscast will not take over/,
    }),
    dockerFailing({
      action: "docker.network-disconnect",
      params: {},
      when: "the container is not on that network",
      arrange: async () => ({ ...(await onNetwork()), params: { network: "no-such-network" } }),
      error: /is not on network no-such-network; it is on: cc-contract-/,
    }),
    dockerFailing({
      action: "docker.exec",
      params: { command: ["sh", "-c", "touch /tmp/half; exit 3"], revert: ["rm", "-f", "/tmp/half"] },
      when: "its program fails half-way (the revert written ahead undoes the half)",
      observe: fileExists("/tmp/half"),
      error: /exited with 3/,
    }),
    dockerFailing({
      action: "docker.stress",
      params: { image: "chaoscast-fixture/no-such-image:0" },
      when: "its helper image is not on the host",
      observe: burners,
      error: /needs the helper image chaoscast-fixture\/no-such-image:0/,
    }),
  ],
});
