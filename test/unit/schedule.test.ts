import { describe, expect, it } from "vitest";
import { parseWindow, scheduleVerdict, type Schedule } from "../../src/contract/schedule.js";

const at = (iso: string) => new Date(iso);
const schedule = (s: Partial<Schedule>): Schedule => ({ timezone: "UTC", ...s });

describe("schedule windows", () => {
  it("allows a run inside a weekday window and refuses one outside, in the window's time zone", () => {
    const s = schedule({ windows: ["Mon-Fri 02:00-05:00"], timezone: "Europe/Berlin" });
    // 2026-11-24 is a Tuesday; 02:30 in Berlin (CET, UTC+1) is 01:30 UTC.
    expect(scheduleVerdict(s, at("2026-11-24T01:30:00Z"))).toBeNull();
    expect(scheduleVerdict(s, at("2026-11-24T04:30:00Z"))).toMatch(/it is Tue 05:30 in Europe\/Berlin, outside every window/);
    expect(scheduleVerdict(s, at("2026-11-28T01:30:00Z"))).toMatch(/Sat/);
  });

  it("carries a window that crosses midnight into the next day", () => {
    const s = schedule({ windows: ["Fri 22:00-02:00"] });
    expect(scheduleVerdict(s, at("2026-11-27T23:00:00Z"))).toBeNull(); // Friday 23:00
    expect(scheduleVerdict(s, at("2026-11-28T01:59:00Z"))).toBeNull(); // Saturday 01:59
    expect(scheduleVerdict(s, at("2026-11-28T02:00:00Z"))).not.toBeNull();
    expect(scheduleVerdict(s, at("2026-11-27T01:00:00Z"))).not.toBeNull(); // Friday 01:00 belongs to Thursday's night
  });

  it("refuses blackout days and ranges even inside a window", () => {
    const s = schedule({ windows: ["daily 00:00-24:00"], blackout: ["2026-12-24", "2026-12-30..2027-01-02"] });
    expect(scheduleVerdict(s, at("2026-12-24T12:00:00Z"))).toMatch(/2026-12-24 is a blackout day/);
    expect(scheduleVerdict(s, at("2027-01-01T12:00:00Z"))).toMatch(/blackout/);
    expect(scheduleVerdict(s, at("2026-12-25T12:00:00Z"))).toBeNull();
  });

  it("parses day lists and ranges, and rejects what is not a window", () => {
    expect([...parseWindow("Sat,Sun 00:00-06:00")!.days].sort()).toEqual([0, 6]);
    expect([...parseWindow("Fri-Mon 01:00-02:00")!.days].sort()).toEqual([0, 1, 5, 6]);
    expect(parseWindow("weekdays 02:00-05:00")).toBeUndefined();
    expect(parseWindow("Mon 25:00-26:00")).toBeUndefined();
  });
});
