// The hls.js 1.x defaults the synthetic viewer follows (hls.js 1.7.4, src/config.ts), in one place,
// with the rule each one feeds. Only what the model uses is here; the values are hls.js's, the
// code around them is ours.

/** One kind of retry of a load policy: errorRetry (HTTP errors) or timeoutRetry. */
export interface RetryPolicy {
  maxNumRetry: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
}

/** How one kind of request is loaded: its two time limits and its retries. */
export interface LoadPolicy {
  /** Until the response headers arrive (XHR readyState 2); Infinity: only maxLoadTimeMs applies. */
  maxTimeToFirstByteMs: number;
  /** For the whole request, counted from when it was sent. */
  maxLoadTimeMs: number;
  timeoutRetry: RetryPolicy;
  errorRetry: RetryPolicy;
}

export interface PlayerConfig {
  /** The master playlist: retried inside the loader, then fatal. */
  manifestLoadPolicy: LoadPolicy;
  /** Media (level) playlists: retried by the level controller, then another level, then fatal. */
  playlistLoadPolicy: LoadPolicy;
  /** Segments: retried by the stream controller (a shared count over all levels), then another level. */
  fragLoadPolicy: LoadPolicy;
  /** Seconds of buffer hls.js always tries to reach. */
  maxBufferLength: number;
  /** Bytes: below this much buffered, hls.js keeps loading past maxBufferLength … */
  maxBufferSize: number;
  /** … up to this many seconds. At the demo's bitrates this is the cap: a VOD is loaded whole. */
  maxMaxBufferLength: number;
  /** A live stream starts this many target durations behind the live edge. */
  liveSyncDurationCount: number;
  /** Seconds added to that distance after each stall on a live stream (at most one target duration). */
  liveSyncOnStallIncrease: number;
  /** Half-lives of the two bandwidth averages, in seconds of download time (their weight). */
  abrEwmaFastHalfLife: number;
  abrEwmaSlowHalfLife: number;
  /** The bandwidth assumed before anything was measured (bit/s). */
  abrEwmaDefaultEstimate: number;
  /** The first level listed in the master raises the default estimate, up to this (bit/s). */
  abrEwmaDefaultEstimateMax: number;
  /** Share of the estimate a level may use when staying or going down … */
  abrBandWidthFactor: number;
  /** … and when going up. */
  abrBandWidthUpFactor: number;
  /** Seconds of rebuffering ABR accepts when no level avoids it (also the start level's budget). */
  maxStarvationDelay: number;
  /** How often the abandon rules look at a fragment being loaded (hls.js's ABR timer). */
  abandonCheckIntervalMs: number;
  /** Gaps in the buffer up to this long (s) do not break it (hls.js maxBufferHole). */
  maxBufferHole: number;
  /** The TTFB assumed before one was measured (ms; EwmaBandWidthEstimator's default). */
  defaultTtfbMs: number;
}

export const HLS_JS_DEFAULTS: Readonly<PlayerConfig> = Object.freeze({
  manifestLoadPolicy: {
    maxTimeToFirstByteMs: Number.POSITIVE_INFINITY,
    maxLoadTimeMs: 20_000,
    timeoutRetry: { maxNumRetry: 2, retryDelayMs: 0, maxRetryDelayMs: 0 },
    errorRetry: { maxNumRetry: 1, retryDelayMs: 1000, maxRetryDelayMs: 8000 },
  },
  playlistLoadPolicy: {
    maxTimeToFirstByteMs: 10_000,
    maxLoadTimeMs: 20_000,
    timeoutRetry: { maxNumRetry: 2, retryDelayMs: 0, maxRetryDelayMs: 0 },
    errorRetry: { maxNumRetry: 2, retryDelayMs: 1000, maxRetryDelayMs: 8000 },
  },
  fragLoadPolicy: {
    maxTimeToFirstByteMs: 10_000,
    maxLoadTimeMs: 120_000,
    timeoutRetry: { maxNumRetry: 4, retryDelayMs: 0, maxRetryDelayMs: 0 },
    errorRetry: { maxNumRetry: 6, retryDelayMs: 1000, maxRetryDelayMs: 8000 },
  },
  maxBufferLength: 30,
  maxBufferSize: 60 * 1000 * 1000,
  maxMaxBufferLength: 600,
  liveSyncDurationCount: 3,
  liveSyncOnStallIncrease: 1,
  abrEwmaFastHalfLife: 3,
  abrEwmaSlowHalfLife: 9,
  abrEwmaDefaultEstimate: 500_000,
  abrEwmaDefaultEstimateMax: 5_000_000,
  abrBandWidthFactor: 0.95,
  abrBandWidthUpFactor: 0.7,
  maxStarvationDelay: 4,
  abandonCheckIntervalMs: 100,
  maxBufferHole: 0.1,
  defaultTtfbMs: 100,
});

/** The delay before retry number `retryCount` (0 for the first): exponential backoff, capped. */
export function retryDelayMs(policy: RetryPolicy, retryCount: number): number {
  return Math.min(2 ** retryCount * policy.retryDelayMs, policy.maxRetryDelayMs);
}

/**
 * Whether an HTTP answer is worth asking again on the same URL. hls.js never retries a 4xx (the
 * resource will not appear by asking again) nor status 0, which is what a browser reports for a
 * connection that failed or a body cut short.
 */
export function retriableStatus(status: number): boolean {
  return status !== 0 && (status < 400 || status > 499);
}

/**
 * How many seconds hls.js buffers ahead for a level of this bitrate: maxBufferLength, or more
 * while the buffer holds less than maxBufferSize bytes, capped at maxMaxBufferLength.
 */
export function maxBufferSeconds(config: PlayerConfig, bitrateBps: number): number {
  const bySize = bitrateBps > 0 ? (8 * config.maxBufferSize) / bitrateBps : config.maxBufferLength;
  return Math.min(Math.max(bySize, config.maxBufferLength), config.maxMaxBufferLength);
}
