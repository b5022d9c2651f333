// Synthetic viewers: N people who each, in a loop, load the home rail, ask the playback API for a
// session, and watch the stream for 20–40 s with a player model that behaves like hls.js with its
// default configuration (src/demo/hls-viewer.ts): its retries and backoff, its level switching on
// errors, its ABR and buffer, and real-time playback, so faults show up as failed starts, stalls
// and downshifts where a real player's would. What they experience is the demo's steady-state
// signal, exported as Prometheus metrics.

import http from "node:http";
import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { runSession, type SessionHooks } from "./hls-viewer-session.js";
import { sleep } from "../util/abortable.js";
import { startService, type Service } from "./http-service.js";
import { callService } from "./service-call.js";
import { ViewerCohort } from "./viewer-cohort.js";

export interface ViewerOptions {
  count: number;
  playbackApiUrl: string;
  recommendationsUrl: string;
  port?: number;
  /** Share of viewers watching the live channel (the rest watch VOD). */
  liveShare?: number;
  /** A start counts as a success only if playing within this, counted from the viewer's click (home rail and session included). */
  startDeadlineMs?: number;
  /** How long a viewer watches once playing, drawn evenly from this range (ms). */
  watchMs?: { min: number; max: number };
}

interface Metrics {
  attempts: Counter<"cohort">;
  successes: Counter<"cohort">;
  startup: Histogram;
  ttfb: Histogram;
  rebuffers: Counter;
  rebufferSeconds: Counter;
  segmentErrors: Counter;
  switches: Counter;
  railErrors: Counter;
  bitrate: Gauge;
}

/** The arrival of the whole audience is spread over this long, so starts keep flowing rather than in one burst. */
const ARRIVAL_SPREAD_MS = 3000;
/** A viewer whose start failed tries again after 5–8 s, not at once: otherwise a few broken viewers would dominate the start counts. */
const RETRY_AFTER_FAILURE_MS = { min: 5000, max: 8000 };
const NEXT_AFTER_WATCHING_MS = { min: 200, max: 500 };
const DEFAULT_WATCH_MS = { min: 20_000, max: 40_000 };

const between = (range: { min: number; max: number }) => range.min + Math.random() * (range.max - range.min);

function createMetrics(registry: Registry): Metrics {
  const registers = [registry];
  return {
    // Labelled with the viewer's cohort as the CDN names it (x-chaoscast-cohort), so a cohort
    // experiment can compare experiment and control; "none" outside any cohort.
    attempts: new Counter({ name: "playback_start_attempts_total", help: "Playback starts attempted (counted when they succeed or fail).", labelNames: ["cohort"], registers }),
    successes: new Counter({ name: "playback_start_success_total", help: "Playback starts playing (first frame) within the start deadline.", labelNames: ["cohort"], registers }),
    startup: new Histogram({ name: "playback_startup_seconds", help: "Time from the viewer's click to the first frame.", buckets: [0.25, 0.5, 1, 2, 3, 5, 8], registers }),
    ttfb: new Histogram({ name: "playback_ttfb_seconds", help: "Time to first byte of the first media segment's request.", buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5], registers }),
    rebuffers: new Counter({ name: "rebuffer_events_total", help: "Times a viewer's playback stalled with an empty buffer after the start.", registers }),
    rebufferSeconds: new Counter({ name: "rebuffer_seconds_total", help: "Seconds spent stalled.", registers }),
    segmentErrors: new Counter({ name: "segment_errors_total", help: "Failed segment requests (retries included).", registers }),
    switches: new Counter({ name: "bitrate_switches_total", help: "Rendition changes at the playhead after the first.", registers }),
    railErrors: new Counter({ name: "rail_errors_total", help: "Home rails that could not be loaded (the page degrades, playback goes on).", registers }),
    bitrate: new Gauge({ name: "viewer_bitrate_bps", help: "Mean declared bitrate of the renditions viewers are playing.", registers }),
  };
}

/** The bitrate each viewer is playing now, averaged into the gauge. */
class PlayingBitrates {
  private readonly playing = new Map<number, number>();
  constructor(private readonly gauge: Gauge) {}
  set(viewer: number, bitrateBps: number): void {
    this.playing.set(viewer, bitrateBps);
    this.update();
  }
  delete(viewer: number): void {
    this.playing.delete(viewer);
    this.update();
  }
  private update(): void {
    const values = [...this.playing.values()];
    this.gauge.set(values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0);
  }
}

/** Counts one session's stalls, switches, errors and bitrate as they happen; `end` closes what is still open. */
function countPlayback(m: Metrics, bitrates: PlayingBitrates, viewer: number, cohort: ViewerCohort): { hooks: SessionHooks; end(): void } {
  let stalledSince: number | undefined;
  let playingBps: number | undefined;
  return {
    hooks: {
      onSegmentError: () => m.segmentErrors.inc(),
      onStall: () => {
        m.rebuffers.inc();
        stalledSince = performance.now();
      },
      onResume: (stalledMs) => {
        m.rebufferSeconds.inc(stalledMs / 1000);
        stalledSince = undefined;
      },
      onLevelPlayed: (bitrateBps) => {
        if (playingBps !== undefined) m.switches.inc();
        playingBps = bitrateBps;
        bitrates.set(viewer, bitrateBps);
      },
      onResponse: (headers) => cohort.read(headers),
    },
    end() {
      if (stalledSince !== undefined) m.rebufferSeconds.inc((performance.now() - stalledSince) / 1000);
      bitrates.delete(viewer);
    },
  };
}

