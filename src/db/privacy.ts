import { and, asc, eq, isNotNull, lt, lte, ne, sql } from "drizzle-orm";
import { addressKeys } from "../lib/email";
import { formatWeek, isoWeekOf } from "../lib/week";
import {
  confirmDomainHours,
  departures,
  importChunks,
  imports,
  issueBatches,
  mailBatches,
  mailItems,
  ratings,
  subscribers,
  webhookEvents,
} from "./schema";
import { database } from "./subscribers";
import { keepSuppressed } from "./suppressions";

const DAY_MS = 86_400_000;
export const PENDING_TTL_MS = 7 * DAY_MS;
export const WEBHOOK_ID_TTL_MS = 7 * DAY_MS;
export const BATCH_RECIPIENTS_TTL_MS = 30 * DAY_MS;
export const MAIL_BATCH_TTL_MS = 7 * DAY_MS;
/** Longer than any batch waits to be sent: a batch re-checks departures since its cut. */
export const DEPARTURE_TTL_MS = 45 * DAY_MS;
export const IMPORT_TTL_MS = 30 * DAY_MS;

/** Everything we hold about one subscriber, for "download my data". */
export async function exportSubscriber(d1: D1Database, id: number) {
  const s = await database(d1).select().from(subscribers).where(eq(subscribers.id, id)).get();
  if (!s) return null;
  const iso = (v: number | null) => (v && v > 0 ? new Date(v).toISOString() : null);
  // Raw SQL: a text search in the frozen recipient lists (JSON), which the query builder has no words for.
  const { results: issues } = await d1
    .prepare("SELECT DISTINCT week FROM issue_batches WHERE status = 'sent' AND instr(recipients, ?) > 0 ORDER BY week")
    .bind(`{"id":${id},`)
    .all<{ week: string }>();
  const rated = await database(d1)
    .select({ paperId: ratings.paperId, direction: ratings.direction, week: ratings.week, at: ratings.at })
    .from(ratings)
    .where(eq(ratings.subscriberId, id))
    .orderBy(asc(ratings.at), asc(ratings.paperId));
  return {
    email: s.email,
    status: s.status,
    source: s.source,
    subscribed_at: iso(s.createdAt),
    consent: {
      given_at: iso(s.consentAt),
      source_origin: s.consentOrigin,
      ip_hash: s.consentIpHash,
      confirmed_at: iso(s.confirmedAt),
    },
    unsubscribed_at: iso(s.unsubscribedAt),
    paused_until: iso(s.pausedUntil),
    issues_received: issues.map((r) => r.week),
    topics: s.topics ?? [],
    cadence: s.cadence,
    cadence_from_week: s.cadenceFrom,
    taste: storedJson(s.taste),
    ratings: rated.map((r) => ({
      paper_id: r.paperId,
      direction: r.direction > 0 ? "more" : "less",
      week: r.week,
      at: iso(r.at),
    })),
    notes: [
      "ip_hash is a keyed hash of the IP address your signup came from; the address itself is never stored.",
      "cadence is how often you get papers (weekly or daily); cadence_from_week, when set, is the ISO week from whose papers a change you made applies.",
      "taste is what your ratings taught the For you section: weights per topic (t) and per keyword (k); keywords are stored as an 8-hex-digit hash of their text.",
    ].join(" "),
  };
}

/**
 * A JSON column as stored (the taste is written by src/digest/taste.ts's serializeTaste, so it is always JSON); should
 * it ever not be, the person gets the text itself: an export shows what is held, not what the model would make of it.
 */
function storedJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Erases a subscriber: the row (with their topics and taste), their ratings, their address in captured mail, in the
 * recipient lists of batches and in dashboard imports still running. A suppressed
 * address keeps only its hashed suppression entry, so it is never mailed again.
 * The one list kept is that of a batch whose last call may have gone out without an answer: only that very body may
 * be sent again (exactly once). The person is not mailed by any later call, and the list goes once the batch is
 * settled (housekeeping).
 */
