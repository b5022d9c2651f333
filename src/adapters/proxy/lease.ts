// Keeps a fault's lease alive while this process runs. If chaoscast dies, refreshing stops and the
// fault proxy removes the fault by itself when the lease runs out.

export class LeaseKeeper {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly refresh: () => Promise<boolean>,
    private readonly leaseMs: number,
  ) {}

  start(): void {
    // Three refreshes per lease: one lost refresh never lets a live run's fault expire.
    this.timer = setInterval(() => {
      this.refresh()
        .then((alive) => {
          if (!alive) this.stop();
        })
        .catch(() => {
          /* the next refresh tries again; the lease covers the gap */
        });
    }, Math.max(500, Math.floor(this.leaseMs / 3)));
    // Never keep the process alive just to refresh.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
