import type { Cadence } from "../db/schema";
import { dateRange, dayLabel, formatWeek, isoWeekOf, parseDay, parseWeek, weekDays } from "../lib/week";

/**
 * Weekly issues and daily editions: what an edition's key names, and which readers each one is for.
 *
 * An edition is keyed by what it covers: an ISO week ("2026-W47", the weekly issue of that week's papers) or a UTC
 * day ("2026-11-30", the daily edition of that day's papers). Both go through the same machinery (frozen batches,
 * idempotency keys, the run record); a reader gets the editions of their cadence.
 *
 * Switching cadence — the rule: a change made during ISO week W applies from the papers of week W+1. Until then the
 * reader stays with the cadence they had: weekly → daily gets week W's weekly issue and daily editions from Monday
 * of W+1; daily → weekly keeps daily editions up to Sunday of W and gets weekly issues from W+1. Every day's papers
 * thus reach a reader through exactly one stream — no paper twice, no day skipped. Switching back before the change
 * applies simply cancels it. A reader's first choice (at signup) applies at once.
 */
export interface Edition {
  key: string;
  cadence: Cadence;
  /** The ISO week its papers belong to (for a daily edition, the week of its day): what the switching rule compares. */
  week: string;
  /** The days it covers ("2026-11-30"). */
  days: string[];
  /** How people read it: "16–22 November 2026" or "Monday 30 November 2026". */
  label: string;
}

export function parseEdition(key: string): Edition | null {
  const w = parseWeek(key);
  if (w) return { key, cadence: "weekly", week: key, days: weekDays(w), label: dateRange(key) };
  const day = parseDay(key);
  if (day) {
    const week = formatWeek(isoWeekOf(new Date(`${day}T00:00:00Z`)));
    return { key, cadence: "daily", week, days: [day], label: dayLabel(day) };
  }
  return null;
}

export const otherCadence = (c: Cadence): Cadence => (c === "weekly" ? "daily" : "weekly");

/** The cadence a reader has for the papers of ISO week `week` (see the rule above). */
export const cadenceFor = (r: { cadence: Cadence; cadenceFrom: string | null }, week: string): Cadence =>
  r.cadenceFrom === null || week >= r.cadenceFrom ? r.cadence : otherCadence(r.cadence);

/**
 * The SQL condition "this reader gets the edition" for the fan-out's page read: `?` binds the edition's ISO week.
 * The first two terms are the partial index's own (subscribers_weekly_id / subscribers_daily_id), so SQLite walks
 * only that index; the CASE is `cadenceFor` in SQL (before the switch applies, the reader is with the other cadence). `cadence` comes from CADENCES, never from a request.
 */
export function receivesSql(cadence: Cadence) {
  return `status = 'active' AND (cadence = '${cadence}' OR cadence_from IS NOT NULL) AND (CASE WHEN cadence_from IS NULL OR ? >= cadence_from THEN cadence = '${cadence}' ELSE cadence <> '${cadence}' END)`;
}
