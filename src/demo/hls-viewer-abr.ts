// Level choice as hls.js's ABR controller makes it (abr-controller.ts), over the model's levels:
// the first level from the default estimate, the next from the bandwidth estimate and the buffer,
// a level forced by an error or an emergency switch, and the abandon rules that switch down while
// a fragment is loading too slowly for the buffer left.

import { BandwidthEstimator } from "./hls-viewer-bandwidth.js";
import type { PlayerConfig } from "./hls-viewer-config.js";
import type { LoadStats } from "./hls-viewer-loader.js";
import { averageTargetDuration, type Level } from "./hls-viewer-playlists.js";

/** What ABR looks at besides its own state. */
export interface AbrContext {
  levels: Level[];
  /** The level being loaded, -1 before the first choice. */
  loadLevel: number;
  /** Seconds of media buffered ahead of the playhead (the time until the buffer runs dry). */
  forwardBufferS: number;
  /** Duration of the fragment loaded last (0 before the first). */
  fragmentDurationS: number;
  /** The latest playlist loaded is live. */
  live: boolean;
  /** The media element has something to play (hls.js: readyState > 0 and not paused). */
  mediaStarted: boolean;
}

/** The abandon rules' verdict on a fragment being loaded: load `level` next, and abort this one now or later. */
export interface AbandonDecision {
  level: number;
  abortAfterMs: number;
}

export class Abr {
  private estimator: BandwidthEstimator;
  private lastLoadedFragLevel = -1;
  /** A level set from outside ABR's own choice (error switch, emergency switch); -1 when none. */
  private forced = -1;
  /** The first choice holds until the first fragment is loaded. */
  private firstSelection = -1;
  private firstAutoFloor = -1;
  private lastLevelLoadS = 0;
  /** Index of the level listed first in the master playlist (hls.js's firstLevel). */
  private firstLevel = 0;

  constructor(private readonly config: PlayerConfig) {
    this.estimator = this.newEstimator(config.abrEwmaDefaultEstimate);
  }

  get estimate(): BandwidthEstimator {
    return this.estimator;
  }

  /** The master is parsed: a first listed level above the default estimate raises it. */
  onManifest(firstLevel: number, firstListedBps: number): void {
    this.firstLevel = firstLevel;
    const start = Math.min(firstListedBps, this.config.abrEwmaDefaultEstimateMax);
    if (start > this.estimator.estimateBps && !this.estimator.canEstimate) this.resetEstimator(start);
  }

  onLevelLoaded(stats: LoadStats): void {
    if (stats.firstByteAt !== undefined && stats.doneAt !== undefined) this.lastLevelLoadS = (stats.doneAt - stats.firstByteAt) / 1000;
  }

  /** A fragment arrived whole: its time to first byte is sampled, and it is the level loaded last. */
  onFragmentLoaded(level: number, stats: LoadStats): void {
    if (stats.firstByteAt !== undefined) this.estimator.sampleTtfb(stats.firstByteAt - stats.sentAt);
    if (level === this.forced) this.forced = -1;
    this.firstSelection = -1;
    this.lastLoadedFragLevel = level;
  }

  /** A fragment was buffered: its throughput, minus (at most) the expected time to first byte, is sampled. */
  onFragmentBuffered(stats: LoadStats): void {
    if (stats.doneAt === undefined || stats.firstByteAt === undefined) return;
    const ttfb = stats.firstByteAt - stats.sentAt;
    this.estimator.sampleThroughput(stats.doneAt - stats.sentAt - Math.min(ttfb, this.estimator.ttfbEstimateMs), stats.loadedBytes);
    if (this.firstAutoFloor > -1 && this.estimator.canEstimate) this.firstAutoFloor = -1;
  }

  /** A fragment timed out: what it did load still says something about the bandwidth. */
  onFragmentTimeout(stats: LoadStats): void {
    const loading = performance.now() - stats.sentAt;
    if (stats.firstByteAt !== undefined && stats.loadedBytes > 0) {
      this.estimator.sampleThroughput(loading - Math.min(this.estimator.ttfbEstimateMs, stats.firstByteAt - stats.sentAt), stats.loadedBytes);
    } else {
      this.estimator.sampleTtfb(loading);
    }
  }

  /** Load this level next, whatever ABR would choose (hls.js's `nextAutoLevel = level`). */
  force(level: number, levels: Level[]): void {
    this.forced = Math.min(Math.max(level, 0), levels.length - 1);
  }