export async function startViewers(options: ViewerOptions): Promise<Service & { stop(): Promise<void> }> {
  const registry = new Registry();
  const m = createMetrics(registry);
  const bitrates = new PlayingBitrates(m.bitrate);
  // Every cohort's series exists from the start, at 0, so a probe never finds the counters missing.
  for (const cohort of ["none", "experiment", "control"] as const) {
    m.attempts.inc({ cohort }, 0);
    m.successes.inc({ cohort }, 0);
  }
  const stopping = new AbortController();
  // Every viewer listens to it (its pause, its session): a few listeners each, not a leak.
  setMaxListeners(4 * options.count + 10, stopping.signal);
  const deadlineMs = options.startDeadlineMs ?? 5000;
  const liveViewers = Math.round(options.count * (options.liveShare ?? 0.25));

  const pause = (ms: number) => sleep(ms, stopping.signal);

  const watch = options.watchMs ?? DEFAULT_WATCH_MS;
  /**
   * The audience the demo starts with is already mid-watch, as any audience is at any moment: a
   * viewer's first watch is cut short at random. Otherwise all of them would arrive within seconds,
   * watch 20–40 s, and no start would happen in between, while experiments judge starts over 10 s.
   */
  const firstWatch = { min: 1000, max: watch.max };

  /** The page around the player: the home rail (may fail), then a session from the playback API. */
  const openSession = async (id: number, agent: http.Agent, headers: Record<string, string>): Promise<string | undefined> => {
    try {
      await callService(agent, `${options.recommendationsUrl}/rail`, { headers, timeoutMs: 1000 });
    } catch {
      m.railErrors.inc(); // the page shows no rail; playback goes on
    }
    try {
      const body = await callService(agent, `${options.playbackApiUrl}/session/${id < liveViewers ? "live" : "vod"}`, { method: "POST", headers, timeoutMs: 2000 });
      return (JSON.parse(body.toString()) as { manifestUrl: string }).manifestUrl;
    } catch {
      return undefined;
    }
  };

  /** One visit: rail, session, playback. Resolves whether the start succeeded. */
  const visit = async (id: number, agent: http.Agent, headers: Record<string, string>, watchMs: number, cohort: ViewerCohort): Promise<boolean> => {
    const clickedAt = performance.now();
    cohort.beginStart();
    const manifestUrl = await openSession(id, agent, headers);
    if (manifestUrl === undefined) return false;
    const beforePlayer = performance.now() - clickedAt;
    const counting = countPlayback(m, bitrates, id, cohort);
    const outcome = await runSession({
      url: manifestUrl,
      // The deadline is the viewer's: what the rail and the session took is already spent.
      deadlineMs: Math.max(0, deadlineMs - beforePlayer),
      watchMs,
      signal: stopping.signal,
      agent,
      headers,
      cmcd: { sid: randomUUID(), cid: "demo" },
      // Counted as it happens: experiments judge the success ratio over windows of a few seconds.
      onStart: ({ startupMs, ttfbMs }) => {
        m.attempts.inc({ cohort: cohort.start });
        m.successes.inc({ cohort: cohort.start });
        m.startup.observe((beforePlayer + startupMs) / 1000);
        m.ttfb.observe(ttfbMs / 1000);
      },
      hooks: counting.hooks,
    });
    counting.end();
    return outcome.started;
  };

  const viewer = async (id: number) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });
    const headers = { "x-viewer-id": `viewer-${id}` };
    const cohort = new ViewerCohort();
    await pause(Math.random() * ARRIVAL_SPREAD_MS);
    for (let visits = 0; !stopping.signal.aborted; visits++) {
      const started = await visit(id, agent, headers, between(visits === 0 ? firstWatch : watch), cohort);
      // A start that did not happen is counted once its outcome is known (the session gives up at
      // the deadline), so a start still in flight is never mistaken for a failure.
      if (!started && !stopping.signal.aborted) m.attempts.inc({ cohort: cohort.start });
      await pause(between(started ? NEXT_AFTER_WATCHING_MS : RETRY_AFTER_FAILURE_MS));
    }
    agent.destroy();
  };

  const loops = Array.from({ length: options.count }, (_, i) => viewer(i));
  const service = await startService("viewers", options.port ?? 0, registry, (_req, res) => void res.writeHead(404).end());
  return {
    ...service,
    async stop() {
      stopping.abort();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(loops), new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
      clearTimeout(timer);
      await service.close();
    },
    close: async () => {
      stopping.abort();
      await service.close();
    },
  };
}
