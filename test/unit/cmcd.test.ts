import { describe, expect, it } from "vitest";
import { CmcdCollector, loadCmcdDecoders, readCmcd } from "../../src/proxy/cmcd.js";

const decoders = await loadCmcdDecoders();
const req = (url: string, headers: Record<string, string> = {}) => ({ url, headers });

describe("reading CMCD from a relayed request", () => {
  it("reads the query form hls.js sends (CMCD=…): session, startup, buffer, starvation, throughput, bitrate", () => {
    const query = encodeURIComponent('bl=21300,br=3200,bs,cid="faec5fc2",d=4004,mtp=48100,ot=v,sf=h,sid="6e2fb550",st=l,su');
    expect(readCmcd(req(`/live/seg-1.ts?CMCD=${query}`), decoders)).toEqual({
      sid: "6e2fb550",
      bufferMs: 21300,
      starved: true,
      throughputKbps: 48100,
      startup: true,
      bitrateKbps: 3200,
      live: true,
    });
  });

  it("reads the header form (CMCD-Request, CMCD-Status, CMCD-Session)", () => {
    const sample = readCmcd(req("/vod/seg-2.ts", { "cmcd-request": "bl=4000,mtp=900", "cmcd-object": "br=800", "cmcd-session": 'sid="s-1",st=v' }), decoders);
    expect(sample).toEqual({ sid: "s-1", bufferMs: 4000, starved: false, throughputKbps: 900, startup: false, bitrateKbps: 800, live: false });
  });

  it("ignores what is not CMCD a parser can read, or names no session, or a session id over 64 characters", () => {
    expect(readCmcd(req("/seg.ts?CMCD=garbage%22%22,,="), decoders)).toBeUndefined();
    expect(readCmcd(req(`/seg.ts?CMCD=${encodeURIComponent("bl=100")}`), decoders)).toBeUndefined();
    expect(readCmcd(req(`/seg.ts?CMCD=${encodeURIComponent(`sid="${"x".repeat(65)}"`)}`), decoders)).toBeUndefined();
    expect(readCmcd(req("/seg.ts"), decoders)).toBeUndefined();
  });

  it("keeps no negative or non-finite numbers from a client", () => {
    const sample = readCmcd(req(`/seg.ts?CMCD=${encodeURIComponent('bl=-5,mtp=1e999,sid="a"')}`), decoders);
    expect(sample?.bufferMs).toBeUndefined();
    expect(sample?.throughputKbps).toBeUndefined();
  });
});

describe("the CMCD collector", () => {
  it("counts a session as started at its first request out of startup, and a start failed when it stays in startup past the deadline", () => {
    let now = 0;
    const c = new CmcdCollector(() => now);
    c.record({ sid: "ok", startup: true, starved: false });
    now = 800;
    c.record({ sid: "ok", startup: true, starved: false });
    now = 1500;
    c.record({ sid: "ok", startup: false, starved: false, bufferMs: 4000, bitrateKbps: 800 });
    c.record({ sid: "stuck", startup: true, starved: false });
    now = 3000;
    expect(c.summary(30_000, 5000)).toMatchObject({ sessions: 2, starts: 1, startFailures: 0, videoStartFailureRate: 0, startupMsMedian: 1500, bitrateKbpsMean: 800 });
    now = 7000;
    c.record({ sid: "stuck", startup: true, starved: false });
    expect(c.summary(30_000, 5000)).toMatchObject({ starts: 2, startFailures: 1, videoStartFailureRate: 0.5 });
  });

  it("counts starvation events and starved sessions within the window only", () => {
    let now = 0;
    const c = new CmcdCollector(() => now);
    c.record({ sid: "a", startup: false, starved: true });
    now = 40_000;
    c.record({ sid: "a", startup: false, starved: true });
    c.record({ sid: "b", startup: false, starved: false });
    expect(c.summary(30_000, 5000)).toMatchObject({ sessions: 2, starvationEvents: 1, starvedSessions: 1 });
  });

  it("holds at most 20,000 sessions, forgetting the least recently active first", () => {
    let now = 0;
    const c = new CmcdCollector(() => now);
    for (let i = 0; i < 20_005; i++) {
      now = i;
      c.record({ sid: `s${i}`, startup: true, starved: false });
    }
    expect(c.summary(10 * 60_000, 1e9).sessions).toBe(20_000);
  });
});
