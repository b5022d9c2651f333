// Waiting in tests without guessing: poll for the condition a test is about, with a deadline,
// instead of sleeping and looking once. A sleep before an assertion is either too short on a
// loaded machine (flaky) or longer than it needs to be (slow).

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Poll until `condition` holds; fails after `timeoutMs`, naming `what` is awaited when given.
 * The condition is checked once more after the deadline, so a slow last poll does not fail.
 */
export async function pollUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number, what?: string, intervalMs = 50): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`${what ? `${what}: ` : ""}condition not met within ${timeoutMs}ms`);
    await pause(intervalMs);
  }
}

/**
 * The first observation that `wanted` accepts, or the last one made once `timeoutMs` have passed:
 * the caller asserts on it, so a failure shows what was seen rather than a bare timeout.
 */
export async function eventually<T>(observe: () => T | Promise<T>, wanted: (seen: T) => boolean, timeoutMs = 5_000, intervalMs = 25): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const seen = await observe();
    if (wanted(seen) || performance.now() > deadline) return seen;
    await pause(intervalMs);
  }
}

/**
 * For "X does not happen during this window": runs `check` (which asserts) every `intervalMs`
 * for `windowMs`, and once more at the end, so the first moment it fails fails the test, not
 * one look after the window. Resolves with how many times it looked.
 */
export async function holdsFor(check: () => void | Promise<void>, windowMs: number, intervalMs = 25): Promise<number> {
  const end = performance.now() + windowMs;
  let looks = 0;
  for (;;) {
    await check();
    looks += 1;
    const left = end - performance.now();
    if (left <= 0) return looks;
    await pause(Math.min(intervalMs, left));
  }
}
