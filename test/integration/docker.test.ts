// The docker adapter against a real engine, beyond the adapter contract (test/contracts/): target
// selectors, reverts across engines and of removed containers, exec timeouts, limits lifted to the
// whole host, restart, signals that do not kill, and the probe.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registry } from "../../src/registry.js";
import { revertPerformer } from "../../src/engine/rollback.js";
import { execIn } from "../../src/adapters/docker/exec.js";
import type { RunContext, Target } from "../../src/contract/adapter.js";
import { BUSYBOX, containerFactory, engineAvailable, ensureImages } from "../helpers/docker.js";
import { eventually, pollUntil } from "../helpers/poll.js";

const available = await engineAvailable();
const containers = containerFactory();
const notes: string[] = [];
const ctx: RunContext = { signal: new AbortController().signal, runId: "docker-test", note: (m) => notes.push(m), defer: () => {} };
const perform = revertPerformer(registry.reverts);

async function resolve(selector: Record<string, unknown>): Promise<Target[]> {
  const def = registry.targetKinds.get("docker")!;
  return def.resolve(def.selector.parse(selector), ctx);
}

/** The container's process list (busybox ps: pid, user, time, command line). */
async function ps(c: { id: string; name: string }): Promise<string> {
  return (await execIn(c, ["ps"], 5_000, ctx.signal)).output;
}

async function inject(action: string, target: Target, params: Record<string, unknown> = {}) {
  const def = registry.actions.get(action)!;
  const injection = await def.prepare(def.params.parse(params), target, ctx);
  await injection.apply(ctx);
  return injection.revert!;
}

