// What an HTTP link relayed, as the proxy saw it: every finished exchange (status, time taken,
// bytes, the viewer's cohort) kept for a few minutes, and sliding windows over them whose
// subscribers hear of each change at once. This is the in-band view of a link: a steady-state
// probe reads it instead of sending requests of its own, and learns of failing answers the moment
// the proxy sends them.

import { compileGlobs } from "./glob.js";
import { bucketOf, LatencyHistogram } from "./latency-histogram.js";

export type Cohort = "experiment" | "control";

export interface Exchange {
  /** performance.now() when the exchange ended. */
  at: number;
  /** The status sent, or 0 when no complete answer went out. */
  status: number;
  /** With status 0: the client went away first (a cancelled download, a player giving up), not the service failing it. */
  cancelled: boolean;
  /** From the request's arrival to the end of the answer. */
  ms: number;
  /** Body bytes sent to the client. */
  bytes: number;
  cohort: Cohort | undefined;
  path: string;
  /** An LL-HLS blocking playlist reload: the server holds it by design, so its time is no latency. */
  blockingReload?: boolean;
}

/** A request the link is still answering. */
export interface InFlight {
  started: number;
  path: string;
  cohort: Cohort | undefined;
  blockingReload: boolean;
}

export interface TrafficFilter {
  /** Exchanges that ended this long ago or less. */
  windowMs: number;
  /** Of those, only the last N. */
  last?: number;
  cohort?: Cohort;
  /** Comma-separated globs on the path: `*` within a segment, `**` across segments, `?` one character. */
  paths?: string;
}

export interface TrafficStats {
  requests: number;
  /** Answers of status 500 or more, and exchanges that ended without a complete answer. */
  errors: number;
  errorRatio: number | null;
  /** Answers of status 400–499. */
  clientErrors: number;
  clientErrorRatio: number | null;
  /** Exchanges the relay or the upstream ended without a complete answer (counted in errors too). */
  incomplete: number;
  /** Exchanges the client left before the answer was complete: counted in requests and latency, not in errors. */
  cancelled: number;
  /** LL-HLS blocking playlist reloads (`_HLS_msn`): counted in requests and errors, not in latency or in flight. */
  blockingReloads: number;
  /** How long the oldest reload still held has waited: the origin may hold one for three target durations, not more. */
  oldestBlockingReloadMs: number | null;
  /**
   * Percentiles of the time taken, over the window's exchanges and the requests still in flight at
   * their age so far: a stalled upstream shows here while its requests hang, not once they end.
   */
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
  /** Requests not answered yet, and how long the oldest of them has waited. */
  inFlight: number;
  oldestInFlightMs: number | null;
  requestsPerSecond: number;
  bytesPerSecond: number;
  /** The stretch of time these figures cover. */
  spanMs: number;
}

/** Retention: enough for any window a probe may ask for, bounded in memory at line rate. */
export const MAX_WINDOW_MS = 10 * 60_000;
export const MAX_KEPT = 100_000;
/** Pushes to one subscriber are at least this far apart; changes in between are sent together. */
const MIN_PUSH_GAP_MS = 5;
/** Old exchanges leave time windows and requests in flight age on this beat; a subscriber hears at least once a second. */
const TICK_MS = 250;
const HEARTBEAT_MS = 1_000;

function isError(e: Exchange): boolean {
  return (e.status === 0 && !e.cancelled) || e.status >= 500;
}

/** Exchanges oldest first, dropped from the front in O(1) (the array is compacted now and then). */
class ExchangeQueue {
  private readonly items: Exchange[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  /** The oldest, or undefined when empty. */
  get oldest(): Exchange | undefined {
    return this.items[this.head];
  }

  push(e: Exchange): void {
    this.items.push(e);
  }

  shift(): Exchange {
    const e = this.items[this.head]!;
    this.head += 1;
    // Compact now and then, so the array does not grow with everything ever seen.
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    return e;
  }

  *[Symbol.iterator](): Iterator<Exchange> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i]!;
  }
}

/**
 * A compiled `paths` filter, shared by every window that asks for the same globs: each exchange's
 * path (and each waiting request's) is matched once, not at every poll that looks at it again.
 */
class PathFilter {
  private readonly verdicts = new WeakMap<Exchange | InFlight, boolean>();
  constructor(private readonly match: (path: string) => boolean) {}

  matches(item: Exchange | InFlight): boolean {
    let verdict = this.verdicts.get(item);
    if (verdict === undefined) {
      verdict = this.match(item.path);
      this.verdicts.set(item, verdict);
    }
    return verdict;
  }
}

