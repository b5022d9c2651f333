// docker.netem against a real engine. Each shaped container runs with `--network none`: its own
// namespace holding only `lo`, so the traffic that measures the fault never leaves it.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registry } from "../../src/registry.js";
import { revertPerformer } from "../../src/engine/rollback.js";
import { execIn } from "../../src/adapters/docker/exec.js";
import { runHelper } from "../../src/adapters/docker/helper.js";
import type { RunContext, Target } from "../../src/contract/adapter.js";
import { containerFactory, engineAvailable, ensureImages, TC_IMAGE } from "../helpers/docker.js";

const available = await engineAvailable();
const containers = containerFactory();
const notes: string[] = [];
const ctx: RunContext = { signal: new AbortController().signal, runId: "docker-netem-test", note: (m) => notes.push(m), defer: () => {} };
const perform = revertPerformer(registry.reverts);
const netem = registry.actions.get("docker.netem")!;

async function resolve(name: string): Promise<Target> {
  const def = registry.targetKinds.get("docker")!;
  const [target] = await def.resolve(def.selector.parse({ names: name }), ctx);
  return target!;
}

/** A container serving a 512 KiB file on its own loopback, and a way to time downloading it there. */
async function fileServer() {
  const c = await containers.start({ networkMode: "none", cmd: ["httpd", "-f", "-p", "127.0.0.1:8080", "-h", "/tmp"] });
  const made = await execIn(c, ["dd", "if=/dev/zero", "of=/tmp/file", "bs=1024", "count=512"], 10_000, ctx.signal);
  expect(made.exitCode).toBe(0);
  const download = async () => {
    const started = performance.now();
    const got = await execIn(c, ["timeout", "20", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/file"], 30_000, ctx.signal);
    expect(got.exitCode, got.output).toBe(0);
    return performance.now() - started;
  };
  return { ...c, download };
}

describe.skipIf(!available)("docker.netem against a real engine", () => {
  beforeAll(async () => {
    await ensureImages();
  }, 60_000);
  afterAll(() => containers.cleanup());

  it("caps what a container sends at a rate (tbf), seen by tc and by a slower download, and removes the cap on revert", async () => {
    const server = await fileServer();
    const target = await resolve(server.name);
    const params = netem.params.parse({ rate: "2mbit", device: "lo", image: TC_IMAGE });
    await netem.preflight!(params, target, ctx);
    const unshaped = await server.download();

    const injection = await netem.prepare(params, target, ctx);
    await injection.apply(ctx);
    expect(await containers.rootQdisc(server.id)).toMatchObject({ kind: "tbf", handle: injection.revert!.data.handle });
    // 512 KiB at 2 Mbit/s is 2.1 s; even the first 66 KiB burst leaves more than 1.5 s.
    const shaped = await server.download();
    expect(shaped).toBeGreaterThan(1500);

    await perform(injection.revert!, ctx);
    expect(await containers.rootQdisc(server.id)).toMatchObject({ kind: "noqueue" });
    expect(await server.download()).toBeLessThan(shaped / 3);
    expect(unshaped).toBeLessThan(shaped / 3);
    await perform(injection.revert!, ctx);
    expect(notes.at(-1)).toContain("does not carry this fault's shaping");
  });

  it("adds latency with netem where the kernel has it, and otherwise fails in preflight with nothing changed", async () => {
    const c = await containers.start({ networkMode: "none" });
    const target = await resolve(c.name);
    const params = netem.params.parse({ latency: "100ms", device: "lo", image: TC_IMAGE });
    const trial = await runHelper({ image: TC_IMAGE, argv: ["tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"], networkMode: "none", capAdd: ["NET_ADMIN"], purpose: "test" });
    const kernelHasNetem = trial.exitCode === 0;
    const ping = async () => execIn(c, ["ping", "-c", "2", "-W", "5", "127.0.0.1"], 15_000, ctx.signal);

    if (!kernelHasNetem) {
      expect(trial.stderr).toMatch(/qdisc kind is unknown/);
      await expect(netem.preflight!(params, target, ctx)).rejects.toThrow(/kernel has no netem qdisc .* nothing was changed/);
      expect(await containers.rootQdisc(c.id)).toMatchObject({ kind: "noqueue" });
      return;
    }
    await netem.preflight!(params, target, ctx);
    const injection = await netem.prepare(params, target, ctx);
    await injection.apply(ctx);
    expect(await containers.rootQdisc(c.id)).toMatchObject({ kind: "netem", handle: injection.revert!.data.handle });
    // On lo both the echo and its reply leave through the shaped device: at least 200 ms a round.
    expect((await ping()).output).toMatch(/time=(2\d\d|[3-9]\d\d)\.\d+ ms/);
    await perform(injection.revert!, ctx);
    expect(await containers.rootQdisc(c.id)).toMatchObject({ kind: "noqueue" });
  });

  it("refuses a container on the host network, one without the device, and shaping it did not make", async () => {
    const onHost = await containers.start();
    const params = netem.params.parse({ rate: "1mbit", image: TC_IMAGE });
    await expect(netem.preflight!(params, await resolve(onHost.name), ctx)).rejects.toThrow(/uses the host's network namespace; shaping it would slow the whole host/);

    const isolated = await containers.start({ networkMode: "none" });
    const target = await resolve(isolated.name);
    await expect(netem.preflight!(params, target, ctx)).rejects.toThrow(/has no interface eth0; it has: lo/);

    const theirs = await runHelper({ image: TC_IMAGE, argv: ["tc", "qdisc", "add", "dev", "lo", "root", "handle", "1:", "tbf", "rate", "8mbit", "burst", "70000", "latency", "50ms"], networkMode: `container:${isolated.id}`, capAdd: ["NET_ADMIN"], purpose: "test" });
    expect(theirs.exitCode, theirs.stderr).toBe(0);
    const onLo = netem.params.parse({ rate: "1mbit", device: "lo", image: TC_IMAGE });
    await expect(netem.prepare(onLo, target, ctx)).rejects.toThrow(/already has a tbf root qdisc \(handle 1:\) that is not the kernel's default/);
    expect(await containers.rootQdisc(isolated.id)).toMatchObject({ kind: "tbf", handle: "1:" });
  });

  it("says how to get a missing helper image instead of pulling it", async () => {
    const c = await containers.start({ networkMode: "none" });
    const params = netem.params.parse({ rate: "1mbit", device: "lo", image: "chaoscast-fixture/no-such-image:0" });
    await expect(netem.preflight!(params, await resolve(c.name), ctx)).rejects.toThrow(/needs the helper image chaoscast-fixture\/no-such-image:0 .*\(docker pull/);
  });
});
