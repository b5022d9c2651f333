// The crowd, inside its own process: starts viewers along the ramp, shares one token bucket and
// one pool of keep-alive connections between them, counts what they do and reports once a second.

import { monitorEventLoopDelay } from "node:perf_hooks";
import { sleep } from "../../util/abortable.js";
import { get, makeAgents } from "./http-get.js";
import type { CrowdConfig } from "./protocol.js";
import { fold, NOTHING_REACHED, rampTarget, TokenBucket, type Progress, type Reached } from "./schedule.js";
import { watch } from "./viewer.js";

const TICK_MS = 100;
const REPORT_MS = 1_000;
/** A wait for the token bucket longer than this counts as being held back by it. */
const LIMITED_WAIT_MS = 20;

export class Crowd {
  private readonly stop = new AbortController();
  private readonly agents = makeAgents();
  private readonly bucket: TokenBucket;
  private readonly started = performance.now();
  private readonly viewers: Promise<void>[] = [];
  private playing = 0;
  private requests = 0;
  private bytes = 0;
  private errors = 0;
  private limitedSince = false;
  private reached: Reached = NOTHING_REACHED;
  private readonly lag = monitorEventLoopDelay({ resolution: 10 });

  constructor(
    private readonly config: CrowdConfig,
    private readonly report: (progress: Progress) => void,
  ) {
    this.bucket = new TokenBucket(config.maxRequestsPerSecond);
  }

  private elapsed(): number {
    return performance.now() - this.started;
  }

  /** Runs until stopped; resolves with what the crowd reached. */
  async run(): Promise<Reached> {
    this.lag.enable();
    let lastReport = 0;
    let last = { requests: 0, bytes: 0, at: 0 };
    while (!this.stop.signal.aborted) {
      const elapsed = this.elapsed();
      const target = rampTarget(elapsed, this.config.from, this.config.to, this.config.rampMs);
      while (this.viewers.length < target) this.startViewer();
      if (elapsed - lastReport >= REPORT_MS) {
        const seconds = (elapsed - last.at) / 1000;
        const progress: Progress = {
          elapsedMs: Math.round(elapsed),
          target,
          viewers: this.viewers.length,
          playing: this.playing,
          requestsPerS: Math.round((this.requests - last.requests) / seconds),
          bytesPerS: Math.round((this.bytes - last.bytes) / seconds),
          requests: this.requests,
          bytes: this.bytes,
          errors: this.errors,
          rateLimited: this.limitedSince,
          lagMs: Math.round(this.lag.percentile(99) / 1e6),
        };
        this.lag.reset();
        this.limitedSince = false;
        last = { requests: this.requests, bytes: this.bytes, at: elapsed };
        lastReport = elapsed;
        this.reached = fold(this.reached, progress, this.config.to);
        this.report(progress);
      }
      await sleep(TICK_MS, this.stop.signal);
    }
    this.lag.disable();
    return { ...this.reached, requests: this.requests, bytes: this.bytes, errors: this.errors, elapsedMs: Math.round(this.elapsed()) };
  }

  /** Stop every viewer and close every connection; `run` then resolves. */
  end(): void {
    this.stop.abort();
    this.agents.destroy();
  }

  private startViewer(): void {
    // A viewer's id spreads its random choices; Math.random is enough for load.
    let playing = false;
    const signal = this.stop.signal;
    const config = this.config;
    const viewer = watch(
      config.url,
      {
        rendition: config.rendition,
        thinkTimeMs: config.thinkTimeMs,
        random: Math.random,
        now: () => performance.now(),
        setPlaying: (now) => {
          if (now !== playing) this.playing += now ? 1 : -1;
          playing = now;
        },
        failed: () => {
          this.errors += 1;
        },
        get: async (url, keepText, viewerSignal) => {
          const wait = this.bucket.reserve(performance.now());
          if (wait > LIMITED_WAIT_MS) this.limitedSince = true;
          if (wait > 0) await sleep(wait, viewerSignal);
          if (viewerSignal.aborted) throw new Error("stopped");
          const result = await get(url, { agents: this.agents, headers: config.headers, timeoutMs: config.timeoutMs, signal: viewerSignal, keepText });
          this.requests += 1;
          this.bytes += result.bytes;
          return result;
        },
      },
      signal,
    ).catch(() => {});
    this.viewers.push(viewer);
  }
}
