// The demo's live channel in real players: healthy, it must play with no stall at all, across a
// loop of the ladder (a discontinuity), so that any stall in an experiment is the fault's doing.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { playerProbe } from "../../src/adapters/player/index.js";
import { startEdge } from "../../src/demo/edge.js";
import type { Service } from "../../src/demo/http-service.js";
import { startOrigin } from "../../src/demo/origin.js";
import { playerAvailability } from "../helpers/player.js";

const available = await playerAvailability();

describe.skipIf(!available)("the demo's live channel", () => {
  let origin: Service;
  let edge: Service;
  beforeAll(async () => {
    // The origin reads its clock once to start the channel, then at every request: starting it
    // 38 s in the past puts the live edge at segment 28, a few before the ladder's first loop (32), so
    // the players cross the loop's discontinuity within the watch.
    let started = false;
    const clock = () => {
      if (started) return Date.now();
      started = true;
      return Date.now() - 38_000;
    };
    origin = await startOrigin(0, clock);
    edge = await startEdge({ originUrl: origin.url });
  }, 180_000);
  afterAll(async () => {
    await edge?.close();
    await origin?.close();
  });

  it("plays in hls.js through the edge without a single stall, across a loop of the ladder", async () => {
    const params = playerProbe.params.parse({ url: `${edge.url}/live/demo/master.m3u8`, players: 3, deadline: "5s", watch: "24s" });
    const obs = await playerProbe.run(params, { signal: new AbortController().signal, timeoutMs: playerProbe.timeoutOf(params) });
    expect(obs.error, obs.summary).toBeUndefined();
    expect(obs.fields, obs.summary).toMatchObject({ startSuccess: 1, fatalErrors: 0, rebuffers: 0 });
    // Each of the three played about as long as it was watched: no time lost to a gap or a stall.
    expect(obs.fields.playedSeconds).toBeGreaterThan(3 * 20);
  }, 90_000);
});