export async function eraseSubscriber(d1: D1Database, id: number, now = Date.now()): Promise<boolean> {
  const s = await database(d1)
    .select({ email: subscribers.email, key: subscribers.emailKey, status: subscribers.status })
    .from(subscribers)
    .where(eq(subscribers.id, id))
    .get();
  if (!s) return false;
  const keys = [...new Set([s.key, ...addressKeys(s.email)])];
  // Raw SQL from here: the recipient lists are JSON text, edited in place with json_each in the same transaction.
  const statements = [
    d1.prepare("DELETE FROM subscribers WHERE id = ?").bind(id),
    d1.prepare("DELETE FROM ratings WHERE subscriber_id = ?").bind(id),
    d1
      .prepare("DELETE FROM outbox WHERE lower(to_address) IN (SELECT value FROM json_each(?))")
      .bind(JSON.stringify(keys)),
    // An issue still to send counts the person as dropped from it, as its re-check would have.
    d1
      .prepare(
        `UPDATE issues SET dropped = dropped + (SELECT count(*) FROM issue_batches b WHERE b.week = issues.week AND b.status = 'queued' AND b.state = 'ready' AND instr(b.recipients, ?1) > 0)
         WHERE status IN ('sending', 'paused') AND week IN (SELECT week FROM issue_batches WHERE status = 'queued' AND state = 'ready' AND instr(recipients, ?1) > 0)`,
      )
      .bind(`{"id":${id},`),
    d1
      .prepare(
        `UPDATE issue_batches SET recipients = (SELECT json_group_array(json(value)) FROM json_each(issue_batches.recipients) WHERE json_extract(value, '$.id') <> ?)
         WHERE NOT (status = 'queued' AND state = 'attempted') AND instr(recipients, ?) > 0`,
      )
      .bind(id, `{"id":${id},`),
    d1
      .prepare(
        `UPDATE mail_batches SET items = (SELECT json_group_array(json(value)) FROM json_each(mail_batches.items)
           WHERE json_extract(value, '$.sub') IS NOT ?1 AND lower(json_extract(value, '$.email')) IS NOT ?2)
         WHERE NOT (status = 'queued' AND state = 'attempted') AND (instr(items, ?3) > 0 OR instr(lower(items), ?2) > 0)`,
      )
      .bind(id, s.email.toLowerCase(), `"sub":${id},`),
    // An import still running must not bring the person back after the erasure.
    d1
      .prepare(
        `UPDATE import_chunks SET rows = (SELECT json_group_array(json(value)) FROM json_each(import_chunks.rows) WHERE json_extract(value, '$.key') NOT IN (SELECT value FROM json_each(?1)))
         WHERE done = 0 AND EXISTS (SELECT 1 FROM json_each(import_chunks.rows) WHERE json_extract(value, '$.key') IN (SELECT value FROM json_each(?1)))`,
      )
      .bind(JSON.stringify(keys)),
  ];
  if (s.status === "suppressed") statements.unshift(...(await keepSuppressed(d1, keys, now)));
  await d1.batch(statements);
  return true;
}

/** Daily housekeeping: what we no longer need, we no longer keep. */
export async function prune(d1: D1Database, now = Date.now()) {
  const db = database(d1);
  const stalePending = and(eq(subscribers.status, "pending"), lt(subscribers.consentAt, now - PENDING_TTL_MS));
  const [, pending, webhooks, batches, mail, , , , importsGone, , folded] = await db.batch([
    // A pending row may have ratings from before an unsubscribe and a new signup: they go with it.
    db
      .delete(ratings)
      .where(sql`${ratings.subscriberId} IN (SELECT ${subscribers.id} FROM ${subscribers} WHERE ${stalePending})`),
    db.delete(subscribers).where(stalePending),
    db.delete(webhookEvents).where(lt(webhookEvents.receivedAt, now - WEBHOOK_ID_TTL_MS)),
    db
      .update(issueBatches)
      .set({ recipients: [] })
      .where(
        and(
          ne(issueBatches.status, "queued"),
          sql`${issueBatches.recipients} <> '[]'`,
          lt(sql`coalesce(${issueBatches.sentAt}, 0)`, now - BATCH_RECIPIENTS_TTL_MS),
        ),
      ),
    // Transactional mail batches (addresses) and their job keys: a redelivered job is hours old at most.
    db
      .delete(mailBatches)
      .where(and(ne(mailBatches.status, "queued"), lt(mailBatches.createdAt, now - MAIL_BATCH_TTL_MS))),
    db.delete(mailItems).where(lt(mailItems.createdAt, now - MAIL_BATCH_TTL_MS)),
    db.delete(departures).where(lt(departures.at, now - DEPARTURE_TTL_MS)),
    // Dashboard imports (their rejected rows) and what is left of their chunks.
    db
      .delete(importChunks)
      .where(
        sql`${importChunks.importId} IN (SELECT ${imports.id} FROM ${imports} WHERE ${imports.createdAt} < ${now - IMPORT_TTL_MS})`,
      ),
    db.delete(imports).where(lt(imports.createdAt, now - IMPORT_TTL_MS)),
    db.delete(confirmDomainHours).where(lt(confirmDomainHours.hour, Math.floor(now / 3_600_000) - 48)),
    // A change of cadence two weeks old concerns only editions long sent: fold it, so the reader leaves the other
    // cadence's index (src/digest/cadence.ts).
    db
      .update(subscribers)
      .set({ cadenceFrom: null })
      .where(
        and(
          isNotNull(subscribers.cadenceFrom),
          lte(subscribers.cadenceFrom, formatWeek(isoWeekOf(new Date(now - 14 * DAY_MS)))),
        ),
      ),
  ]);
  return {
    pendingDeleted: pending.meta.changes ?? 0,
    webhookIdsDeleted: webhooks.meta.changes ?? 0,
    batchListsCleared: batches.meta.changes ?? 0,
    mailBatchesDeleted: mail.meta.changes ?? 0,
    importsDeleted: importsGone.meta.changes ?? 0,
    cadenceSwitchesFolded: folded.meta.changes ?? 0,
  };
}
