import { and, count, eq, gt, inArray, ne, sql } from "drizzle-orm";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { formatWeek, isoWeekOf, nextWeek } from "../lib/week";
import type { TopicId } from "../papers/topics";
import { type Cadence, type Status, subscribers } from "./schema";
import { suppressionHash } from "./suppressions";

/** Drizzle over D1, query builder only: the relational API (`db.query`) would add its code to the bundle for nothing. */
export type DB = DrizzleD1Database;
export const database = (d1: D1Database): DB => drizzle(d1);

/** Per-address throttle for confirmation emails: one per 10 minutes, at most 3 per day. */
export const CONFIRM_RESEND_INTERVAL_MS = 10 * 60 * 1000;
export const CONFIRM_MAX_PER_DAY = 3;
const DAY_MS = 24 * 3600 * 1000;

export interface Signup {
  email: string;
  /** The mailbox key (src/lib/email.ts mailboxKey). */
  key: string;
  source: "form" | "api";
  origin: string | null;
  ipHash: string | null;
  now: number;
  /** The topics chosen with the signup (src/papers/topics.ts), in TOPICS order; empty: none given. */
  topics: readonly TopicId[];
  /** The cadence chosen with the signup; null: none given (a new row is weekly, an existing one keeps its own). */
  cadence: Cadence | null;
}

export interface D1Cost {
  rowsRead: number;
  rowsWritten: number;
}

/**
 * Records a signup in one statement and tells whether a confirmation email is due.
 * New → pending. Pending → confirmation re-sent if the per-address throttle allows.
 * Unsubscribed → a fresh double opt-in. Active or suppressed → untouched, nothing sent.
 * Topics and cadence go with the consent they came with: stored on a new row, and replaced on a (re)confirmation
 * only when the signup chose them; a throttled or an active row keeps its own (a reader changes them on the
 * preferences page, and whoever knows an address cannot change them). A chosen cadence applies at once: the row
 * is not active, so no switch is in progress (src/digest/cadence.ts).
 */
export async function recordSignup(
  d1: D1Database,
  s: Signup,
): Promise<{ send: { id: number; sentAt: number } | null; cost: D1Cost }> {
  const cutoff = s.now - CONFIRM_RESEND_INTERVAL_MS;
  const dayAgo = s.now - DAY_MS;
  // One statement: insert unless the address is on the suppression list (which outlives erasure), or update
  // the existing row when the state allows a (re)confirmation. RETURNING a row means "send a confirmation".
  const result = await d1
    .prepare(
      `INSERT INTO subscribers (email, email_key, status, source, created_at, consent_at, consent_origin, consent_ip_hash, confirm_sent_at, confirm_count, link_key, topics, cadence)
       SELECT ?1, ?2, 'pending', ?3, ?4, ?4, ?5, ?6, ?4, 1, lower(hex(randomblob(16))), ?12, coalesce(?13, 'weekly')
       WHERE NOT EXISTS (SELECT 1 FROM suppressions WHERE email_hash = ?7) AND NOT EXISTS (SELECT 1 FROM suppressions WHERE email_hash = ?11)
       ON CONFLICT (email_key) DO UPDATE SET
         email = excluded.email, status = 'pending', source = excluded.source,
         consent_at = excluded.consent_at, consent_origin = excluded.consent_origin, consent_ip_hash = excluded.consent_ip_hash,
         topics = coalesce(excluded.topics, topics),
         cadence = coalesce(?13, cadence), cadence_from = CASE WHEN ?13 IS NULL THEN cadence_from END,
         confirmed_at = CASE WHEN status = 'pending' THEN confirmed_at ELSE NULL END,
         confirm_count = CASE WHEN confirm_sent_at > ?8 THEN confirm_count + 1 ELSE 1 END,
         confirm_sent_at = excluded.confirm_sent_at
       WHERE status = 'unsubscribed'
          OR (status = 'pending' AND coalesce(confirm_sent_at, 0) <= ?9 AND (confirm_count < ?10 OR confirm_sent_at <= ?8))
       RETURNING id, confirm_sent_at`,
    )
    // ?11: the hash of the lower-cased address, under which entries from before mailbox keys were stored (two
    // separate NOT EXISTS lookups on the primary key cost no row when they miss).
    .bind(
      s.email,
      s.key,
      s.source,
      s.now,
      s.origin,
      s.ipHash,
      await suppressionHash(s.key),
      dayAgo,
      cutoff,
      CONFIRM_MAX_PER_DAY,
      await suppressionHash(s.email.toLowerCase()),
      // ?12: the topics as the schema's JSON column stores them (Drizzle's mode "json"); NULL: none chosen.
      s.topics.length > 0 ? JSON.stringify(s.topics) : null,
      // ?13: the cadence chosen (from CADENCES), or NULL.
      s.cadence,
    )
    .run<{ id: number; confirm_sent_at: number }>();
  const row = result.results[0];
  return {
    send: row ? { id: row.id, sentAt: row.confirm_sent_at } : null,
    cost: { rowsRead: result.meta.rows_read ?? 0, rowsWritten: result.meta.rows_written ?? 0 },
  };
}

/** Lets the address ask again at once when its confirmation could not be queued. */
export async function releaseConfirmThrottle(db: DB, id: number, sentAt: number) {
  await db
    .update(subscribers)
    .set({ confirmSentAt: null, confirmCount: sql`max(${subscribers.confirmCount} - 1, 0)` })
    .where(and(eq(subscribers.id, id), eq(subscribers.confirmSentAt, sentAt)));
}

