import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../src/contract/duration.js";
import { parsePercent } from "../../src/contract/percent.js";

describe("durations", () => {
  it("reads milliseconds, seconds, minutes, hours and combinations", () => {
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("2s")).toBe(2000);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(parseDuration("5m")).toBe(300_000);
    expect(parseDuration("1h")).toBe(3_600_000);
    expect(parseDuration("1m30s")).toBe(90_000);
  });

  it("rejects numbers without a unit and unknown units", () => {
    expect(parseDuration("60")).toBeUndefined();
    expect(parseDuration("2 days")).toBeUndefined();
    expect(parseDuration("s")).toBeUndefined();
    expect(parseDuration("")).toBeUndefined();
  });

  it("formats milliseconds for people", () => {
    expect(formatDuration(250)).toBe("250ms");
    expect(formatDuration(2000)).toBe("2s");
    expect(formatDuration(1500)).toBe("1.5s");
    expect(formatDuration(90_000)).toBe("1m30s");
  });
});

describe("percentages", () => {
  it("accepts 25% and 25 alike and stays within 0..100", () => {
    expect(parsePercent("25%")).toBe(25);
    expect(parsePercent(25)).toBe(25);
    expect(parsePercent("0.5%")).toBe(0.5);
    expect(parsePercent("101%")).toBeUndefined();
    expect(parsePercent(-1)).toBeUndefined();
    expect(parsePercent("a lot")).toBeUndefined();
  });
});
