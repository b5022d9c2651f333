// Keeps a fault's lease alive while this process runs. If chaoscast dies, refreshing stops and the
// fault proxy removes the fault by itself when the lease runs out.

export class LeaseKeeper {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly refresh: () => Promise<boolean>,
    private readonly leaseMs: number,
  ) {}

  start(): void {
    // Three refreshes per lease: one lost refresh never lets a live run's fault expire.
    this.timer = setInterval(() => {
      this.inFlight = this.refresh()
        .then((alive) => {
          if (!alive) void this.stop();
        })
        .catch(() => {
          /* the next refresh tries again; the lease covers the gap */
        });
    }, Math.max(500, Math.floor(this.leaseMs / 3)));
    // Never keep the process alive just to refresh.
    this.timer.unref();
  }

  /** Stop refreshing; resolves once a refresh already under way has finished, so none lands later. */
  stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    return this.inFlight.then(() => undefined);
  }
}