/** Distinct `paths` filters kept compiled, the least recently asked for dropped first. */
const MAX_PATH_FILTERS = 8;

/** The exchanges of one filter in one sliding window, with running sums. */
class SlidingWindow {
  private readonly entries = new ExchangeQueue();
  private errors = 0;
  private clientErrors = 0;
  private incomplete = 0;
  private cancelled = 0;
  private blockingReloads = 0;
  private bytes = 0;
  private readonly latency = new LatencyHistogram();

  constructor(
    private readonly filter: TrafficFilter,
    private readonly since: number,
    private readonly paths: PathFilter | undefined,
  ) {}

  private matches(item: Exchange | InFlight): boolean {
    if (this.filter.cohort !== undefined && item.cohort !== this.filter.cohort) return false;
    return !this.paths || this.paths.matches(item);
  }

  /** True when the exchange belongs to this window (and so changed it). */
  add(e: Exchange): boolean {
    if (!this.matches(e)) return false;
    this.entries.push(e);
    this.count(e, 1);
    const limit = Math.min(this.filter.last ?? MAX_KEPT, MAX_KEPT);
    while (this.size > limit) this.dropOldest();
    return true;
  }

  /** Drop what is older than the window; true when anything left. */
  expire(now: number): boolean {
    const cutoff = now - this.filter.windowMs;
    let changed = false;
    while (this.entries.size > 0 && this.entries.oldest!.at < cutoff) {
      this.dropOldest();
      changed = true;
    }
    return changed;
  }

  stats(now: number, inFlight: Iterable<InFlight>): TrafficStats {
    this.expire(now);
    const requests = this.size;
    let latency = this.latency;
    let waiting = 0;
    let oldest: number | undefined;
    let oldestReload: number | undefined;
    for (const r of inFlight) {
      if (!this.matches(r)) continue;
      // Held by the origin until the playlist moves on: waiting is what it is for.
      if (r.blockingReload) {
        oldestReload = Math.min(oldestReload ?? r.started, r.started);
        continue;
      }
      if (waiting === 0) latency = this.latency.clone();
      waiting += 1;
      oldest = Math.min(oldest ?? r.started, r.started);
      latency.add(bucketOf(now - r.started));
    }
    // Last-N windows cover from their oldest exchange; time windows their length (or the link's age).
    const full = this.filter.last !== undefined && requests >= this.filter.last;
    const spanMs = Math.max(1, full ? now - this.entries.oldest!.at : Math.min(this.filter.windowMs, now - this.since));
    const ratio = (n: number) => (requests === 0 ? null : n / requests);
    return {
      requests,
      errors: this.errors,
      errorRatio: ratio(this.errors),
      clientErrors: this.clientErrors,
      clientErrorRatio: ratio(this.clientErrors),
      incomplete: this.incomplete,
      cancelled: this.cancelled,
      blockingReloads: this.blockingReloads,
      oldestBlockingReloadMs: oldestReload === undefined ? null : Math.round(now - oldestReload),
      latencyP50Ms: latency.quantile(0.5),
      latencyP95Ms: latency.quantile(0.95),
      latencyP99Ms: latency.quantile(0.99),
      inFlight: waiting,
      oldestInFlightMs: oldest === undefined ? null : Math.round(now - oldest),
      requestsPerSecond: Math.round((requests * 1000 * 100) / spanMs) / 100,
      bytesPerSecond: Math.round((this.bytes * 1000) / spanMs),
      spanMs: Math.round(spanMs),
    };
  }

  private get size(): number {
    return this.entries.size;
  }

  private dropOldest(): void {
    this.count(this.entries.shift(), -1);
  }

  private count(e: Exchange, sign: 1 | -1): void {
    if (isError(e)) this.errors += sign;
    else if (e.status >= 400) this.clientErrors += sign;
    if (e.status === 0 && e.cancelled) this.cancelled += sign;
    else if (e.status === 0) this.incomplete += sign;
    this.bytes += sign * e.bytes;
    if (e.blockingReload) {
      this.blockingReloads += sign;
      return;
    }
    if (sign === 1) this.latency.add(bucketOf(e.ms));
    else this.latency.remove(bucketOf(e.ms));
  }
}

interface Subscription {
  window: SlidingWindow;
  listener: (stats: TrafficStats) => void;
  closed: () => void;
  lastPush: number;
  lastSent: string;
  timer: NodeJS.Timeout | undefined;
}

