// Sleeping and waiting that an AbortSignal can cut short, so an abort never waits out a timer.

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
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
  if (timeoutMs !== undefined) list.push(AbortSignal.timeout(Math.max(1, Math.round(timeoutMs))));
  return AbortSignal.any(list);
}

/** Why a signal fired, in words: a timeout says how long; anything else is a cancellation. */
export function abortMessage(signal: AbortSignal, timeoutMs: number): string {
  const reason = signal.reason as { name?: string } | undefined;
  return reason?.name === "TimeoutError" ? `timed out after ${timeoutMs}ms` : "cancelled";
}
