// When an experiment may run: weekly windows ("Mon-Fri 02:00-05:00") in a time zone, minus
// blackout days ("2026-12-24", "2026-12-20..2026-12-31"). Pure: the clock is passed in.

import { z } from "zod";

const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
const DAY = "(?:mon|tue|wed|thu|fri|sat|sun)";
const WINDOW = new RegExp(`^(daily|${DAY}(?:-${DAY})?(?:,${DAY}(?:-${DAY})?)*)\\s+([01]\\d|2[0-3]):([0-5]\\d)-([01]\\d|2[0-4]):([0-5]\\d)$`, "i");
const DATE = /^(\d{4}-\d{2}-\d{2})(?:\.\.(\d{4}-\d{2}-\d{2}))?$/;

export interface Window {
  text: string;
  /** Days of the week the window starts on, 0 = Sunday. */
  days: Set<number>;
  startMin: number;
  /** End in minutes after midnight of the start day; above 1440 when it runs past midnight. */
  endMin: number;
}

export function parseWindow(text: string): Window | undefined {
  const m = WINDOW.exec(text.trim());
  if (!m) return undefined;
  const days = new Set<number>();
  if (m[1]!.toLowerCase() === "daily") for (let d = 0; d < 7; d++) days.add(d);
  else {
    for (const part of m[1]!.toLowerCase().split(",")) {
      const [from, to] = part.split("-") as [(typeof DAYS)[number], (typeof DAYS)[number] | undefined];
      const a = DAYS.indexOf(from);
      const b = DAYS.indexOf(to ?? from);
      for (let d = a; ; d = (d + 1) % 7) {
        days.add(d);
        if (d === b) break;
      }
    }
  }
  const startMin = Number(m[2]) * 60 + Number(m[3]);
  let endMin = Number(m[4]) * 60 + Number(m[5]);
  if (endMin > 1440) return undefined;
  if (endMin <= startMin) endMin += 1440; // "22:00-02:00" runs into the next day
  return { text: text.trim(), days, startMin, endMin };
}

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function validDate(text: string): boolean {
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(text);
}

export const ScheduleSchema = z
  .object({
    windows: z
      .array(z.string().refine((w) => parseWindow(w) !== undefined, { error: (iss) => `expected a window like "Mon-Fri 02:00-05:00", "Sat,Sun 00:00-06:00" or "daily 22:00-02:00", found ${JSON.stringify(iss.input)}` }))
      .min(1)
      .optional()
      .meta({ description: 'When runs may start, e.g. ["Mon-Fri 02:00-05:00"] (local time of timezone).' }),
    timezone: z
      .string()
      .refine(validTimeZone, { error: (iss) => `expected an IANA time zone such as Europe/Berlin or UTC, found ${JSON.stringify(iss.input)}` })
      .default("UTC")
      .meta({ description: "Time zone of the windows and blackout days. Default UTC." }),
    blackout: z
      .array(
        z.string().refine((d) => {
          const m = DATE.exec(d);
          return m !== null && validDate(m[1]!) && (m[2] === undefined || (validDate(m[2]) && m[2] >= m[1]!));
        }, { error: (iss) => `expected a day "2026-12-24" or a range "2026-12-20..2026-12-31", found ${JSON.stringify(iss.input)}` }),
      )
      .optional()
      .meta({ description: "Days on which runs never start." }),
  })
  .strict()
  .meta({ description: "When the experiment may run (enforced with --respect-schedule, or always under a policy with requireWindow)." });

export type Schedule = z.output<typeof ScheduleSchema>;

/** Local calendar facts of `now` in `zone`. */
function localParts(now: Date, zone: string): { date: string; weekday: number; minute: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      .formatToParts(now)
      .map((p) => [p.type, p.value]),
  );
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    weekday: DAYS.indexOf(parts.weekday!.toLowerCase() as (typeof DAYS)[number]),
    minute: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

/** Null when a run may start at `now`; otherwise why not, for the user. */
export function scheduleVerdict(schedule: Schedule, now: Date): string | null {
  const today = localParts(now, schedule.timezone);
  for (const entry of schedule.blackout ?? []) {
    const [, from, to] = DATE.exec(entry)!;
    if (today.date >= from! && today.date <= (to ?? from)!) return `${today.date} is a blackout day (${entry}, ${schedule.timezone})`;
  }
  if (!schedule.windows) return null;
  const windows = schedule.windows.map((w) => parseWindow(w)!);
  const yesterday = (today.weekday + 6) % 7;
  const inside = windows.some(
    (w) =>
      (w.days.has(today.weekday) && today.minute >= w.startMin && today.minute < Math.min(w.endMin, 1440)) ||
      (w.endMin > 1440 && w.days.has(yesterday) && today.minute < w.endMin - 1440),
  );
  if (inside) return null;
  const hh = String(Math.floor(today.minute / 60)).padStart(2, "0");
  const mm = String(today.minute % 60).padStart(2, "0");
  return `it is ${DAYS[today.weekday]![0]!.toUpperCase()}${DAYS[today.weekday]!.slice(1)} ${hh}:${mm} in ${schedule.timezone}, outside every window (${schedule.windows.join("; ")})`;
}
