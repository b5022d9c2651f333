// A kept-alive connection the server closed just as the client reused it: the request fails before
// any answer, with a reset or a broken pipe. Browsers ask again on a fresh connection without
// telling the page, and CDNs do the same towards their origin, so the demo's viewers and edge must
// too, or a timing accident of a keep-alive pool shows up as a failure no real viewer would see.

import type http from "node:http";

const STALE_SOCKET_CODES = new Set(["ECONNRESET", "EPIPE"]);

/** True when `err` is that accident: a reused socket, no answer yet, reset or broken pipe. */
export function failedOnStaleSocket(req: http.ClientRequest | undefined, err: Error, answered: boolean): boolean {
  return req?.reusedSocket === true && !answered && STALE_SOCKET_CODES.has((err as NodeJS.ErrnoException).code ?? "");
}

/** A request's failure, marked when it was that accident (for onceMoreIfStale). */
export function requestFailure(req: http.ClientRequest, err: Error, answered: boolean): Error {
  return Object.assign(err, { staleSocket: failedOnStaleSocket(req, err, answered) });
}

/** How one attempt is sent: within this time, and on a connection of its own (outside the keep-alive pool) when fresh. */
export interface Attempt {
  timeoutMs: number;
  fresh: boolean;
}

/**
 * Runs `attempt` with the whole time limit, and once more if it failed on a stale socket (a failure
 * made by requestFailure): on a fresh connection, so not on another dead one from the same pool,
 * and within the time left, since a browser's retry happens inside the page's own time limit.
 */
export async function onceMoreIfStale<T>(timeoutMs: number, attempt: (how: Attempt) => Promise<T>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  try {
    return await attempt({ timeoutMs, fresh: false });
  } catch (err) {
    const left = Math.floor(deadline - performance.now());
    if (!(err as { staleSocket?: boolean }).staleSocket || left <= 0) throw err;
    return attempt({ timeoutMs: left, fresh: true });
  }
}
