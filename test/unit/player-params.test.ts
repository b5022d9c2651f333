import { describe, expect, it } from "vitest";
import { playerProbe } from "../../src/adapters/player/index.js";

const url = "http://127.0.0.1:8080/vod/demo/master.m3u8";

describe("the player probe's settings", () => {
  it("start every player at once unless a spread is given, and give the observation deadline + watch + 10 s", () => {
    const params = playerProbe.params.parse({ url });
    expect(params).toMatchObject({ players: 3, spread: 0, deadline: 5000, watch: 10_000, timeout: 25_000 });
  });

  it("count the spread into the default time limit, so the last player still gets its deadline and watch", () => {
    expect(playerProbe.params.parse({ url, players: 10, spread: "5s" })).toMatchObject({ timeout: 30_000 });
  });

  it("refuse a time limit that leaves the last player of the spread no room", () => {
    const result = playerProbe.params.safeParse({ url, spread: "10s", timeout: "20s" });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ path: ["timeout"], message: expect.stringMatching(/^timeout must leave room for spread, deadline and watch/) });
  });
});
