/** ISO 8601 weeks ("2026-W47"): weeks start on Monday; week 1 holds the year's first Thursday. */
export interface IsoWeek {
  year: number;
  week: number;
}

const DAY = 86_400_000;

export function isoWeekOf(date: Date): IsoWeek {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const dow = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - dow); // the Thursday of this week decides the year
  const year = d.getUTCFullYear();
  const week = Math.ceil(((d.getTime() - Date.UTC(year, 0, 1)) / DAY + 1) / 7);
  return { year, week };
}

/** The ISO week that ended before `at`: the cron fires Monday morning for the week just finished. */
export const previousWeek = (at: Date): IsoWeek => isoWeekOf(new Date(at.getTime() - 7 * DAY));

export const formatWeek = (w: IsoWeek) => `${w.year}-W${String(w.week).padStart(2, "0")}`;

export function parseWeek(s: string): IsoWeek | null {
  const m = /^(\d{4})-W(\d{2})$/.exec(s);
  if (!m) return null;
  const w = { year: Number(m[1]), week: Number(m[2]) };
  if (w.week < 1 || w.week > weeksInYear(w.year)) return null;
  return w;
}

/** Monday 00:00 UTC of the week. */
export function weekStart(w: IsoWeek): Date {
  const jan4 = new Date(Date.UTC(w.year, 0, 4));
  const monday1 = jan4.getTime() - ((jan4.getUTCDay() || 7) - 1) * DAY;
  return new Date(monday1 + (w.week - 1) * 7 * DAY);
}

export const weekDays = (w: IsoWeek): string[] =>
  Array.from({ length: 7 }, (_, i) => new Date(weekStart(w).getTime() + i * DAY).toISOString().slice(0, 10));

export const weeksInYear = (year: number) => isoWeekOf(new Date(Date.UTC(year, 11, 28))).week;

/** The week as people read it: "16–22 November 2026", "28 December–3 January 2027". */
export function dateRange(week: string): string {
  const w = parseWeek(week)!;
  const days = weekDays(w).map((d) => new Date(`${d}T00:00:00Z`));
  const first = days[0]!;
  const last = days[6]!;
  const day = (d: Date, withMonth: boolean) =>
    d.toLocaleDateString("en-GB", { day: "numeric", ...(withMonth ? { month: "long" } : {}), timeZone: "UTC" });
  const sameMonth = first.getUTCMonth() === last.getUTCMonth();
  return `${day(first, !sameMonth)}–${day(last, true)} ${last.getUTCFullYear()}`;
}

/** A calendar day, "2026-11-30" (UTC), as daily editions are keyed; null unless it is a real date. */
export function parseDay(s: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return null;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s ? s : null;
}

/** The UTC day before `at`: the daily edition sent on the morning of the 1st carries the papers of the 30th. */
export const previousDay = (at: Date): string => new Date(at.getTime() - DAY).toISOString().slice(0, 10);

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = "January February March April May June July August September October November December".split(" ");

/** The day as people read it: "Monday 30 November 2026" (spelled out here: runtimes' locale data differ). */
export function dayLabel(day: string) {
  const d = new Date(`${day}T00:00:00Z`);
  return `${WEEKDAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/** The ISO week after the one `now` is in ("2026-W50" during W49): where a change of cadence applies from. */
export const nextWeek = (now: number) => formatWeek(isoWeekOf(new Date(now + 7 * DAY)));
