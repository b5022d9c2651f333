// Synthetic viewers: N players that each, in a loop, fetch the home rail, ask the playback API for
// a session, and play the stream (master → rendition → segments) with retries, a buffer model and
// ABR, counting what real viewers would feel. Their metrics are the demo's steady-state signals.

import http from "node:http";
import { randomUUID } from "node:crypto";
import { CMCD_V1, toCmcdQuery, type Cmcd } from "@svta/cml-cmcd";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { chooseLevel } from "../adapters/hls/player.js";
import { readHls, readMediaPlaylist, type Rendition, type Segment } from "../adapters/hls/manifest.js";
import { startService, type Service } from "./http-service.js";

export interface ViewerOptions {
  count: number;
  playbackApiUrl: string;
  recommendationsUrl: string;
  port?: number;
  /** Share of viewers watching the live channel (the rest watch VOD). */
  liveShare?: number;
  /** A start counts as a success only if the first segment arrives within this. */
  startDeadlineMs?: number;
  segmentsPerSession?: number;
}

/** The CMCD version 1 keys the viewers send (CTA-5004: times in ms, rates in kbit/s). */
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

interface Metrics {
  attempts: Counter;
  successes: Counter;
  startup: Histogram;
  rebuffers: Counter;
  rebufferSeconds: Counter;
  segmentErrors: Counter;
  switches: Counter;
  railErrors: Counter;
  bitrate: Gauge;
}

