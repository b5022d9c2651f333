// Fragments as hls.js's stream controller loads them: one at a time, at the end of the buffer,
// at the level ABR picks before each one, while less than the maximum buffer is held; a VOD from
// its start, a live stream from liveSyncDurationCount target durations behind the edge. A failed
// fragment is retried, switches level, is skipped (live) or is fatal, as hls-viewer-errors.ts
// decides; a fragment loading too slowly is abandoned by ABR's abandon rules.

import { sleep } from "../util/abortable.js";
import type { Abr, AbrContext } from "./hls-viewer-abr.js";
import { maxBufferSeconds, type PlayerConfig } from "./hls-viewer-config.js";
import { fragmentErrorAction } from "./hls-viewer-errors.js";
import type { LevelLoader } from "./hls-viewer-level-loader.js";
import { AbortedLoad, LoadFailure, type LoadHandle, type LoadStats } from "./hls-viewer-loader.js";
import type { PlaybackClock } from "./hls-viewer-playback.js";
import { edgeOf, fragmentAt, fragmentStart, totalDuration, type Fragment, type Level, type LevelDetails } from "./hls-viewer-playlists.js";

export interface StreamDeps {
  levels: Level[];
  config: PlayerConfig;
  abr: Abr;
  playlists: LevelLoader;
  clock: PlaybackClock;
  /** Sends a segment request (the session adds headers, CMCD and the agent). */
  request(fragment: Fragment, level: Level): LoadHandle;
  /** The first fragment that will be played arrived (before it is buffered). */
  onFirstFragment(stats: LoadStats): void;
  onSegmentError(): void;
  onFatal(reason: string): void;
  /** Aborted when the session ends (its requests are aborted with it). */
  stopped: AbortSignal;
}

export class StreamController {
  private loadLevel = -1;
  private fragmentDurationS = 0;
  private previous: Fragment | undefined;
  /** Live fragments given up on and skipped over (media sequence numbers). */
  private readonly skipped = new Set<number>();
  /** Fragments in the buffer now (media sequence numbers), so the one after a skipped fragment is not loaded twice. */
  private readonly inBuffer = new Set<number>();
  private wake: (() => void) | undefined;
  private firstLoaded = false;
  /** Stalls on a live stream: each puts the live start a second further back (liveSyncOnStallIncrease). */
  private liveStalls = 0;

  constructor(private readonly deps: StreamDeps) {}

