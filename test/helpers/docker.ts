// A real Docker engine for tests: found through DOCKER_HOST or the local socket. Without one the
// Docker tests skip with a note, unless CHAOSCAST_REQUIRE_SERVICES=1 (CI), where they fail.

import path from "node:path";
import { execa } from "execa";
import Docker from "dockerode";
import { ROOT } from "./processes.js";

export const BUSYBOX = "chaoscast-fixture/busybox:1";
/** busybox plus iproute2's tc and ip: docker.netem's helper in tests. */
export const TC_IMAGE = "chaoscast-fixture/tc:1";

/**
 * Whether the Docker tests can run: an engine answers and the fixture images exist or can be built
 * (that needs busybox-static and iproute2 on the host). Otherwise they skip with a note, unless
 * CHAOSCAST_REQUIRE_SERVICES=1 (CI), where that is a failure.
 */
export async function engineAvailable(): Promise<boolean> {
  const unavailable = (why: string): false => {
    if (process.env.CHAOSCAST_REQUIRE_SERVICES === "1") throw new Error(`CHAOSCAST_REQUIRE_SERVICES=1 but ${why}`);
    process.stderr.write(`\n  skipped: Docker tests, ${why}.\n\n`);
    return false;
  };
  try {
    await new Docker().ping();
  } catch (err) {
    return unavailable(`no Docker engine answers (${(err as Error).message}); start dockerd to run them`);
  }
  try {
    await ensureImages();
  } catch (err) {
    const detail = ((err as { stderr?: string }).stderr || (err as Error).message).trim().split("\n").at(-1);
    return unavailable(`the fixture images cannot be built (${detail}); see fixtures/docker/build-images.sh`);
  }
  return true;
}

/** Build the fixture images from host files if they are missing. */
export async function ensureImages(): Promise<void> {
  await execa("bash", [path.join(ROOT, "fixtures/docker/build-images.sh")]);
}

/** Test containers: host network, sleeping, labelled so a leftover is easy to find and remove. */
export function containerFactory() {
  const docker = new Docker();
  const created: Docker.Container[] = [];
  return {
    docker,
    async start(options: { name?: string; labels?: Record<string, string>; cmd?: string[]; restart?: string; network?: { name: string; aliases: string[]; ipv4?: string }; networkMode?: string; healthcheck?: string[]; hostConfig?: Record<string, unknown> } = {}): Promise<{ id: string; name: string; container: Docker.Container }> {
      const name = options.name ?? `cc-test-${Math.random().toString(36).slice(2, 8)}`;
      const container = await docker.createContainer({
        Image: BUSYBOX,
        name,
        Cmd: options.cmd ?? ["sleep", "600"],
        Labels: { "chaoscast.test": "1", ...options.labels },
        ...(options.healthcheck ? { Healthcheck: { Test: ["CMD", ...options.healthcheck], Interval: 200_000_000, Timeout: 1_000_000_000, Retries: 1 } } : {}),
        // Host network unless a test network or mode is asked for (no traffic leaves 127.0.0.1 either way).
        HostConfig: { NetworkMode: options.network?.name ?? options.networkMode ?? "host", ...(options.restart ? { RestartPolicy: { Name: options.restart } } : {}), ...options.hostConfig },
        ...(options.network
          ? { NetworkingConfig: { EndpointsConfig: { [options.network.name]: { Aliases: options.network.aliases, ...(options.network.ipv4 ? { IPAMConfig: { IPv4Address: options.network.ipv4 } } : {}) } } } }
          : {}),
      });
      created.push(container);
      await container.start();
      return { id: container.id, name, container };
    },
    /** The root qdisc of a device in the container's network namespace, read by a tc helper. */
    async rootQdisc(id: string, device = "lo"): Promise<{ kind: string; handle: string } | undefined> {
      const { runHelper } = await import("../../src/adapters/docker/helper.js");
      const shown = await runHelper({ image: TC_IMAGE, argv: ["tc", "-j", "qdisc", "show", "dev", device], networkMode: `container:${id}`, purpose: "test" });
      return (JSON.parse(shown.stdout) as { kind: string; handle: string; root?: boolean }[]).find((q) => q.root);
    },
    async state(id: string) {
      return (await docker.getContainer(id).inspect()).State;
    },
    async cleanup(): Promise<void> {
      for (const c of created.splice(0)) await c.remove({ force: true }).catch(() => {});
    },
  };
}