  /** The level to load next. */
  nextLevel(ctx: AbrContext): number {
    const measured = this.estimator.canEstimate && this.lastLoadedFragLevel > -1;
    if (this.forced !== -1 && !measured) return this.forced;
    const chosen = measured ? this.nextAbrLevel(ctx) : this.firstAutoLevel(ctx);
    // A forced level wins while it has not failed more than ABR's choice.
    if (this.forced !== -1 && ctx.levels[this.forced]!.loadError <= ctx.levels[chosen]!.loadError) return this.forced;
    this.forced = -1;
    return chosen;
  }

  /** The start level: the best one the estimate can fetch within maxStarvationDelay. */
  firstAutoLevel(ctx: AbrContext): number {
    const best = this.findBestLevel(ctx, this.estimator.estimateBps, ctx.levels.length - 1, ctx.forwardBufferS / 2, this.config.maxStarvationDelay, 1, 1);
    if (best > -1) return best;
    const floor = this.firstAutoFloor === -1 ? Number.POSITIVE_INFINITY : this.firstAutoFloor;
    return Math.min(this.firstLevel, ctx.levels.length - 1, floor);
  }

  private nextAbrLevel(ctx: AbrContext): number {
    const { levels, forwardBufferS } = ctx;
    if (levels.length <= 1) return Math.max(ctx.loadLevel, 0);
    const bw = this.estimator.estimateBps;
    const top = levels.length - 1;
    const { abrBandWidthFactor: down, abrBandWidthUpFactor: up } = this.config;
    // First a level that avoids rebuffering altogether, then one that keeps it under maxStarvationDelay.
    if (forwardBufferS) {
      const best = this.findBestLevel(ctx, bw, top, forwardBufferS, 0, down, up);
      if (best >= 0) return best;
    }
    const maxStarvation = ctx.fragmentDurationS ? Math.min(ctx.fragmentDurationS, this.config.maxStarvationDelay) : this.config.maxStarvationDelay;
    const best = this.findBestLevel(ctx, bw, top, forwardBufferS, maxStarvation, down, up);
    if (best > -1) return best;
    const loading = levels[ctx.loadLevel];
    if (loading && levels[0]!.bitrateBps < loading.bitrateBps) return 0;
    return Math.max(ctx.loadLevel, 0);
  }

  /**
   * The highest level up to `maxLevel` whose bitrate fits the (factored) bandwidth and whose next
   * fragment would arrive within the buffer plus `maxStarvationS`; -1 when none does.
   */
  private findBestLevel(ctx: AbrContext, bandwidthBps: number, maxLevel: number, bufferS: number, maxStarvationS: number, downFactor: number, upFactor: number): number {
    const { levels } = ctx;
    if (levels.length === 1) return 0;
    const firstSelection = ctx.loadLevel === -1 || this.lastLoadedFragLevel === -1;
    if (firstSelection && this.firstSelection !== -1) return this.firstSelection;
    // The first choice is never starved of the lowest level.
    const bw = firstSelection ? Math.max(bandwidthBps, Math.min(...levels.map((l) => l.bitrateBps))) : bandwidthBps;
    const base = this.lastLoadedFragLevel === -1 ? this.firstLevel : this.lastLoadedFragLevel;
    const ttfbS = this.estimator.ttfbEstimateMs / 1000;
    const maxFetchS = bufferS + maxStarvationS;
    for (let i = maxLevel; i >= 0; i--) {
      const level = levels[i]!;
      const details = level.details;
      const fragmentS = details ? averageTargetDuration(details) : ctx.fragmentDurationS || 1;
      const adjustedBw = (i > base ? upFactor : downFactor) * bw;
      const fetchS = this.timeToLoad(ttfbS, adjustedBw, level.bitrateBps * fragmentS, !details || details.live);
      const healthy = i === this.lastLoadedFragLevel || (level.loadError === 0 && level.fragmentError === 0);
      // hls.js does not hold live streams to the fetch time, so that the live edge does not push them down.
      const inTime = fetchS <= ttfbS || !Number.isFinite(fetchS) || ctx.live || fetchS < maxFetchS;
      if (adjustedBw >= level.bitrateBps && healthy && inTime) {
        if (firstSelection) this.firstSelection = i;
        return i;
      }
    }
    return -1;
  }

  /** Seconds to load a fragment of `bits`, plus its playlist when switching to a level not loaded yet. */
  private timeToLoad(ttfbS: number, bandwidthBps: number, bits: number, needsPlaylist: boolean): number {
    return ttfbS + bits / bandwidthBps + (needsPlaylist ? ttfbS + this.lastLevelLoadS : 0);
  }

