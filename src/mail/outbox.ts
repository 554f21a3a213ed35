import type { Email, Mailer, SendOutcome } from "./mailer";

/**
 * Local stand-in for Resend: every email lands in the D1 `outbox` table, browsable at /dev/outbox.
 * Keys behave like Resend's Idempotency-Key: a retried send with the same key stores nothing new.
 */
export class OutboxMailer implements Mailer {
  readonly name = "outbox";
  constructor(private d1: D1Database) {}

  async send(emails: Email[], idempotencyKey: string): Promise<SendOutcome> {
    const statements = emails.map((e, i) =>
      this.d1
        .prepare(
          `INSERT INTO outbox (idempotency_key, from_address, to_address, subject, html, text, headers, tags, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = excluded.idempotency_key
           RETURNING id`,
        )
        .bind(
          emails.length === 1 ? idempotencyKey : `${idempotencyKey}#${i}`,
          e.from,
          e.to,
          e.subject,
          e.html,
          e.text,
          JSON.stringify(e.headers ?? {}),
          JSON.stringify(e.tags ?? []),
          Date.now(),
        ),
    );
    const results = await this.d1.batch<{ id: number }>(statements);
    return {
      ok: true,
      ids: results.map((r) => `outbox_${r.results[0]!.id}`),
      rejected: [],
      answer: { ok: true, status: 200 },
    };
  }
}