export class TrafficLog {
  /** Recent exchanges, oldest first, so a new window starts with the history it covers. */
  private readonly kept = new ExchangeQueue();
  private readonly subscriptions = new Set<Subscription>();
  /** Insertion order is arrival order. */
  private readonly inFlight = new Set<InFlight>();
  private ticker: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly since = performance.now();

  /** A request arrived; pass what this returns to `record` when it ends. */
  begin(path: string, blockingReload = false): InFlight {
    // Kept for minutes at line rate: a path is kept to its first 1 KiB.
    const request: InFlight = { started: performance.now(), path: path.slice(0, 1024), cohort: undefined, blockingReload };
    this.inFlight.add(request);
    return request;
  }

  record(e: Exchange, request?: InFlight): void {
    if (request) this.inFlight.delete(request);
    this.kept.push(e);
    while (this.kept.size > MAX_KEPT || this.kept.oldest!.at < e.at - MAX_WINDOW_MS) this.kept.shift();
    for (const s of this.subscriptions) if (s.window.add(e)) this.schedule(s);
  }

  /** The figures of one window now. */
  snapshot(filter: TrafficFilter): TrafficStats {
    return this.seeded(filter).stats(performance.now(), this.inFlight);
  }

  /**
   * Hear of the window's figures at once, then whenever they change (at most every few ms), and at
   * least once a second. Returns the unsubscribe function.
   */
  subscribe(filter: TrafficFilter, listener: (stats: TrafficStats) => void, closed: () => void = () => {}): () => void {
    // A link already removed has nothing more to say.
    if (this.closed) {
      closed();
      return () => {};
    }
    const subscription: Subscription = { window: this.seeded(filter), listener, closed, lastPush: 0, lastSent: "", timer: undefined };
    this.subscriptions.add(subscription);
    this.push(subscription);
    this.ticker ??= setInterval(() => this.tick(), TICK_MS).unref();
    return () => {
      clearTimeout(subscription.timer);
      this.subscriptions.delete(subscription);
      if (this.subscriptions.size === 0) {
        clearInterval(this.ticker);
        this.ticker = undefined;
      }
    };
  }

  /** The link is gone: every subscriber hears that nothing more is coming. */
  close(): void {
    this.closed = true;
    for (const s of [...this.subscriptions]) {
      clearTimeout(s.timer);
      this.subscriptions.delete(s);
      s.closed();
    }
    clearInterval(this.ticker);
    this.ticker = undefined;
  }

  get subscribers(): number {
    return this.subscriptions.size;
  }

  private readonly pathFilters = new Map<string, PathFilter | undefined>();

  private pathFilterFor(paths: string | undefined): PathFilter | undefined {
    if (!paths) return undefined;
    let filter = this.pathFilters.get(paths);
    if (this.pathFilters.has(paths)) this.pathFilters.delete(paths);
    else {
      const match = compileGlobs(paths);
      filter = match ? new PathFilter(match) : undefined;
      if (this.pathFilters.size >= MAX_PATH_FILTERS) this.pathFilters.delete(this.pathFilters.keys().next().value!);
    }
    this.pathFilters.set(paths, filter);
    return filter;
  }

  private seeded(filter: TrafficFilter): SlidingWindow {
    const window = new SlidingWindow(filter, this.since, this.pathFilterFor(filter.paths));
    const cutoff = performance.now() - filter.windowMs;
    for (const e of this.kept) if (e.at >= cutoff) window.add(e);
    return window;
  }

  private schedule(s: Subscription): void {
    if (s.timer) return;
    const wait = Math.max(0, s.lastPush + MIN_PUSH_GAP_MS - performance.now());
    s.timer = setTimeout(() => {
      s.timer = undefined;
      this.push(s);
    }, wait);
  }

  private push(s: Subscription, onlyIfChanged = false): void {
    const stats = s.window.stats(performance.now(), this.inFlight);
    // Rates drift with the clock alone: compare what a verdict can rest on.
    const key = `${stats.requests}/${stats.errors}/${stats.clientErrors}/${stats.latencyP50Ms}/${stats.latencyP95Ms}/${stats.latencyP99Ms}`;
    if (onlyIfChanged && key === s.lastSent) return;
    s.lastSent = key;
    s.lastPush = performance.now();
    s.listener(stats);
  }

  /** Old exchanges leave windows, and requests in flight age: push what that changed. */
  private tick(): void {
    const now = performance.now();
    for (const s of this.subscriptions) {
      if (s.timer) continue;
      if (now - s.lastPush >= HEARTBEAT_MS) this.push(s);
      else this.push(s, true);
    }
  }
}
