// CMCD (CTA-5004, version 1) in the query of every request, as hls.js sends it when configured:
// the session, whether it is still starting, the buffer, starvation, throughput and bitrate. The
// fault proxy reads it back (src/proxy/cmcd.ts) to judge the players' QoE from their traffic.

import { CMCD_V1, toCmcdQuery, type Cmcd } from "@svta/cml-cmcd";

/** The CMCD version 1 keys the viewers send (times in ms, rates in kbit/s). */
interface CmcdV1 {
  sid: string;
  cid: string;
  sf: "h";
  st: "v" | "l";
  ot: "m" | "av";
  su?: true;
  bl?: number;
  bs?: true;
  mtp?: number;
  br?: number;
  d?: number;
}

/** What the player knows when it sends a request. */
export interface CmcdState {
  live: boolean;
  starting: boolean;
  bufferS: number;
  /** Measured throughput (bit/s), undefined before anything was measured. */
  throughputBps: number | undefined;
}

export class CmcdTagger {
  /** The buffer ran dry since the last request (CMCD's bs goes on the next one). */
  private starvedSinceLast = false;

  constructor(private readonly session: { sid: string; cid: string }) {}

  noteStarved(): void {
    this.starvedSinceLast = true;
  }

  /** A playlist request's URL. */
  manifest(url: string, state: CmcdState): string {
    return this.tag(url, "m", state);
  }

  /** A segment request's URL, with the level's bitrate and the segment's duration. */
  segment(url: string, state: CmcdState, bitrateBps: number, durationS: number): string {
    return this.tag(url, "av", state, { br: Math.round(bitrateBps / 1000), d: Math.round(durationS * 1000) });
  }

  private tag(url: string, object: "m" | "av", state: CmcdState, extra: { br?: number; d?: number } = {}): string {
    const data: CmcdV1 = { sid: this.session.sid, cid: this.session.cid, sf: "h", st: state.live ? "l" : "v", ot: object };
    if (state.starting) data.su = true;
    if (object === "av") data.bl = Math.round((state.bufferS * 1000) / 100) * 100;
    if (this.starvedSinceLast) data.bs = true;
    if (state.throughputBps !== undefined) data.mtp = Math.round(state.throughputBps / 1000 / 100) * 100;
    if (extra.br !== undefined) data.br = extra.br;
    if (extra.d !== undefined) data.d = extra.d;
    this.starvedSinceLast = false;
    // The library's types describe version 2 (lists for bl, br, mtp); version 1 keys are plain numbers.
    return `${url}${url.includes("?") ? "&" : "?"}${toCmcdQuery(data as unknown as Cmcd, { version: CMCD_V1 })}`;
  }
}
