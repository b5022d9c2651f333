// The pure arithmetic of a surge: how many viewers the ramp wants at a moment, the token bucket
// shared by every viewer, the figures a surge reached and what held it back.

/** Viewers wanted `elapsedMs` into a linear ramp from `from` to `to` over `rampMs`. */
export function rampTarget(elapsedMs: number, from: number, to: number, rampMs: number): number {
  if (elapsedMs <= 0) return from;
  if (rampMs <= 0 || elapsedMs >= rampMs) return to;
  // Rounded up: the first viewer of a ramp from 0 starts at once, not after a ramp step.
  return Math.min(to, from + Math.ceil(((to - from) * elapsedMs) / rampMs));
}

/**
 * A token bucket as a virtual schedule (GCRA): `rate` tokens a second, bursts of up to `burst`.
 * `reserve` hands out the next slot and says how long the caller waits for it, so waiting callers
 * are served in the order they asked and the rate holds however many there are.
 */
export class TokenBucket {
  private readonly intervalMs: number;
  private readonly toleranceMs: number;
  /** When the next token is due, with no burst credit. */
  private due = Number.NEGATIVE_INFINITY;

  constructor(
    readonly rate: number,
    readonly burst = Math.max(1, Math.ceil(rate / 10)),
  ) {
    if (!(rate > 0)) throw new RangeError("a token bucket needs a rate above 0");
    this.intervalMs = 1000 / rate;
    this.toleranceMs = this.intervalMs * (burst - 1);
  }

  /** Take a token at `nowMs`: the milliseconds to wait before using it (0: at once). */
  reserve(nowMs: number): number {
    const due = Math.max(this.due, nowMs - this.toleranceMs);
    this.due = due + this.intervalMs;
    return Math.max(0, due - nowMs);
  }
}

/** What the crowd reports about itself, once a second. */
export interface Progress {
  elapsedMs: number;
  /** Viewers the ramp wants now. */
  target: number;
  /** Viewers started (sessions running, whatever their state). */
  viewers: number;
  /** Viewers playing: their current session got its first segment (or answer) and is not backing off. */
  playing: number;
  requestsPerS: number;
  bytesPerS: number;
  requests: number;
  bytes: number;
  errors: number;
  /** Whether requests waited for the token bucket in the last second. */
  rateLimited: boolean;
  /** The crowd process's event-loop delay (p99 over the last second), ms: its own load. */
  lagMs: number;
}

/** The figures a surge reached, folded from its progress reports. */
export interface Reached {
  peakPlaying: number;
  peakPlayingAtMs: number;
  peakRequestsPerS: number;
  peakBytesPerS: number;
  requests: number;
  bytes: number;
  errors: number;
  /** Whether the token bucket held requests back while the ramp was at its top. */
  rateLimitedAtTop: boolean;
  peakLagMs: number;
  elapsedMs: number;
}

export const NOTHING_REACHED: Reached = { peakPlaying: 0, peakPlayingAtMs: 0, peakRequestsPerS: 0, peakBytesPerS: 0, requests: 0, bytes: 0, errors: 0, rateLimitedAtTop: false, peakLagMs: 0, elapsedMs: 0 };

export function fold(reached: Reached, p: Progress, to: number): Reached {
  const top = p.target >= to;
  return {
    peakPlaying: Math.max(reached.peakPlaying, p.playing),
    peakPlayingAtMs: p.playing > reached.peakPlaying ? p.elapsedMs : reached.peakPlayingAtMs,
    peakRequestsPerS: Math.max(reached.peakRequestsPerS, p.requestsPerS),
    peakBytesPerS: Math.max(reached.peakBytesPerS, p.bytesPerS),
    requests: p.requests,
    bytes: p.bytes,
    errors: p.errors,
    rateLimitedAtTop: reached.rateLimitedAtTop || (top && p.rateLimited),
    peakLagMs: Math.max(reached.peakLagMs, p.lagMs),
    elapsedMs: p.elapsedMs,
  };
}

/** An event loop this late (p99) is a crowd process out of CPU: its viewers fall behind. */
export const SATURATED_LAG_MS = 200;

/** Why the crowd did not reach `to` playing viewers, or null when it did. */
export function heldBackBy(reached: Reached, to: number): string | null {
  if (reached.peakPlaying >= to) return null;
  if (reached.rateLimitedAtTop) return "ramp capped by the rate limit (maxRequestsPerSecond)";
  if (reached.peakLagMs >= SATURATED_LAG_MS) return `ramp capped by the machine (the crowd's event loop ran up to ${Math.round(reached.peakLagMs)} ms late)`;
  if (reached.errors > 0) return "ramp capped by the target: viewers failing requests backed off and started over";
  return "the surge ended during its ramp";
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** One line for the journal: what the surge reached, and what held it back. */
export function describeReached(reached: Reached, to: number): string {
  const held = heldBackBy(reached, to);
  return (
    `surge reached ${reached.peakPlaying} of ${to} viewers playing` +
    (reached.peakPlaying > 0 ? ` (peak at ${(reached.peakPlayingAtMs / 1000).toFixed(0)} s)` : "") +
    `, peak ${Math.round(reached.peakRequestsPerS)} requests/s and ${megabytes(reached.peakBytesPerS)}/s; ` +
    `${reached.requests} requests, ${megabytes(reached.bytes)}, ${reached.errors} error(s) in ${(reached.elapsedMs / 1000).toFixed(0)} s` +
    (held ? `; ${held}` : "")
  );
}
