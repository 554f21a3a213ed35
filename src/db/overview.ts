import { count, desc, eq, sql } from "drizzle-orm";
import { CADENCES, type Cadence, issues, subscribers, suppressions } from "./schema";
import type { DB } from "./subscribers";

/** What an operator looks at first, shared by GET /admin/stats and the dashboard's overview. */

/** The latest issues and editions (by start), with their delivery counts and why one is paused. */
export const recentIssues = (db: DB, limit = 12) =>
  db
    .select({
      week: issues.week,
      cadence: issues.cadence,
      status: issues.status,
      recipients: issues.recipients,
      sent: issues.sent,
      dropped: issues.dropped,
      rejected: issues.rejected,
      delivered: issues.delivered,
      bounced: issues.bounced,
      complained: issues.complained,
      paused_reason: issues.pausedReason,
    })
    .from(issues)
    .orderBy(desc(issues.startedAt))
    .limit(limit);

export type RecentIssue = Awaited<ReturnType<typeof recentIssues>>[number];

/** Active readers by the cadence they chose (a switch in progress counts under the new one). */
export const activeByCadence = (db: DB) =>
  db
    .select({ cadence: subscribers.cadence, n: sql<number>`count(*)` })
    .from(subscribers)
    .where(eq(subscribers.status, "active"))
    .groupBy(subscribers.cadence);

export const byCadence = (rows: { cadence: Cadence; n: number }[]): Record<Cadence, number> => {
  const out = Object.fromEntries(CADENCES.map((c) => [c, 0])) as Record<Cadence, number>;
  for (const r of rows) out[r.cadence] = r.n;
  return out;
};

/** The suppression list's size: addresses never mailed again (bounces, complaints, erasures). */
export const suppressionCount = (db: DB) => db.select({ n: count() }).from(suppressions);
