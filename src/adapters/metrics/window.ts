// Counter arithmetic over successive scrapes: increases (with counter resets handled as Prometheus
// does) and rates over a sliding window. Pure, so it is tested without servers.

export interface Scrape {
  /** performance.now() of the scrape. */
  at: number;
  /** Value per series key. */
  series: Map<string, number>;
}

/**
 * How much a set of counters grew between the first and last scrape. A value that went down was a
 * counter reset (a restarted process): the growth after it is its new value, as in Prometheus.
 */
export function increase(scrapes: readonly Scrape[], keys: (key: string) => boolean): number {
  let total = 0;
  for (let i = 1; i < scrapes.length; i++) {
    const before = scrapes[i - 1]!.series;
    for (const [key, value] of scrapes[i]!.series) {
      if (!keys(key)) continue;
      const previous = before.get(key);
      if (previous === undefined) continue; // a series that just appeared: no baseline yet
      total += value >= previous ? value - previous : value;
    }
  }
  return total;
}

/** Keep the scrapes inside the window, plus the last one before it (the baseline). */
export function trimToWindow(scrapes: Scrape[], now: number, windowMs: number): Scrape[] {
  const inside = scrapes.findIndex((s) => s.at >= now - windowMs);
  if (inside <= 0) return scrapes;
  return scrapes.slice(inside - 1);
}
