// The bandwidth toxics' clock, on a clock the test moves: a late timer is made up, a pause is not.

import { afterEach, describe, expect, it, vi } from "vitest";
import { Pacer } from "../../src/proxy/pace.js";

let now = 1_000;
afterEach(() => vi.restoreAllMocks());

function at(ms: number): void {
  now = ms;
}

describe("the pacer of a bandwidth toxic", () => {
  it("waits a whole piece before the first, makes up a late wake-up, and never bursts after a pause", () => {
    vi.spyOn(performance, "now").mockImplementation(() => now);
    const pacer = new Pacer(10); // 10 bytes per ms: 1000 bytes take 100 ms
    at(1_000);
    expect(pacer.delayFor(1000)).toBe(100);
    // Woken 30 ms late on a busy machine: the next piece waits 30 ms less, so the rate holds.
    at(1_130);
    pacer.sent();
    expect(pacer.delayFor(1000)).toBe(70);
    at(1_200);
    pacer.sent();
    expect(pacer.delayFor(1000)).toBe(100);
    // Nothing to send for a second: that time is not owed, the next piece waits its full time.
    at(1_300);
    pacer.sent();
    at(2_300);
    expect(pacer.delayFor(1000)).toBe(100);
    // A wake-up later than a whole piece is made up by one piece at most: no burst above the rate.
    at(2_400);
    pacer.sent();
    expect(pacer.delayFor(1000)).toBe(100);
    at(2_500 + 90);
    pacer.sent();
    expect(pacer.delayFor(1000)).toBe(10);
  });
});
