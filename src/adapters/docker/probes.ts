// The `docker` probe: how the containers a selector matches are doing, as the engine reports it.

import { z } from "zod";
import { defineProbe } from "../../contract/adapter.js";
import { DurationSchema } from "../../contract/common-schemas.js";
import { abortMessage, combinedSignal } from "../../util/abortable.js";
import { dockerEngine, engineError } from "./client.js";
import { describeSelector, DockerSelectorSchema } from "./targets.js";

export const dockerProbe = defineProbe({
  name: "docker",
  description: "Count the containers a selector matches: running, paused, healthy (by their healthcheck) and restarts.",
  params: z
    .object({
      containers: DockerSelectorSchema.meta({ description: "Which containers: names, labels, image or compose, as in a docker target." }),
      timeout: DurationSchema.prefault("5s").meta({ description: "Give up after this long." }),
    })
    .strict(),
  example: { containers: { labels: { "ott.role": "payment" } } },
  primaryField: "running",
  fields: {
    running: "containers running and not paused",
    paused: "containers paused",
    total: "containers matched, in any state",
    healthy: "containers whose healthcheck reports healthy",
    starting: "containers whose healthcheck has not decided yet",
    unhealthy: "containers whose healthcheck reports unhealthy",
    restarts: "restarts counted by the engine, summed",
  },
  defaultExpect: { running: ">= 1", unhealthy: 0 },
  timeoutOf: (params) => params.timeout,
  async run(params, ctx) {
    const started = performance.now();
    // One deadline for both engine calls, cut short too when the run aborts.
    const limitMs = Math.min(params.timeout, ctx.timeoutMs);
    const abortSignal = combinedSignal([ctx.signal], limitMs);
    try {
      const docker = await dockerEngine();
      const labels = { ...params.containers.labels };
      if (params.containers.compose) {
        labels["com.docker.compose.project"] = params.containers.compose.project;
        labels["com.docker.compose.service"] = params.containers.compose.service;
      }
      const filters: Record<string, string[]> = {};
      const labelFilters = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
      if (labelFilters.length) filters.label = labelFilters;
      if (params.containers.image) filters.ancestor = [params.containers.image];
      const listed = await docker.listContainers({ all: true, filters: JSON.stringify(filters), abortSignal });
      const names = params.containers.names === undefined ? undefined : new Set([params.containers.names].flat());
      const matched = listed.filter((c) => names === undefined || names.has((c.Names[0] ?? "").replace(/^\//, "")));
      const details = await Promise.all(matched.map((c) => docker.getContainer(c.Id).inspect({ abortSignal })));
      const running = details.filter((d) => d.State.Running && !d.State.Paused).length;
      const paused = details.filter((d) => d.State.Paused).length;
      const health = (status: string) => details.filter((d) => d.State.Health?.Status === status).length;
      const [healthy, starting, unhealthy] = [health("healthy"), health("starting"), health("unhealthy")];
      const restarts = details.reduce((n, d) => n + d.RestartCount, 0);
      const ms = Math.round(performance.now() - started);
      return {
        fields: { running, paused, total: details.length, healthy, starting, unhealthy, restarts },
        summary: `${running}/${details.length} running${paused ? `, ${paused} paused` : ""}${unhealthy ? `, ${unhealthy} unhealthy` : ""} (${ms}ms)`,
      };
    } catch (err) {
      const message = abortSignal.aborted
        ? `reading ${describeSelector(params.containers)}: the Docker engine did not answer (${abortMessage(abortSignal, limitMs)})`
        : engineError(`reading ${describeSelector(params.containers)}`, err).message;
      return { fields: {}, error: message, summary: message };
    }
  },
});
