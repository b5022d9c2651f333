// One viewer's session with the hls.js model, from the master playlist to the end of the watch:
// it wires the loader, ABR, the level and stream controllers and the playback clock together,
// ends the session when the viewer is done (watched long enough, gave up at the start deadline,
// the VOD ended, a fatal error, or the caller's signal) and reports what the viewer experienced.
// playSession (hls-viewer.ts) is this with hls.js's defaults and no hooks; the demo's viewers use
// the hooks to count what happens as it happens.

import http from "node:http";
import { sleep } from "../util/abortable.js";
import { Abr } from "./hls-viewer-abr.js";
import { CmcdTagger, type CmcdState } from "./hls-viewer-cmcd.js";
import { HLS_JS_DEFAULTS, retriableStatus, retryDelayMs, type LoadPolicy, type PlayerConfig } from "./hls-viewer-config.js";
import { LevelLoader } from "./hls-viewer-level-loader.js";
import { AbortedLoad, load, LoadFailure, type LoadHandle, type LoadStats } from "./hls-viewer-loader.js";
import type { IncomingHttpHeaders } from "node:http";
import { PlaybackClock } from "./hls-viewer-playback.js";
import { readLevels } from "./hls-viewer-playlists.js";
import { StreamController } from "./hls-viewer-stream.js";
import type { PlaySessionOptions, SessionOutcome } from "./hls-viewer-types.js";

/** What the demo's viewers count while a session runs (onStart is in the options). */
export interface SessionHooks {
  onSegmentError?(): void;
  onStall?(): void;
  onResume?(stalledMs: number): void;
  /** The rendition at the playhead changed (the first included); 0 when it declares no bitrate. */
  onLevelPlayed?(bitrateBps: number): void;
  /** Every response's headers, as a page's telemetry can read them (a cohort named by the CDN). */
  onResponse?(headers: IncomingHttpHeaders): void;
}

export interface SessionOptions extends PlaySessionOptions {
  hooks?: SessionHooks;
  /** hls.js's defaults unless changed (tests shorten the long waits with it). */
  config?: Partial<PlayerConfig>;
}

/** The session ends for good: a fatal error, as hls.js raises it. */
class FatalPlayerError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "FatalPlayerError";
  }
}

export function runSession(options: SessionOptions): Promise<SessionOutcome> {
  return new Session(options).run();
}

class Session {
  private readonly config: PlayerConfig;
  private readonly startedAt = performance.now();
  private readonly stop = new AbortController();
  private readonly ownAgent: http.Agent | undefined;
  private readonly abr: Abr;
  private readonly clock: PlaybackClock;
  private readonly cmcd: CmcdTagger | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private playlists: LevelLoader | undefined;
  private stream: StreamController | undefined;
  private startupMs: number | null = null;
  private firstFragmentTtfbMs: number | null = null;
  private segmentErrors = 0;
  private fatal: string | null = null;
  private ended!: () => void;
  private readonly done = new Promise<void>((resolve) => (this.ended = resolve));

  constructor(private readonly options: SessionOptions) {
    this.config = { ...HLS_JS_DEFAULTS, ...options.config };
    this.ownAgent = options.agent ? undefined : new http.Agent({ keepAlive: true, maxSockets: 6 });
    this.abr = new Abr(this.config);
    this.cmcd = options.cmcd ? new CmcdTagger(options.cmcd) : undefined;
    this.clock = new PlaybackClock({
      onPlaying: (at) => this.onPlaying(at),
      onStall: () => {
        this.cmcd?.noteStarved();
        this.stream?.noteStall();
        this.options.hooks?.onStall?.();
      },
      onResume: (_at, stalledMs) => this.options.hooks?.onResume?.(stalledMs),
      onLevelPlayed: (_level, bitrateBps) => this.options.hooks?.onLevelPlayed?.(bitrateBps),
      onEnded: () => this.finish(),
    });
  }

  async run(): Promise<SessionOutcome> {
    const { signal } = this.options;
    if (signal?.aborted) return this.outcome();
    const onAbort = () => this.finish();
    signal?.addEventListener("abort", onAbort, { once: true });
    // A viewer not playing by the deadline gives up, as the player probe counts one.
    this.timers.push(setTimeout(() => this.startupMs === null && this.finish(), this.options.deadlineMs));
    try {
      await Promise.race([this.play(), this.done]);
    } catch (err) {
      if (!(err instanceof FatalPlayerError)) throw err;
      this.fatal = err.message;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.finish();
      this.ownAgent?.destroy();
    }
    return this.outcome();
  }