function request(agent: http.Agent, url: string, options: { method?: string; headers: Record<string, string>; timeoutMs: number }): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? "GET", agent, headers: options.headers, timeout: options.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on("error", reject);
      res.on("aborted", () => reject(new Error("aborted")));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startViewers(options: ViewerOptions): Promise<Service & { stop(): Promise<void> }> {
  const registry = new Registry();
  const m: Metrics = {
    attempts: new Counter({ name: "playback_start_attempts_total", help: "Playback starts attempted (counted when they succeed or fail).", registers: [registry] }),
    successes: new Counter({ name: "playback_start_success_total", help: "Playback starts whose first segment arrived within the start deadline.", registers: [registry] }),
    startup: new Histogram({ name: "playback_startup_seconds", help: "Time to the first segment.", buckets: [0.25, 0.5, 1, 2, 3, 5, 8], registers: [registry] }),
    rebuffers: new Counter({ name: "rebuffer_events_total", help: "Times a viewer's buffer ran dry.", registers: [registry] }),
    rebufferSeconds: new Counter({ name: "rebuffer_seconds_total", help: "Seconds spent rebuffering.", registers: [registry] }),
    segmentErrors: new Counter({ name: "segment_errors_total", help: "Failed segment requests (retries included).", registers: [registry] }),
    switches: new Counter({ name: "bitrate_switches_total", help: "Rendition switches made by ABR.", registers: [registry] }),
    railErrors: new Counter({ name: "rail_errors_total", help: "Home rails that could not be loaded (the page degrades, playback goes on).", registers: [registry] }),
    bitrate: new Gauge({ name: "viewer_bitrate_bps", help: "Mean bitrate of the renditions viewers are playing.", registers: [registry] }),
  };
  const playing = new Map<number, number>();
  const updateBitrate = () => m.bitrate.set(playing.size ? [...playing.values()].reduce((a, b) => a + b, 0) / playing.size : 0);
  let stopped = false;
  const deadline = options.startDeadlineMs ?? 5000;
  const perSession = options.segmentsPerSession ?? 6;

  const viewer = async (id: number) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    const headers = { "x-viewer-id": `viewer-${id}` };
    const live = id < Math.round(options.count * (options.liveShare ?? 0.25));
    // Viewers arrive spread out, as real ones do, so starts keep flowing rather than in bursts.
    await sleep(Math.random() * 1500);
    while (!stopped) {
      const started = performance.now();
      const outcome = { decided: false };
      try {
        await request(agent, `${options.recommendationsUrl}/rail`, { headers, timeoutMs: 1000 }).then((r) => {
          if (r.status !== 200) throw new Error(String(r.status));
        });
      } catch {
        m.railErrors.inc();
      }
      try {
        const session = await request(agent, `${options.playbackApiUrl}/session/${live ? "live" : "vod"}`, { method: "POST", headers, timeoutMs: 2000 });
        if (session.status !== 200) throw new Error(`session ${session.status}`);
        const manifestUrl = (JSON.parse(session.body.toString()) as { manifestUrl: string }).manifestUrl;
        await play(agent, headers, manifestUrl, id, started, outcome);
      } catch {
        // handled below: a start that never got its first segment is a failed attempt
      }
      // Attempts are counted when their outcome is known, so a start still in flight is not
      // mistaken for a failure in a short window.
      const failed = !outcome.decided;
      if (failed && !stopped) m.attempts.inc();
      playing.delete(id);
      updateBitrate();
      // Someone whose playback failed to start tries again after several seconds, not at once:
      // otherwise a few broken viewers would dominate the start-attempt counts.
      await sleep(failed ? 5000 + Math.random() * 3000 : 200 + Math.random() * 300);
    }
    agent.destroy();
  };

  const play = async (agent: http.Agent, headers: Record<string, string>, manifestUrl: string, id: number, started: number, outcome: { decided: boolean }) => {
    // CMCD (CTA-5004, version 1) on every request, in the query, as hls.js sends it when configured:
    // the session, whether it is still starting, the buffer, starvation, throughput and bitrate.
    const cmcd = { sid: randomUUID(), live: false, starvedSinceLast: false };
    const withCmcd = (url: string, object: "m" | "av", extra: { bitrateKbps?: number; durationMs?: number } = {}) => {
      const data: CmcdV1 = { sid: cmcd.sid, cid: "demo", sf: "h", st: cmcd.live ? "l" : "v", ot: object };
      if (!startedPlaying) data.su = true;
      if (object === "av") data.bl = Math.round((buffer * 1000) / 100) * 100;
      if (cmcd.starvedSinceLast) data.bs = true;
      if (estimate !== undefined) data.mtp = Math.round(estimate / 1000 / 100) * 100;
      if (extra.bitrateKbps !== undefined) data.br = Math.round(extra.bitrateKbps);
      if (extra.durationMs !== undefined) data.d = Math.round(extra.durationMs);
      cmcd.starvedSinceLast = false;
      // The library's types describe version 2 (lists for bl, br, mtp); version 1 keys are plain numbers.
      return `${url}${url.includes("?") ? "&" : "?"}${toCmcdQuery(data as unknown as Cmcd, { version: CMCD_V1 })}`;
    };
    let buffer = 0;
    let estimate: number | undefined;
    let startedPlaying = false;
    const master = await request(agent, withCmcd(manifestUrl, "m"), { headers, timeoutMs: 2000 });
    if (master.status !== 200) throw new Error(`master ${master.status}`);
    const renditions: Rendition[] = (await readHls(master.body.toString(), manifestUrl)).renditions;
    let level = 0;
    let media = await mediaPlaylist(agent, headers, renditions[level]!, withCmcd);
    cmcd.live = media.live;
    let index = media.live ? Math.max(0, media.segments.length - 3) : 0;
    let sequenceOffset = 0;
    const segmentsThisSession = Math.max(2, perSession - Math.floor(Math.random() * (perSession / 2)));
    for (let n = 0; n < segmentsThisSession && !stopped; n++) {
      if (index >= media.segments.length) {
        if (!media.live) break;
        await sleep(1000); // wait for the live edge to advance
        const refreshed = await mediaPlaylist(agent, headers, renditions[level]!, withCmcd);
        index = Math.max(0, index - (refreshed.sequence - media.sequence));
        media = refreshed;
        continue;
      }
      const segment: Segment = media.segments[index]!;
      const fetchStarted = performance.now();
      const body = await downloadSegment(agent, headers, withCmcd(segment.uri, "av", { bitrateKbps: renditions[level]!.bandwidth / 1000, durationMs: segment.durationS * 1000 }));
      const seconds = (performance.now() - fetchStarted) / 1000;
      index += 1;
      if (!body) continue;
      if (!startedPlaying) {
        const startup = (performance.now() - started) / 1000;
        m.startup.observe(startup);
        if (startup * 1000 > deadline) throw new Error("start deadline missed");
        outcome.decided = true;
        m.attempts.inc();
        m.successes.inc();
        startedPlaying = true;
      } else {
        buffer -= seconds;
        if (buffer < 0) {
          cmcd.starvedSinceLast = true;
          m.rebuffers.inc();
          m.rebufferSeconds.inc(-buffer);
          buffer = 0;
        }
      }
      buffer += segment.durationS;
      playing.set(id, renditions[level]!.bandwidth);
      updateBitrate();
      const measured = (body * 8) / Math.max(seconds, 0.001);
      estimate = estimate === undefined ? measured : 0.7 * estimate + 0.3 * measured;
      const next = chooseLevel(renditions, estimate);
      if (next !== level) {
        level = next;
        m.switches.inc();
        const switched = await mediaPlaylist(agent, headers, renditions[level]!, withCmcd);
        sequenceOffset = switched.sequence - media.sequence;
        index = Math.max(0, index - sequenceOffset);
        media = switched;
      }
      // A player does not run ahead of real time: hold about two segments of buffer.
      if (buffer > 4) {
        await sleep((buffer - 4) * 1000);
        buffer = 4;
      }
    }
  };

  const mediaPlaylist = async (agent: http.Agent, headers: Record<string, string>, rendition: Rendition, withCmcd: (url: string, object: "m") => string) => {
    const res = await request(agent, withCmcd(rendition.playlistUri!, "m"), { headers, timeoutMs: 2000 });
    if (res.status !== 200) throw new Error(`playlist ${res.status}`);
    const text = res.body.toString();
    const parsed = await readMediaPlaylist(text, rendition.playlistUri!);
    return { ...parsed, sequence: Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0) };
  };

  const downloadSegment = async (agent: http.Agent, headers: Record<string, string>, url: string): Promise<number | undefined> => {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const res = await request(agent, url, { headers, timeoutMs: 4000 });
        if (res.status === 200) return res.body.length;
      } catch {
        // retried below, as a player does
      }
      m.segmentErrors.inc();
    }
    return undefined;
  };

  const loops = Array.from({ length: options.count }, (_, i) => viewer(i));
  const service = await startService("viewers", options.port ?? 0, registry, (_req, res) => void res.writeHead(404).end());
  return {
    ...service,
    async stop() {
      stopped = true;
      await Promise.race([Promise.all(loops), sleep(5000)]);
      await service.close();
    },
    close: async () => {
      stopped = true;
      await service.close();
    },
  };
}
