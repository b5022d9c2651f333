// docker.stress from helper containers: for targets whose image has no md5sum (distroless, scratch).
// Each helper shares the target's PID namespace (its burner shows in the target's `ps`) and CPU set,
// and carries the fault's marker as a label, written ahead with the revert, so the revert (and
// `chaoscast rollback` after a crash) finds and removes every helper through the engine alone.

import { z } from "zod";
import { defineRevert } from "../../contract/adapter.js";
import { sleep } from "../../util/abortable.js";
import { dockerEngine, engineError, statusOf } from "./client.js";
import { ContainerDataSchema } from "./reverts.js";
import type { ContainerData } from "./targets.js";

const MARKER_LABEL = "chaoscast.stress";

/** The CPUs the target may run on ("" when not pinned), so the helpers compete for the same ones. */
export async function cpusetOf(data: ContainerData): Promise<string> {
  try {
    return (await (await dockerEngine()).getContainer(data.id).inspect()).HostConfig.CpusetCpus ?? "";
  } catch (err) {
    throw engineError(`inspecting container ${data.name}`, err);
  }
}

export async function startStressHelper(data: ContainerData, image: string, marker: string, cpuset: string): Promise<void> {
  const docker = await dockerEngine();
  try {
    const helper = await docker.createContainer({
      Image: image,
      Entrypoint: ["md5sum"],
      Cmd: ["/dev/zero"],
      Labels: { "chaoscast.io/exclude": "true", "chaoscast.helper": "docker.stress", [MARKER_LABEL]: marker, "chaoscast.stress.target": data.name },
      HostConfig: { PidMode: `container:${data.id}`, NetworkMode: "none", CpusetCpus: cpuset, AutoRemove: false },
    });
    await helper.start();
  } catch (err) {
    throw engineError(`docker.stress: starting a helper from ${image} next to container ${data.name}`, err);
  }
}

/** The ids of the fault's helpers, all of them or only those running. */
async function helpersMarked(marker: string, onlyRunning = false): Promise<string[]> {
  const filters = { label: [`${MARKER_LABEL}=${marker}`], ...(onlyRunning ? { status: ["running"] } : {}) };
  try {
    return (await (await dockerEngine()).listContainers({ all: !onlyRunning, filters: JSON.stringify(filters) })).map((c) => c.Id);
  } catch (err) {
    throw engineError("listing docker.stress helpers", err);
  }
}

/** How many of the fault's helpers run, a moment after starting (so one that exited at once shows). */
export async function runningStressHelpers(marker: string): Promise<number> {
  await sleep(200);
  return (await helpersMarked(marker, true)).length;
}

export const removeStressHelpersRevert = defineRevert({
  kind: "docker.remove-stress-helpers",
  data: ContainerDataSchema.extend({ marker: z.string().min(8) }),
  describe: (data) => `remove the CPU-burning helpers next to container ${data.name}`,
  async run(data, ctx) {
    const ids = await helpersMarked(data.marker);
    if (ids.length === 0) ctx.note(`no CPU-burning helper was left next to container ${data.name}`);
    const docker = await dockerEngine();
    for (const id of ids) {
      try {
        await docker.getContainer(id).remove({ force: true });
      } catch (err) {
        if (statusOf(err) !== 404) throw engineError(`removing a docker.stress helper of container ${data.name}`, err);
      }
    }
  },
  async verify(data) {
    const left = (await helpersMarked(data.marker)).length;
    return left ? `${left} CPU-burning helper(s) still exist next to container ${data.name}` : null;
  },
});
