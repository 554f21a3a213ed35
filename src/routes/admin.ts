import { gte, sql } from "drizzle-orm";
import { Hono } from "hono";
import { validator } from "hono/validator";
import { activeByCadence, byCadence, recentIssues } from "../db/overview";
import { eraseSubscriber, exportSubscriber } from "../db/privacy";
import { mailBatches, subscribers } from "../db/schema";
import { countByStatus, type DB, database, exportPage, importActive } from "../db/subscribers";
import { findSuppression } from "../db/suppressions";
import { csvField } from "../lib/csv";
import { addressKeys, checkEmail } from "../lib/email";
import { noStore } from "../lib/headers";
import { ApiError, type AppEnv, limitBody } from "../lib/http";
import { checkImport, IMPORT_MAX_BYTES } from "../lib/import";
import { formatWeek, isoWeekOf } from "../lib/week";
import { sendBudget } from "../mail/budget";

/** The operator API, mounted at /admin behind adminAuth (src/routes/guards.ts). */
export const admin = new Hono<AppEnv>();

/** routes/digests.ts guards its own paths with it. */
export { adminAuth } from "./guards";

const WEEK_MS = 7 * 86_400_000;

admin.get("/stats", async (c) => {
  const d1 = c.env.DB;
  const db = database(d1);
  const since = Date.now() - 12 * WEEK_MS;
  // One D1 round trip for the five reads.
  const [signups, unsubscribes, recent, mail, cadences] = await db.batch([
    db.select({ t: subscribers.createdAt }).from(subscribers).where(gte(subscribers.createdAt, since)),
    db
      .select({ t: sql<number>`${subscribers.unsubscribedAt}` })
      .from(subscribers)
      .where(gte(subscribers.unsubscribedAt, since)),
    recentIssues(db),
    db
      .select({
        status: sql<string>`CASE WHEN ${mailBatches.parkedAt} IS NOT NULL THEN 'parked' ELSE ${mailBatches.status} END`,
        batches: sql<number>`count(*)`,
        sent: sql<number | null>`sum(${mailBatches.sent})`,
        rejected: sql<number | null>`sum(${mailBatches.rejected})`,
      })
      .from(mailBatches)
      .where(gte(mailBatches.createdAt, Date.now() - WEEK_MS))
      .groupBy(sql`1`),
    activeByCadence(db),
  ]);
  const perWeek = (rows: { t: number }[]) => {
    const out: Record<string, number> = {};
    for (const r of rows) {
      const week = formatWeek(isoWeekOf(new Date(r.t)));
      out[week] = (out[week] ?? 0) + 1;
    }
    return out;
  };
  return c.json({
    subscribers: await countByStatus(database(d1)),
    // Active readers by the cadence they chose (a switch in progress counts under the new one).
    active_by_cadence: byCadence(cadences),
    signups_per_week: perWeek(signups),
    unsubscribes_per_week: perWeek(unsubscribes),
    issues: recent,
    // Transactional mail of the last 7 days, by batch status (parked = waiting for Resend's quota).
    transactional_last_7_days: Object.fromEntries(
      mail.map((r) => [r.status, { batches: r.batches, sent: r.sent ?? 0, rejected: r.rejected ?? 0 }]),
    ),
    // The deployment's Resend budget: the rate in force and where it came from, a quota pause, waiting senders.
    sending: await sendBudget(c.env).state(),
  });
});

/** Resumes sending at once after a quota pause (once the plan was upgraded, say) and re-queues what waited. */
admin.post("/sending/resume", async (c) => c.json({ sending: await sendBudget(c.env).resume() }));

/** Lookup by address: GET /admin/subscribers?email=… */
admin.get("/subscribers", async (c) => {
  const email = c.req.query("email");
  if (!email || email.length > 320)
    throw new ApiError(400, "email_required", "Give the address to look up: /admin/subscribers?email=…");
  // The same normal form as signups (punycode domain, lower case), so an address is found however it is typed.
  const check = checkEmail(email, new Set());
  const keys = check.ok ? addressKeys(check.email) : [email.trim().toLowerCase()];
  const row = await c.env.DB.prepare(
    "SELECT id FROM subscribers WHERE email_key IN (SELECT value FROM json_each(?)) ORDER BY id DESC",
  )
    .bind(JSON.stringify(keys))
    .first<{ id: number }>();
  const suppressed = await findSuppression(c.env.DB, keys);
  if (!row) {
    if (suppressed)
      return c.json({
        subscriber: null,
        suppression: { reason: suppressed.reason, since: new Date(suppressed.created_at).toISOString() },
      });
    throw new ApiError(404, "not_found", "No subscriber with that address.");
  }
  return c.json({
    id: row.id,
    subscriber: await exportSubscriber(c.env.DB, row.id),
    suppression: suppressed
      ? { reason: suppressed.reason, since: new Date(suppressed.created_at).toISOString() }
      : null,
  });
});

/** Erases a subscriber (as "erase my data" does); a suppressed address keeps only its hashed suppression entry. */
const subscriberId = validator("param", ({ id }) => {
  const n = Number(id);
  if (!Number.isSafeInteger(n) || n < 1) throw new ApiError(400, "invalid_id", "Subscriber ids are positive integers.");
  return { id: n };
});

admin.delete("/subscribers/:id{[0-9]+}", subscriberId, async (c) => {
  const { id } = c.req.valid("param");
  if (!(await eraseSubscriber(c.env.DB, id))) throw new ApiError(404, "not_found", "No subscriber with that id.");
  return c.body(null, 204);
});

admin.post("/subscribers/import", limitBody(IMPORT_MAX_BYTES, "An import (split larger files)"), async (c) => {
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "text/csv")
    throw new ApiError(415, "unsupported_media_type", "Send the list as text/csv with an email column.");
  const list = checkImport(await c.req.text(), c.get("cfg").blockedDomains);
  const imported = await importActive(c.env.DB, list.valid, Date.now());
  return c.json({
    rows: list.rows,
    imported,
    skipped_duplicates: list.repeated + (list.valid.length - imported),
    invalid: list.invalid,
    errors: list.errors,
  });
});

const iso = (ms: number | null) => (ms ? new Date(ms).toISOString() : "");

/**
 * The subscriber list as CSV, 1000 rows per read: D1 is read as fast as the client downloads, no faster. A failure
 * part-way is logged and ends the file there.
 */
function csvExport(db: DB): ReadableStream<Uint8Array> {
  const utf8 = new TextEncoder();
  let after: number | null = null;
  return new ReadableStream({
    async pull(out) {
      if (after === null) {
        after = 0;
        out.enqueue(
          utf8.encode(
            "email,status,source,created_at,confirmed_at,unsubscribed_at,paused_until,consent_origin,cadence\n",
          ),
        );
        return;
      }
      try {
        const page = await exportPage(db, after, 1000);
        if (page.length === 0) return out.close();
        out.enqueue(
          utf8.encode(
            `${page.map((r) => [r.email, r.status, r.source, iso(r.createdAt), iso(r.confirmedAt), iso(r.unsubscribedAt), iso(r.pausedUntil), r.consentOrigin, r.cadence].map(csvField).join(",")).join("\n")}\n`,
          ),
        );
        after = page[page.length - 1]!.id;
      } catch (err) {
        console.error(err);
        out.close();
      }
    },
  });
}

admin.get("/subscribers/export", (c) => {
  c.header("Content-Type", "text/csv; charset=utf-8");
  c.header("Content-Disposition", 'attachment; filename="subscribers.csv"');
  noStore(c);
  return c.body(csvExport(database(c.env.DB)));
});