export const getSubscriber = (db: DB, id: number) => db.select().from(subscribers).where(eq(subscribers.id, id)).get();

/**
 * pending → active, for the confirmation sent at `sentAt` only. True when this call made the change (so the welcome
 * email goes once).
 */
export async function confirmSubscriber(db: DB, id: number, sentAt: number, now: number) {
  const rows = await db
    .update(subscribers)
    .set({ status: "active", confirmedAt: now, pausedUntil: null })
    .where(and(eq(subscribers.id, id), eq(subscribers.status, "pending"), eq(subscribers.confirmSentAt, sentAt)))
    .returning({ id: subscribers.id });
  return rows.length > 0;
}

/** Any state but suppressed → unsubscribed. Idempotent. */
export async function unsubscribe(db: DB, id: number, now: number) {
  await db
    .update(subscribers)
    .set({ status: "unsubscribed", unsubscribedAt: now, pausedUntil: null })
    .where(and(eq(subscribers.id, id), inArray(subscribers.status, ["pending", "active"])));
}

/** unsubscribed → active again, from a link only the mailbox owner holds. */
export async function resubscribe(db: DB, id: number, now: number) {
  await db
    .update(subscribers)
    .set({ status: "active", confirmedAt: now, pausedUntil: null })
    .where(and(eq(subscribers.id, id), eq(subscribers.status, "unsubscribed")));
}

/** The reader's topics from the preferences page (empty: none, stored as NULL like a signup without topics). */
export async function setTopics(db: DB, id: number, topics: readonly TopicId[]) {
  await db
    .update(subscribers)
    .set({ topics: topics.length > 0 ? [...topics] : null })
    .where(eq(subscribers.id, id));
}

/**
 * The reader's cadence from the preferences page, by the switching rule of src/digest/cadence.ts: an active reader's
 * change applies from the next ISO week (`cadence_from`), unless it cancels a change not yet in effect; a reader who
 * gets nothing yet (pending) changes at once. One statement (SET reads the row's values from before the update), so
 * two tabs cannot leave it half-switched. True when something changed.
 */
export async function setCadence(db: DB, id: number, to: Cadence, now: number) {
  const rows = await db
    .update(subscribers)
    .set({
      cadence: to,
      cadenceFrom: sql`CASE WHEN ${subscribers.status} <> 'active' OR ${subscribers.cadenceFrom} > ${formatWeek(isoWeekOf(new Date(now)))} THEN NULL ELSE ${nextWeek(now)} END`,
    })
    .where(and(eq(subscribers.id, id), ne(subscribers.cadence, to), inArray(subscribers.status, ["pending", "active"])))
    .returning({ id: subscribers.id });
  return rows.length > 0;
}

export async function setPause(db: DB, id: number, until: number | null) {
  await db
    .update(subscribers)
    .set({ pausedUntil: until })
    .where(and(eq(subscribers.id, id), eq(subscribers.status, "active")));
}

export async function countByStatus(db: DB): Promise<Record<Status, number>> {
  const rows = await db
    .select({ status: subscribers.status, n: count() })
    .from(subscribers)
    .groupBy(subscribers.status);
  const out: Record<Status, number> = { pending: 0, active: 0, unsubscribed: 0, suppressed: 0 };
  for (const r of rows) out[r.status] = r.n;
  return out;
}

/** Imports addresses as active, skipping any address already known (whatever its state). */
export async function importActive(
  d1: D1Database,
  rows: { email: string; key: string }[],
  now: number,
): Promise<number> {
  if (rows.length === 0) return 0;
  const results = await d1.batch(await importStatements(d1, rows, now));
  return results.reduce((n, r) => n + (r.meta.changes ?? 0), 0);
}

/**
 * The INSERTs that import `rows` as active readers, for one D1 batch (all-or-nothing). D1 binds at most 100 parameters
 * per statement: four per row (address, key, the two suppression hashes), so 25 rows per INSERT. The constants are
 * integers written into the SQL; `guard`, SQL of our own (never input), must also hold for a row to go in. An address
 * on the suppression list (which outlives erasure) is never imported back.
 */
export async function importStatements(
  d1: D1Database,
  rows: { email: string; key: string }[],
  now: number,
  guard = "1",
): Promise<D1PreparedStatement[]> {
  const ts = Math.trunc(now);
  const hashes = await Promise.all(rows.map((r) => suppressionHash(r.key)));
  const legacy = await Promise.all(rows.map((r) => suppressionHash(r.email.toLowerCase())));
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < rows.length; i += 25) {
    const chunk = rows.slice(i, i + 25);
    const values = chunk.map(() => "(?, ?, ?, ?)").join(", ");
    statements.push(
      d1
        .prepare(
          `INSERT INTO subscribers (email, email_key, status, source, created_at, consent_at, confirmed_at, link_key)
           SELECT column1, column2, 'active', 'import', ${ts}, ${ts}, ${ts}, lower(hex(randomblob(16))) FROM (VALUES ${values})
           WHERE NOT EXISTS (SELECT 1 FROM suppressions WHERE email_hash = column3) AND NOT EXISTS (SELECT 1 FROM suppressions WHERE email_hash = column4) AND ${guard}
           ON CONFLICT DO NOTHING`,
        )
        .bind(...chunk.flatMap((r, j) => [r.email, r.key, hashes[i + j], legacy[i + j]])),
    );
  }
  return statements;
}

/** Keyset page for the CSV export. */
export const exportPage = (db: DB, afterId: number, limit: number) =>
  db.select().from(subscribers).where(gt(subscribers.id, afterId)).orderBy(subscribers.id).limit(limit);
