// Media playlists as hls.js's level controller loads them: the playlist of the level being loaded,
// once for a VOD, and for a live stream again every target duration (half of one when it had not
// moved on), counted from when the previous request was sent; a failed load is retried, switches
// level or is fatal (hls-viewer-errors.ts). Only the current level's playlist is kept fresh.

import type { Abr } from "./hls-viewer-abr.js";
import type { LoadPolicy, PlayerConfig } from "./hls-viewer-config.js";
import { playlistErrorAction, type Failure } from "./hls-viewer-errors.js";
import { AbortedLoad, LoadFailure, type LoadHandle } from "./hls-viewer-loader.js";
import { edgeOf, markReload, readLevelDetails, type Level, type LevelDetails } from "./hls-viewer-playlists.js";

export interface LevelLoaderDeps {
  levels: Level[];
  config: PlayerConfig;
  abr: Abr;
  /** Sends a playlist request (the session adds headers, CMCD and the agent). */
  request(url: string, policy: LoadPolicy): LoadHandle;
  /** The playhead, for the distance to the live edge. */
  playhead(): number;
  /** A playlist arrived (the stream may go on). */
  onUpdated(level: number): void;
  /** The level failed for good and ABR must move to `level`. */
  onErrorSwitch(level: number): void;
  onFatal(reason: string): void;
}

/** A playlist that is not one (no #EXTM3U, no segments) is an error hls.js does not retry. */
const UNREADABLE: Failure = { status: 0, timedOut: false };

export class LevelLoader {
  private current = -1;
  /** The current level's playlist has been loaded since it became current (hls.js's levelLastLoaded). */
  private fresh = false;
  private inFlight: { level: number; handle: LoadHandle } | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** When the next reload of a live level is due (performance.now()). */
  private readonly reloadDue = new Map<number, number>();
  private playlistErrors = 0;
  private stopped = false;
  /** The last playlist loaded, of any level. */
  latest: LevelDetails | undefined;

  constructor(private readonly deps: LevelLoaderDeps) {}

  /** Whether the stream can pick fragments from this level's playlist now. */
  ready(level: number): boolean {
    const details = this.deps.levels[level]?.details;
    return details !== undefined && (!details.live || (level === this.current && this.fresh));
  }

  /** Make `level` the one loaded: its playlist is loaded if it has none yet or is live. */
  select(level: number): void {
    if (level === this.current || this.stopped) return;
    this.current = level;
    this.fresh = false;
    clearTimeout(this.timer);
    const details = this.deps.levels[level]?.details;
    if (!details || details.live) this.loadNow(level);
  }

  /** A media playlist given as the session's URL is this level's first playlist, with no second request. */
  async useFirst(level: number, text: string, url: string): Promise<void> {
    this.current = level;
    await this.accept(level, text, url, performance.now());
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.inFlight?.handle.abort();
  }

  private loadNow(level: number): void {
    if (this.stopped) return;
    if (this.inFlight?.level === level) return;
    this.inFlight?.handle.abort();
    const target = this.deps.levels[level]!;
    const handle = this.deps.request(target.playlistUrl, this.deps.config.playlistLoadPolicy);
    this.inFlight = { level, handle };
    handle.done.then(
      async (loaded) => {
        if (this.inFlight?.handle !== handle) return;
        this.inFlight = undefined;
        this.deps.abr.onLevelLoaded(loaded.stats);
        await this.accept(level, loaded.body?.toString("utf8") ?? "", target.playlistUrl, loaded.stats.sentAt);
      },
      (err: unknown) => {
        if (this.inFlight?.handle !== handle) return;
        this.inFlight = undefined;
        if (err instanceof AbortedLoad || this.stopped) return;
        if (!(err instanceof LoadFailure)) return this.deps.onFatal(`internal error loading ${target.playlistUrl}: ${(err as Error).message}`);
        this.failed(level, err, `levelLoad${err.timedOut ? "TimeOut" : "Error"}${err.status ? ` (HTTP ${err.status})` : ""} ${target.playlistUrl}`);
      },
    );
  }

  /** A playlist arrived: it becomes the level's details, and a live one is reloaded in time. */
  private async accept(level: number, text: string, url: string, sentAt: number): Promise<void> {
    const target = this.deps.levels[level]!;
    let details: LevelDetails;
    try {
      details = markReload(await readLevelDetails(text, url, level, target.details ?? this.latest, performance.now()), target.details);
    } catch {
      this.failed(level, UNREADABLE, `levelParsingError ${url}`);
      return;
    }
    if (this.stopped) return;
    target.details = details;
    this.latest = details;
    this.playlistErrors = 0;
    if (level === this.current) this.fresh = true;
    if (details.live && level === this.current) this.scheduleReload(level, details, sentAt);
    this.deps.onUpdated(level);
  }

  private scheduleReload(level: number, details: LevelDetails, sentAt: number): void {
    const now = performance.now();
    const interval = reloadIntervalMs(details, (edgeOf(details) - this.deps.playhead()) * 1000);
    let due = this.reloadDue.get(level) ?? sentAt;
    if (due + interval < now) due = now;
    else if (due <= now) due += interval;
    this.reloadDue.set(level, due);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (level === this.current) this.loadNow(level);
    }, Math.max(0, due - now));
  }

  private failed(level: number, failure: Failure, reason: string): void {
    const { levels, config } = this.deps;
    const action = playlistErrorAction(levels, level, Math.max(this.current, 0), failure, config.playlistLoadPolicy, this.playlistErrors++);
    if (action.kind === "retry") {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        if (level === this.current) this.loadNow(level);
      }, action.delayMs);
    } else if (action.kind === "switch") {
      this.playlistErrors = 0;
      this.deps.onErrorSwitch(action.level);
      this.select(action.level);
    } else {
      this.deps.onFatal(`networkError: ${reason}`);
    }
  }
}

/**
 * hls.js's computeReloadInterval: a target duration after a playlist that moved on (the last
 * segment's duration when shorter and within four target durations of the edge), half of one
 * after a playlist that had not.
 */
export function reloadIntervalMs(details: LevelDetails, distanceToEdgeMs: number): number {
  let interval = 1000 * details.targetDuration;
  if (details.updated) {
    const last = details.fragments.at(-1);
    if (last && interval * 4 > distanceToEdgeMs && last.duration * 1000 > 0 && last.duration * 1000 < interval) interval = last.duration * 1000;
  } else {
    interval /= 2;
  }
  return Math.round(interval);
}
