// The bandwidth estimate ABR decides with, as hls.js keeps it: two exponentially weighted moving
// averages of throughput samples (a fast and a slow one) whose minimum is the estimate, so it
// falls quickly and rises slowly. A sample's weight is its download time in seconds, so one long
// slow download moves the estimate more than many quick ones. The time to first byte is kept
// apart, in its own average, and taken off a download's time before its throughput is computed.

/** An exponentially weighted moving average whose weight unit is the half-life's unit. */
class Ewma {
  private readonly alpha: number;
  private estimate = 0;
  private weight = 0;

  constructor(halfLife: number) {
    this.alpha = halfLife ? Math.exp(Math.log(0.5) / halfLife) : 0;
  }

  sample(weight: number, value: number): void {
    const keep = this.alpha ** weight;
    this.estimate = value * (1 - keep) + keep * this.estimate;
    this.weight += weight;
  }

  get totalWeight(): number {
    return this.weight;
  }

  /** The average, corrected for starting at zero (otherwise the first samples would read low). */
  get value(): number {
    const zeroFactor = 1 - this.alpha ** this.weight;
    return this.alpha && zeroFactor ? this.estimate / zeroFactor : this.estimate;
  }
}

/** Below this total weight nothing has been measured yet. */
const MIN_WEIGHT = 0.001;
/** A download shorter than this (ms) is counted as this long, for bodies over 5 MB. */
const MIN_DELAY_MS = 50;

export class BandwidthEstimator {
  private readonly fast: Ewma;
  private readonly slow: Ewma;
  private readonly ttfb: Ewma;

  /**
   * @param defaultEstimateBps what `estimateBps` says before any sample
   * @param defaultTtfbMs what `ttfbEstimateMs` says before any sample
   */
  constructor(
    readonly defaultEstimateBps: number,
    fastHalfLife: number,
    slowHalfLife: number,
    private readonly defaultTtfbMs: number,
  ) {
    this.fast = new Ewma(fastHalfLife);
    this.slow = new Ewma(slowHalfLife);
    this.ttfb = new Ewma(slowHalfLife);
  }

  /** A download of `bytes` that took `durationMs` once its first byte had arrived. */
  sampleThroughput(durationMs: number, bytes: number): void {
    if (bytes <= 0) return;
    const seconds = Math.max(durationMs, Math.min(MIN_DELAY_MS, bytes / 100_000)) / 1000;
    const bps = (8 * bytes) / seconds;
    this.fast.sample(seconds, bps);
    this.slow.sample(seconds, bps);
  }

  /** A time to first byte. Long ones weigh less: the weight is a bell curve of the seconds. */
  sampleTtfb(ttfbMs: number): void {
    const seconds = ttfbMs / 1000;
    const weight = Math.SQRT2 * Math.exp(-(seconds ** 2) / 2);
    this.ttfb.sample(weight, Math.max(ttfbMs, 5));
  }

  get canEstimate(): boolean {
    return this.fast.totalWeight >= MIN_WEIGHT;
  }

  get estimateBps(): number {
    return this.canEstimate ? Math.min(this.fast.value, this.slow.value) : this.defaultEstimateBps;
  }

  get ttfbEstimateMs(): number {
    return this.ttfb.totalWeight >= MIN_WEIGHT ? this.ttfb.value : this.defaultTtfbMs;
  }
}