  /**
   * The abandon rules, looked at every abandonCheckIntervalMs while a fragment of `level` loads:
   * once half its duration has gone by, if the rest will not arrive before the buffer runs dry and
   * a lower level (never the lowest, from the one just above it) would, switch down, and abort
   * this load now if it is much slower, otherwise once the lower fragment could have loaded.
   */
  abandonCheck(ctx: AbrContext, fragment: { level: number; durationS: number }, stats: LoadStats): AbandonDecision | undefined {
    const { levels } = ctx;
    const complete = stats.totalBytes !== undefined && stats.loadedBytes >= stats.totalBytes && stats.loadedBytes > 0;
    if (complete || fragment.level <= 0) return undefined;
    const blockingSwitch = this.forced > -1 && this.forced !== fragment.level;
    if (!blockingSwitch && !ctx.mediaStarted) return undefined;
    const loadingMs = performance.now() - stats.sentAt;
    const ttfbEstimateMs = this.estimator.ttfbEstimateMs;
    if (loadingMs <= Math.max(ttfbEstimateMs, (1000 * fragment.durationS) / 2)) return undefined;

    const bufferS = ctx.forwardBufferS;
    const ttfb = stats.firstByteAt === undefined ? -1 : stats.firstByteAt - stats.sentAt;
    const gotBytes = stats.loadedBytes > 0 && ttfb > -1;
    const bwEstimate = this.estimator.estimateBps;
    const expectedBytes = Math.max(stats.loadedBytes, Math.round((fragment.durationS * levels[fragment.level]!.bitrateBps) / 8));
    const streamingMs = Math.max(gotBytes ? loadingMs - ttfb : loadingMs, 1);
    const loadRate = gotBytes ? (stats.loadedBytes * 1000) / streamingMs : 0; // bytes/s
    const ttfbS = ttfbEstimateMs / 1000;
    const restS = loadRate ? (expectedBytes - stats.loadedBytes) / loadRate : (expectedBytes * 8) / bwEstimate + ttfbS;
    if (restS <= bufferS) return undefined;

    const bw = loadRate ? loadRate * 8 : bwEstimate;
    let next: number;
    let nextS = Number.POSITIVE_INFINITY;
    for (next = fragment.level - 1; next > 0; next--) {
      nextS = this.timeToLoad(ttfbS, bw, fragment.durationS * levels[next]!.bitrateBps, !levels[next]!.details || ctx.live);
      if (nextS < Math.min(bufferS, fragment.durationS + ttfbS)) break;
    }
    if (nextS >= restS || nextS > fragment.durationS * 10) return undefined;
    // The loading so far is a sample too; an estimate well above the lower level is started again from it.
    if (gotBytes) this.estimator.sampleThroughput(loadingMs - Math.min(ttfbEstimateMs, ttfb), stats.loadedBytes);
    else this.estimator.sampleTtfb(loadingMs);
    const nextBps = levels[next]!.bitrateBps;
    if (this.estimator.estimateBps * this.config.abrBandWidthUpFactor > nextBps) {
      this.firstAutoFloor = Math.min(next, this.firstLevel);
      this.resetEstimator(nextBps);
    }
    const best = this.findBestLevel(ctx, nextBps, next, 0, bufferS, 1, 1);
    if (best > -1) next = best;
    this.force(next, levels);
    return { level: next, abortAfterMs: blockingSwitch || restS > nextS * 2 ? 0 : nextS * 1000 };
  }

  /**
   * The abandoned fragment is aborted (hls.js does so only when switching to a level above the
   * lowest): the next one is loaded at the lowest level that fits, with the estimate started again
   * at that level's bitrate.
   */
  onEmergencyAbort(ctx: AbrContext, switchedTo: number): void {
    const lowest = Math.max(this.findBestLevel(ctx, ctx.levels[0]!.bitrateBps, switchedTo, 0, ctx.forwardBufferS, 1, 1), 0);
    this.force(lowest, ctx.levels);
    this.firstAutoFloor = Math.min(lowest, this.firstLevel);
    this.resetEstimator(ctx.levels[lowest]!.bitrateBps);
  }

  private resetEstimator(defaultBps: number): void {
    this.firstSelection = -1;
    this.estimator = this.newEstimator(defaultBps);
  }

  private newEstimator(defaultBps: number): BandwidthEstimator {
    const c = this.config;
    return new BandwidthEstimator(defaultBps, c.abrEwmaFastHalfLife, c.abrEwmaSlowHalfLife, c.defaultTtfbMs);
  }
}
