// The demo's services as Docker containers (chaoscast demo up --docker): each runs this very
// chaoscast, mounted read-only at the same path, in the local node image, on the host network
// (127.0.0.1 ports), labelled ott.role=<service> so experiments/docker/ can target it.

import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PreflightError } from "../errors.js";
import { sleep } from "../util/abortable.js";
import { dockerEngine, engineError, statusOf } from "../adapters/docker/client.js";
import { readProcess } from "../adapters/process/proc.js";
import type { Service } from "./http-service.js";
import { Registry } from "prom-client";

export const DEMO_IMAGE = "chaoscast-fixture/node:1";
export const CONTAINER_ROLES = ["origin", "edge", "payment", "recommendations"] as const;
export type ContainerRole = (typeof CONTAINER_ROLES)[number];
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Start one service in a container on `port`; `args` go to `demo-service` (e.g. the edge's --upstream). */
export async function startInContainer(role: ContainerRole, port: number, args: string[] = []): Promise<Service> {
  const docker = await dockerEngine();
  try {
    await docker.getImage(DEMO_IMAGE).inspect();
  } catch (err) {
    if (statusOf(err) === 404) throw new PreflightError(`the image ${DEMO_IMAGE} is missing; build it with fixtures/docker/build-images.sh`);
    throw new PreflightError(engineError(`--docker needs a Docker engine; inspecting the image ${DEMO_IMAGE}`, err).message);
  }
  const name = `chaoscast-demo-${role}-${port}`;
  await docker.getContainer(name).remove({ force: true }).catch(() => {});
  let container;
  try {
    container = await docker.createContainer({
      Image: DEMO_IMAGE,
      name,
      Cmd: ["node", path.join(ROOT, "bin/chaoscast.js"), "demo-service", role, "--port", String(port), ...args],
      // Which demo made it: a container whose demo process is gone is a leftover the next demo removes.
      Labels: { "ott.role": role, "chaoscast.demo": "1", ...(await demoIdentity()) },
      HostConfig: { NetworkMode: "host", Binds: [`${ROOT}:${ROOT}:ro`] },
    });
    await container.start();
  } catch (err) {
    throw new PreflightError(engineError(`starting the ${role} container`, err).message);
  }
  if (!(await listening(port, 20_000))) {
    await container.remove({ force: true }).catch(() => {});
    throw new PreflightError(`the ${role} container did not listen on 127.0.0.1:${port} within 20 s`);
  }
  return {
    name: role,
    url: `http://127.0.0.1:${port}`,
    port,
    // Its metrics live in the container; the stack reads none of them.
    registry: new Registry(),
    close: async () => {
      await container.remove({ force: true }).catch(() => {});
    },
  };
}

export interface DemoLeftovers {
  /** Names of the containers removed: their demo process is gone (killed before it could remove them). */
  removed: string[];
  /** Demo processes on this host still running a stack of containers, with their containers. */
  live: { pid: number; containers: string[] }[];
}

/** This demo process as its containers' labels name it: host, pid, and the pid's start time. */
async function demoIdentity(): Promise<Record<string, string>> {
  const started = (await readProcess(process.pid))?.startTime;
  return { "chaoscast.demo.host": os.hostname(), "chaoscast.demo.pid": String(process.pid), ...(started ? { "chaoscast.demo.started": started } : {}) };
}

/** Does the demo process its labels name still run? The start time tells a pid reused since from it. */
async function demoAlive(labels: Record<string, string>): Promise<boolean> {
  const pid = Number(labels["chaoscast.demo.pid"]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const info = await readProcess(pid);
  if (!info) return false;
  const started = labels["chaoscast.demo.started"];
  return started && info.startTime ? info.startTime === started : info.cmdline.join(" ").includes("chaoscast");
}

/**
 * Remove the containers of demo stacks whose process is gone (`kill -9` of `demo up --docker`
 * leaves them running, and their ott.role labels would make experiments target two stacks), and
 * report the stacks still alive. A container made on another host is never removed.
 */
export async function clearDemoLeftovers(): Promise<DemoLeftovers> {
  const docker = await dockerEngine();
  let found;
  try {
    found = await docker.listContainers({ all: true, filters: JSON.stringify({ label: ["chaoscast.demo=1"] }) });
  } catch (err) {
    throw new PreflightError(engineError("--docker needs a Docker engine; listing the demo's containers", err).message);
  }
  const removed: string[] = [];
  const live = new Map<number, string[]>();
  for (const c of found) {
    const name = (c.Names[0] ?? c.Id.slice(0, 12)).replace(/^\//, "");
    const host = c.Labels["chaoscast.demo.host"];
    if (host !== undefined && host !== os.hostname()) continue;
    const pid = Number(c.Labels["chaoscast.demo.pid"]);
    if (pid === process.pid) continue;
    if (await demoAlive(c.Labels)) {
      live.set(pid, [...(live.get(pid) ?? []), name]);
      continue;
    }
    await docker.getContainer(c.Id).remove({ force: true }).catch((err: unknown) => {
      if (statusOf(err) !== 404) throw new PreflightError(engineError(`removing the leftover demo container ${name}`, err).message);
    });
    removed.push(name);
  }
  return { removed, live: [...live].map(([pid, containers]) => ({ pid, containers })) };
}

async function listening(port: number, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: "127.0.0.1", port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return true;
    await sleep(100);
  }
  return false;
}

/** A free 127.0.0.1 port: containers need one fixed before they start. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once("error", reject);
  });
}
