// Pacing data to a rate (the bandwidth toxics): a virtual send clock where each piece is due when
// the previous one's time is up. A timer that fires late on a busy machine is made up on the next
// piece (up to one piece), so the rate holds instead of drifting down; time with nothing to send is
// not made up, so after a pause sending starts again at the rate, never in a burst.

const CONTINUING_MS = 500;

export class Pacer {
  private next = 0;
  private sentAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly bytesPerMs: number) {}

  /** How long to wait before sending `bytes`; call `sent()` once they are on their way. */
  delayFor(bytes: number): number {
    const now = performance.now();
    const pieceMs = bytes / this.bytesPerMs;
    // Soon after the previous piece (within half a second, or one piece's time if longer: a loaded
    // machine can be that slow to hand over the next chunk), the schedule carries on and a late
    // wake-up is caught up; after a real pause it starts over from now.
    const continuing = now - this.sentAt <= Math.max(pieceMs, CONTINUING_MS);
    this.next = (continuing ? Math.max(this.next, now - pieceMs) : Math.max(this.next, now)) + pieceMs;
    return this.next - now;
  }

  sent(): void {
    this.sentAt = performance.now();
  }
}
