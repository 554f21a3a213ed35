import { addressKeys } from "../lib/email";

/*
 * The suppression list: addresses that must never be mailed again (a hard bounce, a complaint, Resend's own list, an
 * operator). Entries are hashes, so the list survives erasure without keeping the address. The signup and import
 * statements consult it inside their own SQL (src/db/subscribers.ts).
 */

export type SuppressionReason = "bounce" | "complaint" | "manual";

/**
 * The suppression list's key: SHA-256 of the lower-cased address. Deliberately not keyed with TOKEN_SECRET:
 * rotating that secret must never forget who complained or bounced.
 */
export async function suppressionHash(emailKey: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`suppression\n${emailKey}`));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Puts addresses on the suppression list (hashed, under their mailbox key and their lower-cased form) and marks their
 * subscriptions suppressed, whichever key a row was stored under.
 */
export async function suppressStatements(
  d1: D1Database,
  emails: string[],
  reason: SuppressionReason,
  now: number,
  unlessSeen = "",
) {
  // `unlessSeen`: a webhook's svix-id; if that id was processed before, these statements change nothing.
  const fresh = "NOT EXISTS (SELECT 1 FROM webhook_events WHERE svix_id = ?)";
  const statements: D1PreparedStatement[] = [];
  for (const email of emails) {
    const keys = addressKeys(email);
    for (const key of keys)
      statements.push(
        d1
          .prepare(
            `INSERT INTO suppressions (email_hash, reason, created_at) SELECT ?, ?, ? WHERE ${fresh} ON CONFLICT (email_hash) DO NOTHING`,
          )
          .bind(await suppressionHash(key), reason, now, unlessSeen),
      );
    statements.push(
      d1
        .prepare(
          `UPDATE subscribers SET status = 'suppressed', paused_until = NULL WHERE email_key IN (SELECT value FROM json_each(?)) AND status <> 'suppressed' AND ${fresh}`,
        )
        .bind(JSON.stringify(keys), unlessSeen),
    );
  }
  return statements;
}

export async function suppress(d1: D1Database, emails: string[], reason: SuppressionReason, now = Date.now()) {
  await d1.batch(await suppressStatements(d1, emails, reason, now));
}

/** On erasure, a suppressed address keeps only its hashed entries (under each of its keys). */
export const keepSuppressed = async (d1: D1Database, keys: string[], now: number) =>
  Promise.all(
    keys.map(async (key) =>
      d1
        .prepare(
          "INSERT INTO suppressions (email_hash, reason, created_at) VALUES (?, 'manual', ?) ON CONFLICT (email_hash) DO NOTHING",
        )
        .bind(await suppressionHash(key), now),
    ),
  );

/** The entry of an address (under any of its keys), for the admin lookup. */
export async function findSuppression(d1: D1Database, keys: string[]) {
  const hashes = await Promise.all(keys.map(suppressionHash));
  return d1
    .prepare("SELECT reason, created_at FROM suppressions WHERE email_hash IN (SELECT value FROM json_each(?)) LIMIT 1")
    .bind(JSON.stringify(hashes))
    .first<{ reason: string; created_at: number }>();
}
