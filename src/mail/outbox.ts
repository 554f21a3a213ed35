import { sql } from "drizzle-orm";
import { outbox } from "../db/schema";
import { database } from "../db/subscribers";
import type { Email, Mailer, SendOutcome } from "./mailer";

/**
 * Local stand-in for Resend: every email lands in the D1 `outbox` table, browsable at /dev/outbox.
 * Keys behave like Resend's Idempotency-Key: a retried send with the same key stores nothing new.
 */
export class OutboxMailer implements Mailer {
  readonly name = "outbox";
  constructor(private d1: D1Database) {}

  async send(emails: Email[], idempotencyKey: string): Promise<SendOutcome> {
    const db = database(this.d1);
    const now = Date.now();
    // A key seen before answers the id it stored then (the no-op update makes RETURNING give the existing row).
    const [first, ...rest] = emails.map((e, i) =>
      db
        .insert(outbox)
        .values({
          idempotencyKey: emails.length === 1 ? idempotencyKey : `${idempotencyKey}#${i}`,
          from: e.from,
          to: e.to,
          subject: e.subject,
          html: e.html,
          text: e.text,
          headers: e.headers ?? {},
          tags: e.tags ?? [],
          createdAt: now,
        })
        .onConflictDoUpdate({ target: outbox.idempotencyKey, set: { idempotencyKey: sql`excluded.idempotency_key` } })
        .returning({ id: outbox.id }),
    );
    const results = first ? await db.batch([first, ...rest]) : [];
    return {
      ok: true,
      ids: results.map((r) => `outbox_${r[0]!.id}`),
      rejected: [],
      answer: { ok: true, status: 200 },
    };
  }
}
