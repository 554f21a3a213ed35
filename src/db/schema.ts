import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Lifecycle of an address: pending → active → unsubscribed; suppressed is terminal (bounce, complaint). */
export const STATUSES = ["pending", "active", "unsubscribed", "suppressed"] as const;
export type Status = (typeof STATUSES)[number];

/**
 * One row per address. Times are Unix milliseconds.
 * Indexes are few on purpose: D1 bills one extra written row per index touched by a write,
 * and a subscribe must stay within a handful of rows.
 */
export const subscribers = sqliteTable(
  "subscribers",
  {
    id: integer("id").primaryKey(),
    /** The address as entered (domain lower-cased, punycode): what mail is sent to. */
    email: text("email").notNull(),
    /** The address lower-cased: one row per mailbox, whatever the case a signup used. */
    emailKey: text("email_key").notNull().unique(),
    status: text("status", { enum: STATUSES }).notNull(),
    /** Where the signup came from: "form", "api" or "import". */
    source: text("source").notNull(),
    createdAt: integer("created_at").notNull(),
    /** Consent evidence: when and from which origin the address was submitted, and a keyed hash of the client IP. */
    consentAt: integer("consent_at").notNull(),
    consentOrigin: text("consent_origin"),
    consentIpHash: text("consent_ip_hash"),
    confirmedAt: integer("confirmed_at"),
    unsubscribedAt: integer("unsubscribed_at"),
    /** Digest skipped until this time (preferences page "pause"). */
    pausedUntil: integer("paused_until"),
    /** Per-address throttle of confirmation emails (see db/subscribers.ts). */
    confirmSentAt: integer("confirm_sent_at"),
    confirmCount: integer("confirm_count").notNull().default(0),
  },
  // Partial index: the digest walks active subscribers by id; pending signups never touch it.
  (t) => [index("subscribers_active_id").on(t.id).where(sql`status = 'active'`)],
);

/**
 * The local outbox: every email the service would have handed to Resend when no RESEND_API_KEY is set.
 * The idempotency key makes a retried queue message land once, as Resend's Idempotency-Key does.
 */
export const outbox = sqliteTable("outbox", {
  id: integer("id").primaryKey(),
  idempotencyKey: text("idempotency_key").unique(),
  from: text("from_address").notNull(),
  to: text("to_address").notNull(),
  subject: text("subject").notNull(),
  html: text("html").notNull(),
  text: text("text").notNull(),
  headers: text("headers", { mode: "json" }).$type<Record<string, string>>(),
  tags: text("tags", { mode: "json" }).$type<{ name: string; value: string }[]>(),
  createdAt: integer("created_at").notNull().default(sql`(unixepoch() * 1000)`),
});

export type Subscriber = typeof subscribers.$inferSelect;
