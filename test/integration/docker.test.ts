// The docker adapter against a real engine: every action injected and observed through the engine,
// reverted and observed again, reverted a second time harmlessly; targets, exclusion and the probe.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registry } from "../../src/registry.js";
import { revertPerformer } from "../../src/engine/rollback.js";
import { execIn } from "../../src/adapters/docker/exec.js";
import type { RunContext, Target } from "../../src/engine/types.js";
import { BUSYBOX, containerFactory, engineAvailable, ensureImages } from "../helpers/docker.js";

const available = await engineAvailable();
const containers = containerFactory();
const notes: string[] = [];
const ctx: RunContext = { signal: new AbortController().signal, runId: "docker-test", note: (m) => notes.push(m), defer: () => {} };
const perform = revertPerformer(registry.reverts);

async function resolve(selector: Record<string, unknown>): Promise<Target[]> {
  const def = registry.targetKinds.get("docker")!;
  return def.resolve(def.selector.parse(selector), ctx);
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

  it("finds running containers by name, labels and image, never one labelled chaoscast.io/exclude=true", async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    const a = await containers.start({ labels: { "ott.role": `edge-${tag}` } });
    await containers.start({ labels: { "ott.role": `edge-${tag}`, "chaoscast.io/exclude": "true" } });
    const byLabel = await resolve({ labels: { "ott.role": `edge-${tag}` } });
    expect(byLabel).toHaveLength(2);
    expect(byLabel.filter((t) => t.labels?.["chaoscast.io/exclude"] !== "true").map((t) => t.data.name)).toEqual([a.name]);
    expect((await resolve({ names: a.name })).map((t) => t.data.name)).toEqual([a.name]);
    expect((await resolve({ names: "no-such-container-here" }))).toEqual([]);
  });

  it("pauses a container and unpauses it on revert; a second revert is a no-op", async () => {
    const c = await containers.start();
    const [target] = await resolve({ names: c.name });
    const revert = await inject("docker.pause", target!);
    expect((await containers.state(c.id)).Paused).toBe(true);
    await perform(revert, ctx);
    expect((await containers.state(c.id)).Paused).toBe(false);
    expect((await containers.state(c.id)).Running).toBe(true);
    await perform(revert, ctx);
    expect(notes.at(-1)).toContain("was not paused any more");
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

  it("refuses to pause a container someone else paused", async () => {
    const c = await containers.start();
    const [target] = await resolve({ names: c.name });
    await c.container.pause();
    const def = registry.actions.get("docker.pause")!;
    await expect(def.prepare({}, target!, ctx)).rejects.toThrow(/already paused; chaoscast will not take over/);
    await c.container.unpause();
  });

  it("stops a container and starts it again on revert", async () => {
    const c = await containers.start();
    const [target] = await resolve({ names: c.name });
    const revert = await inject("docker.stop", target!, { timeout: "1s" });
    expect((await containers.state(c.id)).Running).toBe(false);
    await perform(revert, ctx);
    expect((await containers.state(c.id)).Running).toBe(true);
  });

  it("kills a container, and its revert starts it again (or notes that its restart policy did)", async () => {
    const c = await containers.start();
    const [target] = await resolve({ names: c.name });
    const revert = await inject("docker.kill", target!);
    expect((await containers.state(c.id)).Running).toBe(false);
    await perform(revert, ctx);
    expect((await containers.state(c.id)).Running).toBe(true);

    const always = await containers.start({ restart: "always" });
    const [t2] = await resolve({ names: always.name });
    const r2 = await inject("docker.kill", t2!);
    await perform(r2, ctx);
    expect((await containers.state(always.id)).Running).toBe(true);
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

  it("stops a docker.exec program that outlives its timeout, so it cannot change anything later", async () => {
    const c = await containers.start();
    const [target] = await resolve({ names: c.name });
    const def = registry.actions.get("docker.exec")!;
    const slow = await def.prepare(def.params.parse({ command: ["sh", "-c", "sleep 2; touch /tmp/late"], timeout: "300ms" }), target!, ctx);
    await expect(slow.apply(ctx)).rejects.toThrow(/timed out after 300ms; it was stopped/);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await execIn(c, ["ls", "/tmp"], 5_000, ctx.signal)).output).not.toContain("late");
    expect((await execIn(c, ["ps"], 5_000, ctx.signal)).output).not.toContain("sleep 2");
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
    const deadline = performance.now() + 10_000;
    while ((await observe()).starting !== 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await observe()).toMatchObject({ running: 2, healthy: 1, unhealthy: 1, starting: 0 });
  });

  it("runs a command inside the container, and its undo command on revert", async () => {
    const c = await containers.start();
    const [target] = await resolve({ names: c.name });
    const revert = await inject("docker.exec", target!, { command: ["touch", "/tmp/broken"], revert: ["rm", "/tmp/broken"] });
    const exists = async () => (await execIn(c, ["test", "-e", "/tmp/broken"], 5_000, ctx.signal)).exitCode === 0;
    expect(await exists()).toBe(true);
    await perform(revert, ctx);
    expect(await exists()).toBe(false);
    const def = registry.actions.get("docker.exec")!;
    const failing = await def.prepare(def.params.parse({ command: ["false"] }), target!, ctx);
    await expect(failing.apply(ctx)).rejects.toThrow(/false in container .* exited with 1/);
  });

  it("disconnects a container from a network and reconnects it with its aliases", async () => {
    const network = `cc-test-net-${Math.random().toString(36).slice(2, 8)}`;
    const net = await containers.docker.createNetwork({ Name: network, Internal: true });
    try {
      const c = await containers.start({ network: { name: network, aliases: ["payment-api"] } });
      const [target] = await resolve({ names: c.name });
      const revert = await inject("docker.network-disconnect", target!, { network });
      const attached = async () => (await containers.docker.getContainer(c.id).inspect()).NetworkSettings.Networks[network];
      expect(await attached()).toBeUndefined();
      await perform(revert, ctx);
      expect((await attached())?.Aliases).toContain("payment-api");
      const def = registry.actions.get("docker.network-disconnect")!;
      await expect(def.prepare({ network: "no-such-network" }, target!, ctx)).rejects.toThrow(new RegExp(`is not on network no-such-network; it is on: ${network}`));
      await containers.cleanup();
    } finally {
      await net.remove().catch(() => {});
    }
  });

  it("squeezes CPU and memory, and restores the limits the container had (or the whole host when it had none)", async () => {
    const c = await containers.start();
    const [target] = await resolve({ names: c.name });
    const hostConfig = async () => (await containers.docker.getContainer(c.id).inspect()).HostConfig;
    const revert = await inject("docker.limit", target!, { cpus: 0.5, memory: "64m" });
    expect(await hostConfig()).toMatchObject({ NanoCpus: 500_000_000, Memory: 64 * 1024 ** 2 });
    await perform(revert, ctx);
    const info = await containers.docker.info();
    expect(await hostConfig()).toMatchObject({ NanoCpus: info.NCPU * 1e9, Memory: info.MemTotal });

    const limited = await containers.start();
    await limited.container.update({ NanoCpus: 1e9, Memory: 256 * 1024 ** 2, MemorySwap: 256 * 1024 ** 2 });
    const [t2] = await resolve({ names: limited.name });
    const r2 = await inject("docker.limit", t2!, { memory: "32m" });
    expect((await limited.container.inspect()).HostConfig.Memory).toBe(32 * 1024 ** 2);
    await perform(r2, ctx);
    expect((await limited.container.inspect()).HostConfig).toMatchObject({ NanoCpus: 1e9, Memory: 256 * 1024 ** 2 });
  });

  it("burns CPU inside the container and stops every burner on revert", async () => {
    const c = await containers.start();
    const [target] = await resolve({ names: c.name });
    const revert = await inject("docker.stress", target!, { workers: 2 });
    const burners = async () => ((await c.container.top()).Processes ?? []).filter((row: string[]) => row.join(" ").includes("md5sum /dev/zero")).length;
    expect(await burners()).toBe(2);
    // The revert finds them by the marker recorded before they started, not by remembered pids.
    await perform({ ...revert, data: JSON.parse(JSON.stringify(revert.data)) }, ctx);
    expect(await burners()).toBe(0);
    expect((await containers.state(c.id)).Running).toBe(true);
    await perform(revert, ctx);
    expect(notes.at(-1)).toContain("no CPU burner was running");
  });

  it("burns CPU from helper containers sharing the target's PID namespace, and removes them on revert", async () => {
    const c = await containers.start();
    const [target] = await resolve({ names: c.name });
    const revert = await inject("docker.stress", target!, { workers: 2, image: BUSYBOX });
    const helpers = async () => containers.docker.listContainers({ all: true, filters: JSON.stringify({ label: ["chaoscast.helper=docker.stress", `chaoscast.stress.target=${c.name}`] }) });
    expect((await helpers()).map((h) => h.State)).toEqual(["running", "running"]);
    // The burners show inside the target, whose PID namespace they share.
    const ps = await execIn(c, ["ps"], 10_000, ctx.signal);
    expect(ps.output.match(/md5sum \/dev\/zero/g)).toHaveLength(2);
    await perform({ ...revert, data: JSON.parse(JSON.stringify(revert.data)) }, ctx);
    expect(await helpers()).toEqual([]);
    expect((await execIn(c, ["ps"], 10_000, ctx.signal)).output).not.toContain("md5sum");
    await perform(revert, ctx);
    expect(notes.at(-1)).toContain("no CPU-burning helper was left");
    // A missing helper image stops the run in preflight, before any fault of it is injected.
    const def = registry.actions.get("docker.stress")!;
    await expect(def.preflight!(def.params.parse({ image: "chaoscast-fixture/no-such-image:0" }), target!, ctx)).rejects.toThrow(/docker.stress needs the helper image chaoscast-fixture\/no-such-image:0/);
  });
});
