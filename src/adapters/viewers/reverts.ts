// Stopping a surge, from data alone: in the run that started it, by message over its channel
// (its last figures go to the journal); from a state file (`chaoscast rollback`, the watchdog),
// by finding the process whose argv carries the surge's token, checked by its start time, and
// signalling it. Idempotent: a crowd already gone is noted, not an error.

import { z } from "zod";
import { defineRevert } from "../../contract/adapter.js";
import { findCrowds, killCrowd, runningCrowds } from "./crowd-process.js";
import { describeReached } from "./schedule.js";

export const StopSurgeData = z
  .object({
    token: z.string().regex(/^[0-9a-f]{32}$/, { error: "expected the surge's 32-hex-digit token" }),
    url: z.string().min(1),
    to: z.int().min(1),
  })
  .strict();

export const stopSurgeRevert = defineRevert({
  kind: "viewers.stop-surge",
  data: StopSurgeData,
  describe: (data) => `stop the crowd of up to ${data.to} synthetic viewers of ${data.url}`,
  async run(data, ctx) {
    const handle = runningCrowds.get(data.token);
    if (handle) {
      const stoppedItself = handle.ended?.why === "max-duration";
      await handle.stop();
      runningCrowds.delete(data.token);
      ctx.note(`${describeReached(handle.reached, data.to)}${stoppedItself ? "; it had already stopped by itself at its maxDuration" : ""}`);
      return;
    }
    const found = await findCrowds(data.token);
    if (found.length === 0) {
      ctx.note("the crowd had already stopped (it ends by itself when the channel to its chaoscast closes, or at maxDuration)");
      return;
    }
    for (const crowd of found) {
      if (await killCrowd(crowd)) ctx.note(`stopped the crowd process (pid ${crowd.pid}) its run left behind`);
    }
  },
  async verify(data) {
    const left = await findCrowds(data.token);
    return left.length === 0 ? null : `the crowd is still running (pid ${left.map((c) => c.pid).join(", ")})`;
  },
});