  /** Something the loop may be waiting for happened (a playlist arrived, the session ends). */
  nudge(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  noteStall(): void {
    if (this.deps.playlists.latest?.live) this.liveStalls += 1;
  }

  /** The level a failure or the playlists moved playback to. */
  switchTo(level: number): void {
    this.deps.abr.force(level, this.deps.levels);
    this.setLoadLevel(level);
  }

  abrContext(): AbrContext {
    const { clock, levels, playlists } = this.deps;
    return { levels, loadLevel: this.loadLevel, forwardBufferS: clock.forwardBufferS(), fragmentDurationS: this.fragmentDurationS, live: playlists.latest?.live === true, mediaStarted: clock.started };
  }

  /** Loads until the session stops. */
  async run(): Promise<void> {
    const { stopped } = this.deps;
    while (!stopped.aborted) await this.step();
  }

  /** One pass of hls.js's idle tick: choose the level, and load a fragment if there is one to load. */
  private async step(): Promise<void> {
    const { abr, levels, clock, config, playlists } = this.deps;
    const level = abr.nextLevel(this.abrContext());
    this.setLoadLevel(level);
    const details = levels[level]!.details;
    if (!details || !playlists.ready(level)) return this.idle();
    if (details.live) this.keepWithinLiveWindow(details);
    const bufferS = clock.forwardBufferS();
    const maxBufferS = maxBufferSeconds(config, levels[level]!.bitrateBps);
    if (bufferS >= maxBufferS) return this.idle((bufferS - maxBufferS) * 1000 + 100);
    const fragment = this.nextFragment(details);
    if (!fragment) return this.idle();
    await this.load(fragment, details);
  }

  private setLoadLevel(level: number): void {
    this.loadLevel = level;
    this.deps.playlists.select(level);
  }

  /** The fragment to load next, or undefined when there is none yet (live) or no more (VOD). */
  private nextFragment(details: LevelDetails): Fragment | undefined {
    const { clock } = this.deps;
    if (!clock.started) {
      const start = details.live ? this.liveSyncPosition(details) : fragmentStart(details);
      clock.setStartPosition(start);
      return this.notSkipped(details, fragmentAt(details, start) ?? details.fragments[0]);
    }
    const position = clock.bufferEnd();
    if (details.live && position < fragmentStart(details)) {
      // Fallen out of the live window: on with the next fragment still listed.
      const after = this.previous?.sn ?? -1;
      return this.notSkipped(details, details.fragments.find((f) => f.sn > after) ?? details.fragments[0]);
    }
    return this.notSkipped(details, fragmentAt(details, position));
  }

  /** The fragment, or the first after it that was neither skipped nor buffered already. */
  private notSkipped(details: LevelDetails, fragment: Fragment | undefined): Fragment | undefined {
    if (!fragment) return undefined;
    return details.fragments.find((f) => f.sn >= fragment.sn && !this.skipped.has(f.sn) && !this.inBuffer.has(f.sn));
  }

  /**
   * Where a live stream starts (hls.js's liveSyncPosition): liveSyncDurationCount target
   * durations (plus a second per stall so far, up to one more) behind the edge, the edge moved on
   * by the playlist's age, and kept inside the playlist.
   */
  private liveSyncPosition(details: LevelDetails): number {
    const { config } = this.deps;
    const td = details.targetDuration;
    const edge = edgeOf(details);
    const age = Math.max(0, performance.now() - details.loadedAt) / 1000;
    const targetLatency = config.liveSyncDurationCount * td + Math.min(this.liveStalls * config.liveSyncOnStallIncrease, td);
    const edgeStalled = Math.max(age - 3 * td, 0);
    const sync = edge + age - targetLatency - edgeStalled;
    return Math.min(Math.max(edge - totalDuration(details), sync), edge - td);
  }

  /** A stalled live player whose playhead has left the playlist's window jumps to the live sync position. */
  private keepWithinLiveWindow(details: LevelDetails): void {
    const { clock } = this.deps;
    if (clock.state !== "stalled") return;
    if (clock.currentTime() >= fragmentStart(details)) return;
    clock.seek(this.liveSyncPosition(details));
    this.inBuffer.clear();
  }

  private async load(fragment: Fragment, details: LevelDetails): Promise<void> {
    const handle = this.deps.request(fragment, this.deps.levels[fragment.level]!);
    const stopWatching = this.watchForAbandon(fragment, handle);
    try {
      const loaded = await handle.done;
      this.buffered(fragment, details, loaded.stats);
    } catch (err) {
      if (err instanceof AbortedLoad) return; // abandoned for a lower level, or the session ended
      if (!(err instanceof LoadFailure)) throw err;
      await this.failed(fragment, details, err);
    } finally {
      stopWatching();
    }
  }

  private buffered(fragment: Fragment, details: LevelDetails, stats: LoadStats): void {
    const { abr, clock, levels } = this.deps;
    const level = levels[fragment.level]!;
    abr.onFragmentLoaded(fragment.level, stats);
    if (!this.firstLoaded) {
      this.firstLoaded = true;
      this.deps.onFirstFragment(stats);
    }
    const end = fragment.start + fragment.duration;
    if (!details.live && fragment.sn === details.endSN) clock.markEndOfStream(end);
    clock.append({ start: fragment.start, end, level: fragment.level, bitrateBps: level.bitrateBps });
    abr.onFragmentBuffered(stats);
    // A level that delivers is forgiven its errors.
    level.fragmentError = 0;
    level.loadError = 0;
    this.previous = fragment;
    this.inBuffer.add(fragment.sn);
    this.fragmentDurationS = fragment.duration;
  }

  private async failed(fragment: Fragment, details: LevelDetails, failure: LoadFailure): Promise<void> {
    const { abr, levels, config } = this.deps;
    this.deps.onSegmentError();
    if (failure.timedOut) abr.onFragmentTimeout(failure.stats);
    const action = fragmentErrorAction(levels, fragment.level, this.loadLevel, failure, config.fragLoadPolicy, { isLive: details.live, isLastFragment: fragment.sn === details.endSN });
    switch (action.kind) {
      case "retry":
        return sleep(action.delayMs, this.deps.stopped);
      case "switch":
        return this.switchTo(action.level);
      case "gap":
        this.skipped.add(fragment.sn);
        return;
      case "fatal":
        this.deps.onFatal(`networkError: fragLoad${failure.timedOut ? "TimeOut" : "Error"}${failure.status ? ` (HTTP ${failure.status})` : ""} ${fragment.url}`);
        return this.idle();
    }
  }

  /** Runs ABR's abandon rules while the fragment loads; returns how to stop them. */
  private watchForAbandon(fragment: Fragment, handle: LoadHandle): () => void {
    const { abr, config } = this.deps;
    let abortTimer: NodeJS.Timeout | undefined;
    const check = setInterval(() => {
      const decision = abr.abandonCheck(this.abrContext(), { level: fragment.level, durationS: fragment.duration }, handle.stats);
      if (!decision) return;
      clearInterval(check);
      this.setLoadLevel(decision.level);
      abortTimer = setTimeout(() => {
        // hls.js aborts only while still loading this fragment for that level, and never for the lowest.
        if (this.loadLevel !== decision.level || decision.level <= 0) return;
        handle.abort();
        abr.onEmergencyAbort(this.abrContext(), decision.level);
      }, decision.abortAfterMs);
    }, config.abandonCheckIntervalMs);
    return () => {
      clearInterval(check);
      clearTimeout(abortTimer);
    };
  }

  /** Waits for a nudge (or `ms`), or until the session stops. */
  private idle(ms?: number): Promise<void> {
    if (this.deps.stopped.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => this.nudge(), ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
