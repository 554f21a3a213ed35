import { and, eq, inArray, lte, sql } from "drizzle-orm";
import type { Config } from "../config";
import { mailBatches, type Subscriber, subscribers } from "../db/schema";
import { database } from "../db/subscribers";
import { renderItem, stillWanted } from "./compose";
import { deliver } from "./deliver";
import { itemKey, type MailItem } from "./jobs";
import type { Mailer } from "./mailer";

/*
 * Transactional mail batches (see mailBatches in src/db/schema.ts): freezing up to 100 emails under one key before
 * the first attempt, and sending them with the same attempt rules as a digest batch.
 */

const LEASE_MS = 120_000;
/** The mail queue's max_retries (wrangler.toml): a batch still not sent at its last delivery is marked failed. */
export const MAIL_MAX_ATTEMPTS = 20;

/** What became of a mail batch: finished (sent or failed for good), due again later, or waiting for Resend's quota. */
export type MailBatchResult =
  | { done: true; sent: boolean; error?: string }
  | { done: false; retryInSec: number }
  | { parked: true; error: string };

/**
 * Freezes items into one new mail batch. An item whose job key is already frozen (the queue delivered its job
 * again) is left out, and the batch holding it is returned instead, to be sent (again) under its own key.
 * Returns the ids of every batch that holds one of the items.
 */
export async function freezeItems(d1: D1Database, items: MailItem[], now: number): Promise<number[]> {
  const ids = new Set<number>();
  let rest = [...new Map(items.map((i) => [itemKey(i), i])).values()];
  while (rest.length > 0) {
    try {
      // One transaction: the batch row, and one row per job key pointing at it (the newest batch id). A key that
      // exists already fails the whole transaction, so an email is never frozen into two batches. Raw SQL: the key
      // rows come from json_each and point at the row inserted just before, in the same D1 batch.
      const [batch] = await d1.batch([
        d1
          .prepare("INSERT INTO mail_batches (items, status, created_at) VALUES (?, 'queued', ?)")
          .bind(JSON.stringify(rest), now),
        d1
          .prepare(
            "INSERT INTO mail_items (key, batch_id, created_at) SELECT value, (SELECT max(id) FROM mail_batches), ? FROM json_each(?)",
          )
          .bind(now, JSON.stringify(rest.map(itemKey))),
      ]);
      ids.add(batch!.meta.last_row_id);
      break;
    } catch (err) {
      if (!/UNIQUE constraint/i.test(String(err))) throw err;
      // json_each: one bound parameter however many keys (D1 binds at most 100 per statement).
      const { results } = await d1
        .prepare("SELECT key, batch_id FROM mail_items WHERE key IN (SELECT value FROM json_each(?))")
        .bind(JSON.stringify(rest.map(itemKey)))
        .all<{ key: string; batch_id: number }>();
      if (results.length === 0) throw err;
      for (const r of results) ids.add(r.batch_id);
      const frozen = new Set(results.map((r) => r.key));
      rest = rest.filter((i) => !frozen.has(itemKey(i)));
    }
  }
  return [...ids];
}

async function subscribersOf(d1: D1Database, items: MailItem[]): Promise<Map<number, Subscriber>> {
  const ids = [...new Set(items.flatMap((i) => (i.kind === "test" ? [] : [i.sub])))];
  const rows = new Map<number, Subscriber>();
  for (let i = 0; i < ids.length; i += 100) {
    for (const r of await database(d1)
      .select()
      .from(subscribers)
      .where(inArray(subscribers.id, ids.slice(i, i + 100))))
      rows.set(r.id, r);
  }
  return rows;
}