  private async play(): Promise<void> {
    const manifest = await this.loadManifest();
    if (this.stop.signal.aborted) return;
    const { levels, firstListedBps } = await readLevels(manifest, this.options.url).catch((err: Error) => {
      throw new FatalPlayerError(`networkError: manifestParsingError ${err.message}`);
    });
    const isMediaPlaylist = !/#EXT-X-STREAM-INF/.test(manifest);
    this.abr.onManifest(Math.max(0, levels.findIndex((l) => l.bitrateBps === firstListedBps)), firstListedBps);
    this.playlists = new LevelLoader({
      levels,
      config: this.config,
      abr: this.abr,
      request: (url, policy) => this.request(this.cmcd ? this.cmcd.manifest(url, this.cmcdState()) : url, policy, true),
      playhead: () => this.clock.currentTime(),
      onUpdated: () => this.stream?.nudge(),
      onErrorSwitch: (level) => this.stream?.switchTo(level),
      onFatal: (reason) => this.fail(reason),
    });
    this.stream = new StreamController({
      levels,
      config: this.config,
      abr: this.abr,
      playlists: this.playlists,
      clock: this.clock,
      request: (fragment, level) => this.request(this.cmcd ? this.cmcd.segment(fragment.url, this.cmcdState(), level.bitrateBps, fragment.duration) : fragment.url, this.config.fragLoadPolicy, false),
      onFirstFragment: (stats) => (this.firstFragmentTtfbMs = ttfbOf(stats)),
      onSegmentError: () => {
        this.segmentErrors += 1;
        this.options.hooks?.onSegmentError?.();
      },
      onFatal: (reason) => this.fail(reason),
      stopped: this.stop.signal,
    });
    // A media playlist given directly is its only level's playlist already.
    if (isMediaPlaylist) await this.playlists.useFirst(0, manifest, this.options.url);
    await this.stream.run();
  }

  /** The master playlist, retried as hls.js's loader does (4xx and failed connections are fatal at once). */
  private async loadManifest(): Promise<string> {
    const policy = this.config.manifestLoadPolicy;
    const url = this.cmcd ? this.cmcd.manifest(this.options.url, this.cmcdState()) : this.options.url;
    for (let retries = 0; ; retries++) {
      const handle = this.request(url, policy, true);
      try {
        return (await handle.done).body?.toString("utf8") ?? "";
      } catch (err) {
        if (err instanceof AbortedLoad) return "";
        if (!(err instanceof LoadFailure)) throw err;
        const retry = err.timedOut ? policy.timeoutRetry : policy.errorRetry;
        if (retries >= retry.maxNumRetry || !(err.timedOut || retriableStatus(err.status))) {
          throw new FatalPlayerError(`networkError: manifestLoad${err.timedOut ? "TimeOut" : "Error"}${err.status ? ` (HTTP ${err.status})` : ""} ${this.options.url}`);
        }
        await sleep(retryDelayMs(retry, retries), this.stop.signal);
      }
    }
  }

  private request(url: string, policy: LoadPolicy, keepBody: boolean): LoadHandle {
    const onResponse = this.options.hooks?.onResponse;
    const handle = load({ url, agent: this.options.agent ?? this.ownAgent, headers: this.options.headers ?? {}, policy, keepBody, ...(onResponse ? { onResponse } : {}) });
    const abort = () => handle.abort();
    if (this.stop.signal.aborted) abort();
    this.stop.signal.addEventListener("abort", abort, { once: true });
    const forget = () => this.stop.signal.removeEventListener("abort", abort);
    handle.done.then(forget, forget);
    return handle;
  }

  private cmcdState(): CmcdState {
    const estimate = this.abr.estimate;
    return { live: this.playlists?.latest?.live === true, starting: this.startupMs === null, bufferS: this.clock.forwardBufferS(), throughputBps: estimate.canEstimate ? estimate.estimateBps : undefined };
  }

  private onPlaying(at: number): void {
    this.startupMs = Math.round(at - this.startedAt);
    // The watch is counted from the first frame, stalls included, as a viewer's time is.
    this.timers.push(setTimeout(() => this.finish(), this.options.watchMs));
    this.options.onStart?.({ startupMs: this.startupMs, ttfbMs: this.firstFragmentTtfbMs ?? 0 });
  }

  private fail(reason: string): void {
    this.fatal ??= reason;
    this.finish();
  }

  /** Ends the session: every load, timer and wait stops, and run() reports. */
  private finish(): void {
    if (this.stop.signal.aborted) return;
    this.stop.abort();
    for (const t of this.timers) clearTimeout(t);
    this.playlists?.stop();
    this.clock.dispose();
    this.stream?.nudge();
    this.ended();
  }

  private outcome(): SessionOutcome {
    const stats = this.clock.stats();
    const kbps = (bps: number | undefined) => (bps ? Math.round(bps / 1000) : null);
    return {
      started: this.startupMs !== null && this.startupMs <= this.options.deadlineMs,
      startupMs: this.startupMs,
      ttfbMs: this.firstFragmentTtfbMs,
      rebuffers: stats.stalls,
      rebufferMs: Math.round(stats.stalledMs),
      switches: stats.switches,
      startKbps: kbps(stats.firstBitrateBps),
      endKbps: kbps(stats.lastBitrateBps),
      meanKbps: stats.ratedS > 0 ? Math.round(stats.kbit / stats.ratedS) : null,
      playedMs: Math.round(stats.playedS * 1000),
      segmentErrors: this.segmentErrors,
      fatal: this.fatal,
    };
  }
}

const ttfbOf = (stats: LoadStats): number | null => (stats.firstByteAt === undefined ? null : Math.round(stats.firstByteAt - stats.sentAt));
