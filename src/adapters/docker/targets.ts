// `docker` targets: running containers chosen by name, labels, image or Compose service. Their
// labels are the target's labels, so chaoscast.io/exclude=true keeps a container out of any run.

import { z } from "zod";
import { PreflightError } from "../../errors.js";
import { defineTargets, type Target } from "../../contract/adapter.js";
import { dockerEngine, engineError } from "./client.js";

export const DockerSelectorSchema = z
  .object({
    names: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .optional()
      .meta({ description: "Container names (without the leading /), one or a list." }),
    labels: z.record(z.string(), z.string()).optional().meta({ description: "Labels every chosen container carries, e.g. { ott.role: payment }." }),
    image: z.string().min(1).optional().meta({ description: "Containers started from this image (Docker's ancestor filter, as `docker ps` shows it)." }),
    compose: z
      .object({ project: z.string().min(1), service: z.string().min(1) })
      .strict()
      .optional()
      .meta({ description: "The containers of one Docker Compose service." }),
  })
  .strict()
  .refine((s) => s.names !== undefined || s.labels !== undefined || s.image !== undefined || s.compose !== undefined, {
    message: "a docker target needs names, labels, image or compose",
  });

export type DockerSelector = z.output<typeof DockerSelectorSchema>;

export interface ContainerData {
  id: string;
  name: string;
  /** The ID of the engine the container lives on, kept with each revert; and where it answered. */
  engine?: string;
  engineAt?: string;
}

export function describeSelector(s: DockerSelector): string {
  const parts: string[] = [];
  if (s.names !== undefined) parts.push(`named ${[s.names].flat().join(", ")}`);
  if (s.labels) parts.push(`labelled ${Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(", ")}`);
  if (s.image) parts.push(`running image ${s.image}`);
  if (s.compose) parts.push(`of Compose service ${s.compose.project}/${s.compose.service}`);
  return `running containers ${parts.join(" and ")}`;
}

/** Running containers matching every part of the selector, as targets. */
export async function findContainers(selector: DockerSelector): Promise<Target[]> {
  const docker = await dockerEngine().catch((err: unknown) => {
    throw new PreflightError((err as Error).message);
  });
  const labels = { ...selector.labels };
  if (selector.compose) {
    labels["com.docker.compose.project"] = selector.compose.project;
    labels["com.docker.compose.service"] = selector.compose.service;
  }
  const filters: Record<string, string[]> = { status: ["running", "paused"] };
  const labelFilters = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  if (labelFilters.length) filters.label = labelFilters;
  if (selector.image) filters.ancestor = [selector.image];
  const containers = await docker.listContainers({ all: true, filters: JSON.stringify(filters) }).catch((err: unknown) => {
    throw new PreflightError(engineError("listing containers", err).message);
  });
  const wanted = selector.names === undefined ? undefined : new Set([selector.names].flat());
  return containers
    .map((c) => ({ c, name: (c.Names[0] ?? c.Id.slice(0, 12)).replace(/^\//, "") }))
    .filter(({ name }) => wanted === undefined || wanted.has(name))
    .map(({ c, name }) => ({
      id: `container:${c.Id.slice(0, 12)}`,
      label: `container ${name} (${c.Image}, ${c.Id.slice(0, 12)})`,
      kind: "docker",
      data: { id: c.Id, name } satisfies ContainerData,
      labels: c.Labels ?? {},
    }));
}

export const dockerTargets = defineTargets({
  selector: DockerSelectorSchema,
  describe: describeSelector,
  resolve: (selector) => findContainers(selector),
});