/** Sends (or resends) one mail batch under the shared budget and records the outcome. */
export async function sendMailBatch(
  env: Env,
  cfg: Config,
  mailer: Mailer,
  id: number,
  attempts: number,
): Promise<MailBatchResult> {
  const d1 = env.DB;
  const db = database(d1);
  const row = await db.select().from(mailBatches).where(eq(mailBatches.id, id)).get();
  if (row?.status !== "queued") return { done: true, sent: row?.status === "sent" };
  if ((row.leaseUntil ?? 0) > Date.now()) return { done: false, retryInSec: 10 };

  let version = row.version;
  let count = 0;
  const outcome = await deliver(env, cfg, mailer, "mail", attempts, async () => {
    let items = row.items;
    const now = Date.now();
    // Nothing was sent under the current key yet (or Resend refused it for certain): drop emails nobody wants any
    // more (confirmed meanwhile, unsubscribed, suppressed, paused, erased), and freeze the rest under the next key.
    if (row.state === "ready") {
      const subs = await subscribersOf(d1, items);
      const kept = items.filter((i) => stillWanted(i, i.kind === "test" ? undefined : subs.get(i.sub)));
      if (kept.length !== items.length) {
        items = kept;
        version++;
      }
    }
    // The claim: guarded by what was read, so one sender at a time has the batch.
    const claimed = await db
      .update(mailBatches)
      .set({
        items,
        version,
        state: "attempted",
        leaseUntil: now + LEASE_MS,
        attempts: sql`${mailBatches.attempts} + 1`,
      })
      .where(
        and(
          eq(mailBatches.id, id),
          eq(mailBatches.status, "queued"),
          eq(mailBatches.version, row.version),
          eq(mailBatches.state, row.state),
          lte(sql`coalesce(${mailBatches.leaseUntil}, 0)`, now),
        ),
      )
      .run();
    if (!claimed.meta.changes) return { skipped: "taken" };
    if (items.length === 0) return { skipped: "empty" };
    count = items.length;
    return { key: `mail/${id}/v${version}`, emails: await Promise.all(items.map((i) => renderItem(cfg, i))) };
  });

  const now = Date.now();
  /** Records the outcome on the batch row, if it is still queued (or still at the version this sender froze). */
  const update = (set: Partial<typeof mailBatches.$inferInsert>, guard = eq(mailBatches.status, "queued")) =>
    db
      .update(mailBatches)
      .set(set)
      .where(and(eq(mailBatches.id, id), guard))
      .run();
  const exhausted = attempts >= MAIL_MAX_ATTEMPTS;
  switch (outcome.kind) {
    case "sent": {
      const note =
        outcome.note ??
        (outcome.rejected.length
          ? `Resend refused ${outcome.rejected.map((r) => `#${r.index}: ${r.message}`).join("; ")}`
          : null);
      await update({
        status: "sent",
        sentAt: now,
        leaseUntil: null,
        sent: outcome.accepted,
        rejected: outcome.rejected.length,
        error: note?.slice(0, 500) ?? null,
      });
      if (outcome.rejected.length)
        console.warn("mail: Resend refused some addresses", {
          batch: id,
          rejected: outcome.rejected.length,
          of: count,
        });
      return { done: true, sent: true };
    }
    case "skipped":
      if (outcome.why === "taken") return { done: false, retryInSec: 10 };
      await update({ status: "sent", sentAt: now, leaseUntil: null, sent: 0 });
      return { done: true, sent: true };
    case "busy":
      return { done: false, retryInSec: outcome.retryInSec };
    case "parked":
      await update({ parkedAt: now });
      return { parked: true, error: outcome.quota.code };
    case "refused":
    case "ambiguous":
      if (outcome.kind === "refused")
        await update(
          { state: "ready", leaseUntil: null, error: outcome.error, parkedAt: outcome.quota ? now : null },
          eq(mailBatches.version, version),
        );
      else await update({ leaseUntil: null, error: outcome.error }, sql`1`);
      if (outcome.kind === "refused" && outcome.quota) return { parked: true, error: outcome.error };
      if (exhausted) {
        await update({ status: "failed" });
        console.error("mail: batch given up", { batch: id, attempts, error: outcome.error.slice(0, 200) });
        return { done: true, sent: false, error: outcome.error };
      }
      return { done: false, retryInSec: outcome.retryInSec };
    case "failed":
      await update({ status: "failed", leaseUntil: null, error: outcome.error });
      console.error("mail: batch failed for good", { batch: id, error: outcome.error.slice(0, 200) });
      return { done: true, sent: false, error: outcome.error };
  }
}
