// The `with:` block of viewers.surge and its hard bounds: a surge is bounded in viewers, in
// requests per second and in time, whatever the experiment asks for.

import { z } from "zod";
import { DurationSchema, HttpHeadersSchema } from "../../contract/common-schemas.js";

/** Hard caps: the schema refuses anything above them. */
export const LIMITS = {
  viewers: 5_000,
  requestsPerSecond: 10_000,
  rampMs: 3_600_000,
  maxDurationMs: 3_600_000,
  timeoutMs: 60_000,
} as const;

export const SurgeParams = z
  .object({
    to: z.int().min(1).max(LIMITS.viewers).meta({ description: `Synthetic viewers at the end of the ramp (at most ${LIMITS.viewers}).` }),
    from: z.int().min(0).max(LIMITS.viewers).default(0).meta({ description: "Synthetic viewers at the start of the ramp." }),
    ramp: DurationSchema.prefault("10s")
      .refine((ms) => ms <= LIMITS.rampMs, { error: `ramp is at most ${LIMITS.rampMs / 60_000} min` })
      .meta({ description: "How long the ramp from `from` to `to` takes (linear); the crowd then holds until the fault is reverted." }),
    maxRequestsPerSecond: z
      .int()
      .min(1)
      .max(LIMITS.requestsPerSecond)
      .default(2_000)
      .meta({ description: `A token bucket shared by every viewer: requests beyond it wait their turn (at most ${LIMITS.requestsPerSecond}).` }),
    maxDuration: DurationSchema.prefault("10m")
      .refine((ms) => ms >= 1_000 && ms <= LIMITS.maxDurationMs, { error: `maxDuration is between 1s and ${LIMITS.maxDurationMs / 60_000} min` })
      .meta({ description: "The crowd stops by itself after this long, even if nothing reverts it." }),
    rendition: z.enum(["random", "lowest", "highest"]).default("random").meta({ description: "The variant each viewer plays from a master playlist: a random one per session, the lowest or the highest bandwidth." }),
    timeout: DurationSchema.prefault("5s")
      .refine((ms) => ms >= 100 && ms <= LIMITS.timeoutMs, { error: `timeout is between 100ms and ${LIMITS.timeoutMs / 1000}s` })
      .meta({ description: "Give up on one request after this long (the viewer backs off and starts over)." }),
    thinkTime: DurationSchema.prefault("1s").meta({ description: "For a URL that is not a playlist: the pause between one viewer's GETs." }),
    headers: HttpHeadersSchema.default({}).meta({ description: "Request headers on every request, e.g. to tell synthetic traffic apart in the CDN's logs." }),
  })
  .strict()
  .refine((p) => p.from <= p.to, { message: "from must not be above to", path: ["from"] });

export type SurgeSettings = z.output<typeof SurgeParams>;
