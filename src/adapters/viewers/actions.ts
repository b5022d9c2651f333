// viewers.surge: a flash crowd of synthetic viewers, run in a child process so that it uses
// another core and never stalls the run's probes. `prepare` returns the revert (with the surge's
// token) before anything starts; `apply` starts the crowd and confirms it is making requests.

import { randomBytes } from "node:crypto";
import { AdapterError } from "../../errors.js";
import { defineAction, revertWith, type RunContext, type Target } from "../../contract/adapter.js";
import { sleep } from "../../util/abortable.js";
import { httpRequest } from "../../util/http-request.js";
import { crowdProgram, runningCrowds, startCrowd } from "./crowd-process.js";
import { SurgeParams, type SurgeSettings } from "./params.js";
import type { CrowdConfig } from "./protocol.js";
import { stopSurgeRevert } from "./reverts.js";
import type { ViewersData } from "./targets.js";

const ACTION = "viewers.surge";
/** Once the ramp is at its top, how long its viewers get to start before the peak is noted anyway. */
const START_GRACE_MS = 3_000;

function urlOf(target: Target | null): string {
  if (target?.kind !== "viewers") throw new AdapterError(`${ACTION} was given no viewers target`, { action: ACTION });
  return (target.data as unknown as ViewersData).url;
}

function program(target: Target | null): void {
  if (!crowdProgram()) throw new AdapterError(`${ACTION}: the crowd's program (dist/adapters/viewers/worker.js) is missing; run chaoscast from a build (npm run build)`, { action: ACTION, target: target?.id });
}

function configOf(url: string, params: SurgeSettings): CrowdConfig {
  return {
    url,
    from: params.from,
    to: params.to,
    rampMs: params.ramp,
    maxRequestsPerSecond: params.maxRequestsPerSecond,
    maxDurationMs: params.maxDuration,
    rendition: params.rendition,
    timeoutMs: params.timeout,
    thinkTimeMs: params.thinkTime,
    headers: { "user-agent": "chaoscast-viewers-surge", ...params.headers },
  };
}

export const surge = defineAction({
  name: ACTION,
  description:
    "A flash crowd: synthetic viewers ramp from `from` to `to` over `ramp` and watch the stream (master, a rendition, segments in real time), then hold until the fault is reverted. Bounded in viewers, requests per second (one token bucket) and time (maxDuration); runs in a child process.",
  target: "viewers",
  reversible: "always",
  params: SurgeParams,
  syntheticViewers: (params) => params.to,
  example: { to: 800, ramp: "10s", maxRequestsPerSecond: 2000, maxDuration: "5m" },
  async preflight(params, target, ctx) {
    program(target);
    const url = urlOf(target);
    // A surge against a URL that already fails would measure nothing but errors.
    let status: number;
    try {
      status = (await httpRequest({ url, method: "GET", headers: params.headers, timeoutMs: params.timeout, signal: ctx.signal, maxBodyBytes: 1024 })).status;
    } catch (err) {
      throw new AdapterError(`${ACTION}: ${url} did not answer before the surge: ${(err as Error).message}`, { action: ACTION, target: target?.id }, { cause: err });
    }
    if (status >= 400) throw new AdapterError(`${ACTION}: ${url} answers ${status} before any surge; a crowd would only count errors`, { action: ACTION, target: target?.id });
  },
  async prepare(params, target) {
    program(target);
    const url = urlOf(target);
    // The token names the crowd's process in its argv: the revert finds it from the state file alone.
    const token = randomBytes(16).toString("hex");
    return {
      revert: revertWith(stopSurgeRevert, { token, url, to: params.to }),
      async apply(ctx: RunContext) {
        let noted = false;
        let handle;
        try {
          handle = await startCrowd(token, configOf(url, params), (p) => {
            if (noted || p.target < params.to) return;
            if (p.playing < params.to && p.elapsedMs < params.ramp + START_GRACE_MS) return;
            noted = true;
            ctx.note(`the surge's ramp is at its top after ${(p.elapsedMs / 1000).toFixed(0)} s: ${p.playing} of ${params.to} viewers playing, ${p.requestsPerS} requests/s, ${p.errors} error(s) so far`);
          });
        } catch (err) {
          throw new AdapterError(`${ACTION}: the crowd process did not start: ${(err as Error).message}`, { action: ACTION, target: target?.id }, { cause: err });
        }
        runningCrowds.set(token, handle);
        // However the run ends, the crowd does not outlive it.
        ctx.defer(async () => {
          if (handle.running) await handle.stop();
        });
        // Confirm the fault: the crowd has made (or failed) a request.
        const deadline = performance.now() + params.timeout + 5_000;
        while ((handle.latest?.requests ?? 0) + (handle.latest?.errors ?? 0) === 0) {
          if (!handle.running) throw new AdapterError(`${ACTION}: the crowd process exited before making a request`, { action: ACTION, target: target?.id });
          if (ctx.signal.aborted) return;
          if (performance.now() > deadline) throw new AdapterError(`${ACTION}: the crowd made no request to ${url} within ${Math.round((params.timeout + 5_000) / 1000)} s`, { action: ACTION, target: target?.id });
          await sleep(50, ctx.signal);
        }
      },
    };
  },
});
