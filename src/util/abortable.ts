// Sleeping and waiting that an AbortSignal can cut short, so an abort never waits out a timer.

/** Node clamps timers above this to 1 ms, so longer waits are chained. */
export const MAX_TIMER_MS = 2_147_483_647;

/** Resolves after `ms` (Infinity: only when the signal aborts), or as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const until = performance.now() + ms;
    let timer = setTimeout(step, Math.min(ms, MAX_TIMER_MS));
    function step() {
      const left = until - performance.now();
      if (left > 1) timer = setTimeout(step, Math.min(left, MAX_TIMER_MS));
      else done();
    }
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** A signal that aborts when any of the inputs does or after `timeoutMs`. */
export function combinedSignal(signals: (AbortSignal | undefined)[], timeoutMs?: number): AbortSignal {
  const list = signals.filter((s): s is AbortSignal => s !== undefined);
  if (timeoutMs !== undefined) {
    // Not AbortSignal.timeout(): AbortSignal.any() holds its inputs only weakly, so a timeout signal
    // nothing else references can be garbage-collected and never fire (seen on Node 20), leaving a
    // hung probe unbounded. The timer holds this controller until it fires; unref'd, it keeps no
    // process alive.
    const timeout = new AbortController();
    const ms = Math.min(Math.max(1, Math.round(timeoutMs)), MAX_TIMER_MS);
    setTimeout(() => timeout.abort(new DOMException("The operation timed out.", "TimeoutError")), ms).unref();
    list.push(timeout.signal);
  }
  return AbortSignal.any(list);
}

/** Why a signal fired, in words: a timeout says how long; anything else is a cancellation. */
export function abortMessage(signal: AbortSignal, timeoutMs: number): string {
  const reason = signal.reason as { name?: string } | undefined;
  return reason?.name === "TimeoutError" ? `timed out after ${timeoutMs}ms` : "cancelled";
}
