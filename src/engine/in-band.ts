// In-band probes during the method. Each streams what it watches (a proxy link's own view of its
// traffic) and every observation it pushes is judged at once, so a breach aborts within
// milliseconds of the answers that show it instead of at the next probe round. The polled rounds
// still include these probes, for the journal's line per round and for the count of breaches in a
// row: they take the latest pushed result while the stream is alive, and poll the probe themselves
// while it is not.

import type { Observation } from "../contract/adapter.js";
import type { ProbeSpec } from "../contract/compiled-experiment.js";
import { sleep } from "../util/abortable.js";
import { judgeObservation, type ProbeResult } from "./hypothesis.js";

/** A pushed result older than this is stale: the stream went quiet, and the round polls instead. */
const FRESH_MS = 2_000;
const RECONNECT_MS = 250;
const MAX_RECONNECT_MS = 4_000;
/** Judging a pushed observation is a comparison or two; a regex gets this long, as a polled one would. */
const JUDGE_DEADLINE_MS = 250;
/** A stream that keeps going down and coming back is reported this many times, not at every turn. */
const MAX_STATUS_NOTES = 6;

interface Follower {
  latest: { result: ProbeResult; at: number } | undefined;
  judging: boolean;
  pending: Observation | undefined;
}

export function isInBand(spec: ProbeSpec): boolean {
  return spec.probe.subscribe !== undefined;
}

export class InBandWatch {
  private readonly followers = new Map<ProbeSpec, Follower>();
  private readonly running: Promise<void>[] = [];

  constructor(
    specs: readonly ProbeSpec[],
    private readonly stop: AbortSignal,
    /** A pushed result that breached; the method decides whether it counts and aborts. */
    private readonly onBreach: (result: ProbeResult) => void,
    /** A stream went down or came back: the run says so, since its aborts are slower while it is down. */
    private readonly onStatus: (message: string) => void = () => {},
  ) {
    for (const spec of specs.filter(isInBand)) {
      const follower: Follower = { latest: undefined, judging: false, pending: undefined };
      this.followers.set(spec, follower);
      this.running.push(this.follow(spec, follower));
    }
  }

  /** The latest pushed result for the probe, while its stream is alive. */
  fresh(spec: ProbeSpec): ProbeResult | undefined {
    const latest = this.followers.get(spec)?.latest;
    return latest && performance.now() - latest.at <= FRESH_MS ? latest.result : undefined;
  }

  /** Resolves once every stream has ended (after the method's stop signal). */
  async done(): Promise<void> {
    await Promise.all(this.running);
  }

  private async follow(spec: ProbeSpec, follower: Follower): Promise<void> {
    let backoff = RECONNECT_MS;
    let down = false;
    let notes = 0;
    const status = (message: string) => {
      notes += 1;
      if (notes <= MAX_STATUS_NOTES) this.onStatus(notes === MAX_STATUS_NOTES ? `${message} (further changes of this stream are not reported)` : message);
    };
    while (!this.stop.aborted) {
      let why = "it ended";
      try {
        await spec.probe.subscribe!(spec.params, { signal: this.stop }, (observation) => {
          backoff = RECONNECT_MS;
          if (down) {
            down = false;
            status(`the in-band stream of "${spec.name}" is back: what it pushes is judged at once again`);
          }
          this.offer(spec, follower, observation);
        });
      } catch (err) {
        // The polled rounds judge the probe (and count a proxy that cannot be reached) until the
        // stream is back; the run is told, since a breach now waits for a round.
        why = err instanceof Error ? err.message : String(err);
      }
      if (!this.stop.aborted && !down) {
        down = true;
        status(`the in-band stream of "${spec.name}" is down (${why}): the probe is polled every round until it is back`);
      }
      follower.latest = undefined;
      await sleep(backoff, this.stop);
      // A source that keeps refusing (not a chaoscast proxy, too many streams) is asked less often.
      backoff = Math.min(backoff * 2, MAX_RECONNECT_MS);
    }
  }

  /** Judge in arrival order; observations that come while one is judged wait, and only the newest is judged next. */
  private offer(spec: ProbeSpec, follower: Follower, observation: Observation): void {
    if (this.stop.aborted) return;
    if (follower.judging) {
      follower.pending = observation;
      return;
    }
    follower.judging = true;
    const judging = (async () => {
      let next: Observation | undefined = observation;
      try {
        while (next && !this.stop.aborted) {
          const result = await judgeObservation(spec, next, 0, { deadlineMs: JUDGE_DEADLINE_MS, signal: this.stop });
          follower.latest = { result, at: performance.now() };
          if (!result.ok && !this.stop.aborted) this.onBreach(result);
          next = follower.pending;
          follower.pending = undefined;
        }
      } finally {
        follower.judging = false;
      }
    })();
    // Judging does not throw; were it to, the polled rounds still judge the probe.
    judging.catch(() => {});
  }
}