describe.skipIf(!available)("the docker adapter against a real engine", () => {
  beforeAll(async () => {
    await ensureImages();
  }, 60_000);
  afterAll(() => containers.cleanup());

  it("finds running containers by name, labels and image, and no stopped ones", async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    const a = await containers.start({ labels: { "ott.role": `edge-${tag}` } });
    const b = await containers.start({ labels: { "ott.role": `edge-${tag}`, tier: "gold" } });
    const stopped = await containers.start({ labels: { "ott.role": `edge-${tag}` } });
    await stopped.container.stop({ t: 0 });
    const names = (targets: Target[]) => targets.map((t) => t.data.name).sort();
    expect(names(await resolve({ labels: { "ott.role": `edge-${tag}` } }))).toEqual([a.name, b.name].sort());
    expect(names(await resolve({ labels: { "ott.role": `edge-${tag}`, tier: "gold" } }))).toEqual([b.name]);
    expect(names(await resolve({ names: [a.name, stopped.name] }))).toEqual([a.name]);
    expect(names(await resolve({ image: BUSYBOX, labels: { tier: "gold" } }))).toEqual([b.name]);
    expect(await resolve({ names: "no-such-container-here" })).toEqual([]);
  });

  it("refuses to revert through another engine than the one the fault was made on", async () => {
    const c = await containers.start();
    const [target] = await resolve({ names: c.name });
    const revert = await inject("docker.pause", target!);
    expect(revert.data.engine).toBe((await containers.docker.info()).ID);
    const elsewhere = { ...revert, data: { ...revert.data, engine: "ANOTHER:ENGINE", engineAt: "tcp://127.0.0.1:2375" } };
    await expect(perform(elsewhere, ctx)).rejects.toThrow(/made on another Docker engine \(id ANOTHER:ENGINE, at tcp:\/\/127.0.0.1:2375\) than the one answering at /);
    expect((await containers.state(c.id)).Paused).toBe(true);
    await perform(revert, ctx);
    expect((await containers.state(c.id)).Paused).toBe(false);
  });

  it("restarts a container, which is running again afterwards", async () => {
    const c = await containers.start();
    const before = (await containers.state(c.id)).StartedAt;
    const [target] = await resolve({ names: c.name });
    await inject("docker.restart", target!, { timeout: "1s" });
    const after = await containers.state(c.id);
    expect(after.Running).toBe(true);
    expect(after.StartedAt).not.toBe(before);
  });

  it("fails the revert of a stopped container that was removed, since nothing can start it; a pause of one is simply gone", async () => {
    const c = await containers.start();
    const [target] = await resolve({ names: c.name });
    const revert = await inject("docker.stop", target!, { timeout: "1s" });
    await c.container.remove({ force: true });
    await expect(perform(revert, ctx)).rejects.toThrow(new RegExp(`container ${c.name} no longer exists .* cannot be started again`));

    const paused = await containers.start();
    const [t2] = await resolve({ names: paused.name });
    const unpause = await inject("docker.pause", t2!);
    await paused.container.remove({ force: true });
    await perform(unpause, ctx);
    expect(notes.at(-1)).toContain(`container ${paused.name} was removed; its pause went with it`);
  });

  it("starts a container again whose stop was still landing when the rollback came (chaoscast killed mid-stop)", async () => {
    // PID 1 takes 2 s to exit on SIGTERM: a rollback in that window sees it "running".
    const c = await containers.start({ cmd: ["sh", "-c", "trap 'sleep 2; exit 0' TERM; while true; do sleep 0.1; done"] });
    const [target] = await resolve({ names: c.name });
    const def = registry.actions.get("docker.stop")!;
    const injection = await def.prepare(def.params.parse({ timeout: "10s" }), target!, ctx);
    // The stop the dead chaoscast had asked for goes on in the engine: once PID 1 has its SIGTERM
    // it runs its trap's `sleep 2` (a process of its own in ps), and the container still runs.
    const stopping = c.container.stop({ t: 10 });
    await pollUntil(async () => /\ssleep 2\s*$/m.test(await ps(c)), 5_000, "PID 1 handling the stop's SIGTERM");
    expect((await containers.state(c.id)).Running).toBe(true);
    await perform(JSON.parse(JSON.stringify(injection.revert)), ctx);
    await stopping;
    const state = await containers.state(c.id);
    expect(state.Running).toBe(true);
    expect(state.StartedAt).not.toBe(injection.revert!.data.startedAt);
  });

  it("stops a docker.exec program still running when the rollback came (chaoscast killed mid-exec), with or without an undo", async () => {
    const c = await containers.start();
    const [target] = await resolve({ names: c.name });
    const def = registry.actions.get("docker.exec")!;
    const injection = await def.prepare(def.params.parse({ command: ["sh", "-c", "sleep 2; touch /tmp/late"] }), target!, ctx);
    expect(injection.revert!.description).toBe(`stop sh in container ${c.name} if it still runs`);
    // The program the dead chaoscast had started, still running.
    await containers.docker.getExec(injection.revert!.data.execId as string).start({ Detach: true });
    expect(await eventually(() => ps(c), (seen) => seen.includes("sleep 2"))).toContain("sleep 2");
    await perform(JSON.parse(JSON.stringify(injection.revert)), ctx);
    expect(notes.at(-1)).toBe(`sh was still running in container ${c.name}; it was stopped`);
    // Once neither the shell nor anything it started runs (a stop is delivered asynchronously), it
    // can no longer touch the file; and it has not.
    await pollUntil(async () => !/sleep 2|\/tmp\/late/.test(await ps(c)), 5_000, "the program gone from the container");
    expect((await execIn(c, ["ls", "/tmp"], 5_000, ctx.signal)).output).not.toContain("late");
  });

  it("leaves limits alone that are as they were (a squeeze that failed), instead of setting the whole host", async () => {
    const c = await containers.start();
    const [target] = await resolve({ names: c.name });
    const def = registry.actions.get("docker.limit")!;
    const injection = await def.prepare(def.params.parse({ cpus: 0.5, memory: "64m" }), target!, ctx);
    await perform(injection.revert!, ctx);
    expect(notes.at(-1)).toBe(`the limits of container ${c.name} are as they were; nothing to restore`);
    expect((await c.container.inspect()).HostConfig).toMatchObject({ NanoCpus: 0, Memory: 0 });
    const info = await containers.docker.info();
    await expect(def.preflight!(def.params.parse({ cpus: info.NCPU }), target!, ctx)).rejects.toThrow(`cpus: ${info.NCPU} is not less than the ${info.NCPU} CPUs of the Docker host, so it would squeeze nothing`);
    await expect(def.preflight!(def.params.parse({ memory: "100000g" }), target!, ctx)).rejects.toThrow(/memory: 102400000m is not less than the \d+m of the Docker host/);
  });

  it("refuses, in preflight, to disconnect a container from the host network or one it is not on", async () => {
    const c = await containers.start();
    const [target] = await resolve({ names: c.name });
    const def = registry.actions.get("docker.network-disconnect")!;
    await expect(def.preflight!({ network: "host" }, target!, ctx)).rejects.toThrow(`container ${c.name} uses the host network, which cannot be disconnected`);
    await expect(def.preflight!({ network: "bridge" }, target!, ctx)).rejects.toThrow(`container ${c.name} is not on network bridge; it is on: host`);
  });

  it("stops a docker.exec program that outlives its timeout, so it cannot change anything later", async () => {
    const c = await containers.start();
    const [target] = await resolve({ names: c.name });
    const def = registry.actions.get("docker.exec")!;
    const slow = await def.prepare(def.params.parse({ command: ["sh", "-c", "sleep 2; touch /tmp/late"], timeout: "300ms" }), target!, ctx);
    await expect(slow.apply(ctx)).rejects.toThrow(/timed out after 300ms; it was stopped/);
    // Once neither the shell nor anything it started runs (a stop is delivered asynchronously), it
    // can no longer touch the file; and it has not.
    await pollUntil(async () => !/sleep 2|\/tmp\/late/.test(await ps(c)), 5_000, "the program gone from the container");
    expect((await execIn(c, ["ls", "/tmp"], 5_000, ctx.signal)).output).not.toContain("late");
  });

  it("observes containers with the docker probe", async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    const c = await containers.start({ labels: { app: tag } });
    await containers.start({ labels: { app: tag } });
    const probe = registry.probes.get("docker")!;
    const params = probe.params.parse({ containers: { labels: { app: tag } } });
    expect((await probe.run(params, { signal: ctx.signal, timeoutMs: 5_000 })).fields).toMatchObject({ running: 2, paused: 0, total: 2 });
    await c.container.pause();
    expect((await probe.run(params, { signal: ctx.signal, timeoutMs: 5_000 })).fields).toMatchObject({ running: 1, paused: 1, total: 2 });
    await c.container.unpause();
  });

  it("reports what the containers' healthchecks say", async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    await containers.start({ labels: { app: tag }, healthcheck: ["true"] });
    await containers.start({ labels: { app: tag }, healthcheck: ["false"] });
    const probe = registry.probes.get("docker")!;
    const params = probe.params.parse({ containers: { labels: { app: tag } } });
    const observe = async () => (await probe.run(params, { signal: ctx.signal, timeoutMs: 5_000 })).fields;
    // Each healthcheck's first verdict comes after its interval: until then the container is "starting".
    expect(await eventually(observe, (fields) => fields.starting === 0, 10_000, 100)).toMatchObject({ running: 2, healthy: 1, unhealthy: 1, starting: 0 });
  });

  it("lifts CPU and memory limits the container never had back to the whole host, since Docker cannot set none again", async () => {
    const c = await containers.start();
    const [target] = await resolve({ names: c.name });
    const hostConfig = async () => (await containers.docker.getContainer(c.id).inspect()).HostConfig;
    const revert = await inject("docker.limit", target!, { cpus: 0.5, memory: "64m" });
    expect(await hostConfig()).toMatchObject({ NanoCpus: 500_000_000, Memory: 64 * 1024 ** 2 });
    await perform(revert, ctx);
    const info = await containers.docker.info();
    expect(await hostConfig()).toMatchObject({ NanoCpus: info.NCPU * 1e9, Memory: info.MemTotal });
  });
});
