// Latency percentiles of a sliding window, kept as counts in logarithmic buckets: adding or
// dropping an exchange is one increment, and a percentile is one walk over the buckets, whatever
// the window holds. Each bucket is 5% wider than the one before, so a percentile is exact to 5%.

const SMALLEST_MS = 0.05;
const GROWTH = 1.05;
const LOG_GROWTH = Math.log(GROWTH);
/** Up to about 10 minutes; anything slower lands in the last bucket. */
const BUCKETS = Math.ceil(Math.log(600_000 / SMALLEST_MS) / LOG_GROWTH) + 1;

export function bucketOf(ms: number): number {
  if (!(ms > SMALLEST_MS)) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / SMALLEST_MS) / LOG_GROWTH));
}

/** The upper bound of a bucket: a percentile never reads lower than what was measured. */
function upperBound(bucket: number): number {
  return SMALLEST_MS * GROWTH ** bucket;
}

export class LatencyHistogram {
  private readonly counts = new Uint32Array(BUCKETS);
  private total = 0;

  add(bucket: number): void {
    this.counts[bucket]! += 1;
    this.total += 1;
  }

  remove(bucket: number): void {
    this.counts[bucket]! -= 1;
    this.total -= 1;
  }

  /** A copy, to add to without changing this one. */
  clone(): LatencyHistogram {
    const copy = new LatencyHistogram();
    copy.counts.set(this.counts);
    copy.total = this.total;
    return copy;
  }

  /** The q-quantile (0 < q ≤ 1) in ms, rounded to 0.01 ms; null when empty. */
  quantile(q: number): number | null {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b]!;
      if (seen >= rank) return Math.round(upperBound(b) * 100) / 100;
    }
    return Math.round(upperBound(BUCKETS - 1) * 100) / 100;
  }
}
