import { inArray } from "drizzle-orm";
import type { Config } from "../config";
import { type Subscriber, subscribers } from "../db/schema";
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
      // exists already fails the whole transaction, so an email is never frozen into two batches.
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

interface MailBatchRow {
  id: number;
  items: string;
  status: string;
  version: number;
  state: "ready" | "attempted";
  lease_until: number | null;
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
  const row = await d1
    .prepare("SELECT id, items, status, version, state, lease_until FROM mail_batches WHERE id = ?")
    .bind(id)
    .first<MailBatchRow>();
  if (row?.status !== "queued") return { done: true, sent: row?.status === "sent" };
  if ((row.lease_until ?? 0) > Date.now()) return { done: false, retryInSec: 10 };

  let version = row.version;
  let count = 0;
  const outcome = await deliver(env, cfg, mailer, "mail", attempts, async () => {
    let items = JSON.parse(row.items) as MailItem[];
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
    const claimed = await d1
      .prepare(
        `UPDATE mail_batches SET items = ?, version = ?, state = 'attempted', lease_until = ?, attempts = attempts + 1
         WHERE id = ? AND status = 'queued' AND version = ? AND state = ? AND coalesce(lease_until, 0) <= ?`,
      )
      .bind(JSON.stringify(items), version, now + LEASE_MS, id, row.version, row.state, now)
      .run();
    if (!claimed.meta.changes) return { skipped: "taken" };
    if (items.length === 0) return { skipped: "empty" };
    count = items.length;
    return { key: `mail/${id}/v${version}`, emails: await Promise.all(items.map((i) => renderItem(cfg, i))) };
  });

  const now = Date.now();
  const update = (sql: string, ...params: unknown[]) =>
    d1
      .prepare(sql)
      .bind(...params)
      .run();
  const exhausted = attempts >= MAIL_MAX_ATTEMPTS;
  switch (outcome.kind) {
    case "sent": {
      const note =
        outcome.note ??
        (outcome.rejected.length
          ? `Resend refused ${outcome.rejected.map((r) => `#${r.index}: ${r.message}`).join("; ")}`
          : null);
      await update(
        "UPDATE mail_batches SET status = 'sent', sent_at = ?, lease_until = NULL, sent = ?, rejected = ?, error = ? WHERE id = ? AND status = 'queued'",
        now,
        outcome.accepted,
        outcome.rejected.length,
        note?.slice(0, 500) ?? null,
        id,
      );
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
      await update(
        "UPDATE mail_batches SET status = 'sent', sent_at = ?, lease_until = NULL, sent = 0 WHERE id = ? AND status = 'queued'",
        now,
        id,
      );
      return { done: true, sent: true };
    case "busy":
      return { done: false, retryInSec: outcome.retryInSec };
    case "parked":
      await update("UPDATE mail_batches SET parked_at = ? WHERE id = ? AND status = 'queued'", now, id);
      return { parked: true, error: outcome.quota.code };
    case "refused":
    case "ambiguous":
      if (outcome.kind === "refused")
        await update(
          "UPDATE mail_batches SET state = 'ready', lease_until = NULL, error = ?, parked_at = ? WHERE id = ? AND version = ?",
          outcome.error,
          outcome.quota ? now : null,
          id,
          version,
        );
      else await update("UPDATE mail_batches SET lease_until = NULL, error = ? WHERE id = ?", outcome.error, id);
      if (outcome.kind === "refused" && outcome.quota) return { parked: true, error: outcome.error };
      if (exhausted) {
        await update("UPDATE mail_batches SET status = 'failed' WHERE id = ? AND status = 'queued'", id);
        console.error("mail: batch given up", { batch: id, attempts, error: outcome.error.slice(0, 200) });
        return { done: true, sent: false, error: outcome.error };
      }
      return { done: false, retryInSec: outcome.retryInSec };
    case "failed":
      await update(
        "UPDATE mail_batches SET status = 'failed', lease_until = NULL, error = ? WHERE id = ? AND status = 'queued'",
        outcome.error,
        id,
      );
      console.error("mail: batch failed for good", { batch: id, error: outcome.error.slice(0, 200) });
      return { done: true, sent: false, error: outcome.error };
  }
}
