import { and, count, gte, lt, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { formatWeek, isoWeekOf } from "../lib/week";
import { subscribers } from "./schema";
import type { DB } from "./subscribers";

export interface WeekActivity {
  week: string;
  signups: number;
  confirmations: number;
  unsubscribes: number;
}

/** 1970-01-05T00:00Z, the first Monday after the epoch: ISO weeks are buckets of 7 days counted from it. */
const MONDAY0 = 345_600_000;
const WEEK = 604_800_000;

/** A timestamp's week bucket, in SQL: integer division (the constants are inlined so SQLite divides integers). */
const bucketOf = (col: SQLiteColumn): SQL<number> =>
  sql<number>`(${col} - ${sql.raw(String(MONDAY0))}) / ${sql.raw(String(WEEK))}`;

const weekKey = (bucket: number) => formatWeek(isoWeekOf(new Date(MONDAY0 + bucket * WEEK)));

/**
 * Signups, confirmations and unsubscribes per ISO week for the `weeks` weeks ending with the week of `now`,
 * oldest first, zero-filled. Counted in SQL, one D1 round trip.
 */
export async function weeklyActivity(db: DB, now: number, weeks = 26): Promise<WeekActivity[]> {
  const last = Math.floor((now - MONDAY0) / WEEK);
  const first = last - weeks + 1;
  const from = MONDAY0 + first * WEEK;
  const until = MONDAY0 + (last + 1) * WEEK;
  const perWeek = (col: SQLiteColumn) => {
    const bucket = bucketOf(col);
    return db
      .select({ bucket, n: count() })
      .from(subscribers)
      .where(and(gte(col, from), lt(col, until)))
      .groupBy(bucket);
  };
  const [signups, confirmations, unsubscribes] = await db.batch([
    perWeek(subscribers.createdAt),
    perWeek(subscribers.confirmedAt),
    perWeek(subscribers.unsubscribedAt),
  ]);
  const rows = Array.from({ length: weeks }, (_, i) => ({
    week: weekKey(first + i),
    signups: 0,
    confirmations: 0,
    unsubscribes: 0,
  }));
  const fill = (counts: { bucket: number; n: number }[], key: "signups" | "confirmations" | "unsubscribes") => {
    for (const { bucket, n } of counts) {
      const row = rows[Number(bucket) - first];
      if (row) row[key] = Number(n);
    }
  };
  fill(signups, "signups");
  fill(confirmations, "confirmations");
  fill(unsubscribes, "unsubscribes");
  return rows;
}
