// What hls.js does after a failed load (its error controller, stream controller and level
// controller together), as one decision per failure: ask again after a delay, switch to another
// level, skip the fragment (live only), or give up (a fatal error).
//
// - A segment that failed with a retriable status (5xx) or timed out is asked for again with
//   exponential backoff while fewer than maxNumRetry fragment errors are on record across all
//   levels; the count goes down only when a fragment of that level is buffered.
// - A 4xx or a network failure (status 0) is not asked for again: the level gets a load error
//   (ABR leaves it alone from then on) and the player switches to another level without one,
//   searching downwards first. So do retriable failures once the retries are used up.
// - With no level left, a live stream skips the fragment (as a gap) unless it is the last one
//   listed; otherwise the same URL is retried with backoff while the count allows, then fatal.
// - Media playlists follow the same pattern with their own policy and their own count.

import { retriableStatus, retryDelayMs, type LoadPolicy } from "./hls-viewer-config.js";
import type { Level } from "./hls-viewer-playlists.js";

export type ErrorAction = { kind: "retry"; delayMs: number } | { kind: "switch"; level: number } | { kind: "gap" } | { kind: "fatal" };

/** What failed, as hls.js sees it. */
export interface Failure {
  status: number;
  timedOut: boolean;
}

const retryPolicyFor = (policy: LoadPolicy, failure: Failure) => (failure.timedOut ? policy.timeoutRetry : policy.errorRetry);
const worthRetrying = (failure: Failure) => failure.timedOut || retriableStatus(failure.status);

/** A fragment of `failedLevel` failed while `loadLevel` is the level being loaded. Updates the levels' error counts. */
export function fragmentErrorAction(levels: Level[], failedLevel: number, loadLevel: number, failure: Failure, policy: LoadPolicy, live: { isLive: boolean; isLastFragment: boolean }): ErrorAction {
  const retry = retryPolicyFor(policy, failure);
  const errorsOnRecord = levels.reduce((n, l) => n + l.fragmentError, 0);
  const level = levels[failedLevel];
  if (level) level.fragmentError += 1;
  if (worthRetrying(failure) && errorsOnRecord < retry.maxNumRetry) return { kind: "retry", delayMs: retryDelayMs(retry, errorsOnRecord) };
  const alternate = penalizeAndFindAlternate(levels, failedLevel, loadLevel);
  if (alternate !== undefined) return { kind: "switch", level: alternate };
  if (live.isLive && !live.isLastFragment) return { kind: "gap" };
  if (errorsOnRecord < retry.maxNumRetry) return { kind: "retry", delayMs: retryDelayMs(retry, errorsOnRecord) };
  return { kind: "fatal" };
}

/**
 * A media playlist of `failedLevel` failed; `playlistErrors` is how many playlist errors came before
 * since the last successful load or switch (the caller counts them).
 */
export function playlistErrorAction(levels: Level[], failedLevel: number, loadLevel: number, failure: Failure, policy: LoadPolicy, playlistErrors: number): ErrorAction {
  const retry = retryPolicyFor(policy, failure);
  if (worthRetrying(failure) && playlistErrors < retry.maxNumRetry) return { kind: "retry", delayMs: retryDelayMs(retry, playlistErrors) };
  const alternate = penalizeAndFindAlternate(levels, failedLevel, loadLevel);
  if (alternate !== undefined) return { kind: "switch", level: alternate };
  if (playlistErrors < retry.maxNumRetry) return { kind: "retry", delayMs: retryDelayMs(retry, playlistErrors) };
  return { kind: "fatal" };
}

/**
 * Records a load error on the failed level and finds another without one: the levels below the
 * one being loaded first (nearest first), then those above from the top down.
 */
function penalizeAndFindAlternate(levels: Level[], failedLevel: number, loadLevel: number): number | undefined {
  const level = levels[failedLevel];
  if (!level) return undefined;
  level.loadError += 1;
  for (let i = levels.length - 1; i >= 0; i--) {
    const candidate = (i + loadLevel) % levels.length;
    if (candidate !== loadLevel && levels[candidate]!.loadError === 0) return candidate;
  }
  return undefined;
}
