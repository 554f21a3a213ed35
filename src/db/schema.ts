import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Lifecycle of an address: pending → active → unsubscribed; suppressed is terminal (bounce, complaint). */
export const STATUSES = ["pending", "active", "unsubscribed", "suppressed"] as const;
export type Status = (typeof STATUSES)[number];

/** How often a reader gets papers; issues are weekly (keyed "2026-W47") or daily editions (keyed "2026-11-30"). */
export const CADENCES = ["weekly", "daily"] as const;
export type Cadence = (typeof CADENCES)[number];

/**
 * One row per address. Times are Unix milliseconds.
 * Indexes are few on purpose: D1 bills one extra written row per index touched by a write,
 * and a subscribe must stay within a handful of rows.
 */
export const subscribers = sqliteTable(
  "subscribers",
  {
    /** Never reused (AUTOINCREMENT): queue jobs, batch lists and departures name subscribers by id. */
    id: integer("id").primaryKey({ autoIncrement: true }),
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
    /**
     * Per-subscriber secret inside the MAC of every personal link (src/lib/tokens.ts): a link works for this row and
     * no other, and stops working when the row goes. Empty for rows from before it existed (their links still work).
     */
    linkKey: text("link_key").notNull().default(""),
    /** Topics the reader picked (ids of src/papers/topics.ts); null or empty: none. Read by the fan-out with the row. */
    topics: text("topics", { mode: "json" }).$type<string[]>(),
    /** What their ratings taught (src/digest/taste.ts, bounded to ~1.5 KB); null: nothing yet. */
    taste: text("taste"),
    /** How often they get papers: the weekly issue or the daily edition (src/digest/cadence.ts). */
    cadence: text("cadence", { enum: CADENCES }).notNull().default("weekly"),
    /**
     * When `cadence` changed after signup: the first ISO week ("2026-W50") whose papers follow it; the papers of
     * earlier weeks follow the other cadence. Null: `cadence` holds for every edition. Cleared by housekeeping.
     */
    cadenceFrom: text("cadence_from"),
  },
  // Partial indexes: each fan-out walks, by id, the active readers who may get its cadence (a reader switching
  // cadence is in both until housekeeping folds the switch); pending signups never touch them.
  (t) => [
    index("subscribers_weekly_id")
      .on(t.id)
      .where(sql`status = 'active' AND (cadence = 'weekly' OR cadence_from IS NOT NULL)`),
    index("subscribers_daily_id")
      .on(t.id)
      .where(sql`status = 'active' AND (cadence = 'daily' OR cadence_from IS NOT NULL)`),
    index("subscribers_cadence_from").on(t.cadenceFrom).where(sql`cadence_from IS NOT NULL`),
  ],
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

export const ISSUE_STATUSES = ["building", "sending", "paused", "sent", "skipped", "failed", "cancelled"] as const;
export type IssueStatus = (typeof ISSUE_STATUSES)[number];

/**
 * One weekly issue and its run record. The papers and the rendered content are frozen here when the issue
 * is built, so a re-run, the archive and the feed all show exactly what was sent.
 * Counters are cumulative over every invocation that worked on the issue (cron, re-triggers, queue consumers).
 */
export const issues = sqliteTable("issues", {
  /**
   * The edition's key: an ISO week ("2026-W47") for a weekly issue, a date ("2026-11-30") for a daily edition. The
   * column kept its first name; code calls it the issue's key or week.
   */
  week: text("week").primaryKey(),
  cadence: text("cadence", { enum: CADENCES }).notNull().default("weekly"),
  status: text("status", { enum: ISSUE_STATUSES }).notNull(),
  subject: text("subject").notNull().default(""),
  papers: text("papers", { mode: "json" }).$type<import("../papers/paper").Paper[]>(),
  html: text("html"),
  text: text("text"),
  /** Fan-out progress: the last subscriber id put in a batch, and whether every active subscriber is in one. */
  cursor: integer("cursor").notNull().default(0),
  fanoutDone: integer("fanout_done", { mode: "boolean" }).notNull().default(false),
  recipients: integer("recipients").notNull().default(0),
  /** Recipients taken out of a frozen batch before it was sent (they unsubscribed, paused, were suppressed or erased). */
  dropped: integer("dropped").notNull().default(0),
  /** Recipients Resend refused individually (permissive batch validation): the rest of their batch went out. */
  rejected: integer("rejected").notNull().default(0),
  batches: integer("batches").notNull().default(0),
  batchesSent: integer("batches_sent").notNull().default(0),
  sent: integer("sent").notNull().default(0),
  apiCalls: integer("api_calls").notNull().default(0),
  retries: integer("retries").notNull().default(0),
  failures: integer("failures").notNull().default(0),
  rowsRead: integer("rows_read").notNull().default(0),
  rowsWritten: integer("rows_written").notNull().default(0),
  lastError: text("last_error"),
  /** Delivery feedback from Resend's webhooks. */
  delivered: integer("delivered").notNull().default(0),
  bounced: integer("bounced").notNull().default(0),
  complained: integer("complained").notNull().default(0),
  /** Why the send was paused (the complaint circuit breaker, or an operator). */
  pausedReason: text("paused_reason"),
  /**
   * The week's other new papers (after the top ones), from which each reader with preferences gets "For you";
   * frozen with the issue like `papers`.
   */
  pool: text("pool", { mode: "json" }).$type<import("../papers/paper").Paper[]>(),
  startedAt: integer("started_at").notNull(),
  finishedAt: integer("finished_at"),
});

export const BATCH_STATUSES = ["queued", "sent", "failed", "cancelled"] as const;

/**
 * Whether a frozen recipient list may still be changed: `ready` means nothing was ever sent under the batch's
 * current key (or Resend definitely refused it), `attempted` means a call under that key may have gone out, so
 * only the same body under the same key may follow (see src/mail/deliver.ts).
 */
export const ATTEMPT_STATES = ["ready", "attempted"] as const;

/**
 * Up to 100 recipients of an issue, cut at fan-out in id order. The list is frozen under an idempotency key
 * (`digest/<week>/<batch_no>`, then `/v<version>` once re-checked): before a first attempt, and after a definite
 * refusal, people who left since `cut_at` are dropped and the rest frozen under the next version's key; after an
 * ambiguous failure the same body goes out again under the same key, so Resend never delivers it twice.
 * No index besides the rowid: the consumer addresses a batch by id.
 */
export const issueBatches = sqliteTable("issue_batches", {
  id: integer("id").primaryKey(),
  week: text("week").notNull(),
  batchNo: integer("batch_no").notNull(),
  recipients: text("recipients", { mode: "json" }).notNull().$type<{ id: number; email: string }[]>(),
  status: text("status", { enum: BATCH_STATUSES }).notNull(),
  attempts: integer("attempts").notNull().default(0),
  error: text("error"),
  sentAt: integer("sent_at"),
  version: integer("version").notNull().default(0),
  state: text("state", { enum: ATTEMPT_STATES }).notNull().default("ready"),
  /** While a sender holds the batch (one attempt at a time), until when; a crashed sender's lease runs out. */
  leaseUntil: integer("lease_until"),
  /** When the list was read from the subscribers table (a little early, to cover clock skew with D1). */
  cutAt: integer("cut_at").notNull().default(0),
  rejected: integer("rejected").notNull().default(0),
});

/**
 * Transactional mail (confirmation, welcome, test emails), frozen per Resend call: up to 100 emails described by
 * what renders them (kind, subscriber, address, the time that makes the link), under the key `mail/<id>/v<version>`,
 * with the same attempt rules as a digest batch.
 */
export const mailBatches = sqliteTable("mail_batches", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  items: text("items", { mode: "json" }).notNull().$type<import("../mail/jobs").MailItem[]>(),
  status: text("status", { enum: BATCH_STATUSES }).notNull(),
  version: integer("version").notNull().default(0),
  state: text("state", { enum: ATTEMPT_STATES }).notNull().default("ready"),
  leaseUntil: integer("lease_until"),
  attempts: integer("attempts").notNull().default(0),
  sent: integer("sent").notNull().default(0),
  rejected: integer("rejected").notNull().default(0),
  error: text("error"),
  /** Set while the batch waits for Resend's daily or monthly quota to come back (no queue message holds it). */
  parkedAt: integer("parked_at"),
  createdAt: integer("created_at").notNull(),
  sentAt: integer("sent_at"),
});

/**
 * Which mail batch holds each transactional email (its job key, e.g. `confirm/<id>/<sentAt>`): the primary key
 * makes a job redelivered by the queue land in its first batch instead of a second one.
 */
export const mailItems = sqliteTable("mail_items", {
  key: text("key").primaryKey(),
  batchId: integer("batch_id").notNull(),
  createdAt: integer("created_at").notNull(),
});

/**
 * Confirmation emails per recipient domain and hour (Unix ms / 3,600,000), for CONFIRM_DOMAIN_HOURLY_CAP: whoever
 * types many addresses of one domain into the form cannot make us flood that domain. Pruned daily.
 */
export const confirmDomainHours = sqliteTable(
  "confirm_domain_hours",
  {
    domain: text("domain").notNull(),
    hour: integer("hour").notNull(),
    count: integer("count").notNull(),
  },
  (t) => [primaryKey({ columns: [t.domain, t.hour] })],
);

/**
 * Subscribers who stopped being mailable (unsubscribed, suppressed, paused, erased, or no longer active for any
 * reason), written by triggers on `subscribers` (see migrations), so every path that makes someone leave is
 * covered. A frozen batch drops anyone who left after it was cut, with one range read by id.
 * Times come from D1's clock. Pruned with old batch lists.
 */
export const departures = sqliteTable("departures", {
  subscriberId: integer("subscriber_id").primaryKey(),
  at: integer("at").notNull(),
});

/**
 * Addresses that must never be mailed again (hard bounce, spam complaint, operator), stored only as a keyed
 * hash of the lower-cased address so the entry can outlive the erasure of everything else about the person.
 */
export const suppressions = sqliteTable("suppressions", {
  emailHash: text("email_hash").primaryKey(),
  reason: text("reason", { enum: ["bounce", "complaint", "manual"] }).notNull(),
  createdAt: integer("created_at").notNull(),
});

/** Resend retries a webhook for about a day: each svix-id is processed once. Pruned after a week. */
export const webhookEvents = sqliteTable("webhook_events", {
  svixId: text("svix_id").primaryKey(),
  type: text("type").notNull(),
  receivedAt: integer("received_at").notNull(),
});

/**
 * A reader's "more like this" / "less like this" on one paper: the last one counts (one row per reader and paper).
 * Kept so a change of mind undoes the previous rating's effect on the taste exactly once. Erased with the reader.
 */
export const ratings = sqliteTable(
  "ratings",
  {
    subscriberId: integer("subscriber_id").notNull(),
    paperId: text("paper_id").notNull(),
    /** 1: more like this, -1: less like this. */
    direction: integer("direction").notNull(),
    /** The issue whose email carried the link (where the paper's topics and keywords are read from). */
    week: text("week").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.subscriberId, t.paperId] })],
);

export const IMPORT_STATUSES = ["importing", "done", "failed"] as const;

/**
 * A CSV list uploaded on the dashboard, imported chunk by chunk on DIGEST_QUEUE so that its page shows the progress
 * of a large file. The id is never reused (AUTOINCREMENT): its page's address names this import only. Rejected rows
 * (`errors`, the first 1,000) are shown on that page; housekeeping deletes imports after 30 days.
 */
export const imports = sqliteTable("imports", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  fileName: text("file_name").notNull(),
  status: text("status", { enum: IMPORT_STATUSES }).notNull(),
  /** Rows in the file, valid addresses (each once), rows repeating an earlier one, rows rejected. */
  rows: integer("rows").notNull(),
  valid: integer("valid").notNull(),
  repeated: integer("repeated").notNull(),
  invalid: integer("invalid").notNull(),
  errors: text("errors", { mode: "json" }).notNull().$type<{ line: number; value: string; error: string }[]>(),
  chunks: integer("chunks").notNull(),
  chunksDone: integer("chunks_done").notNull().default(0),
  /** Valid addresses handled so far, and how many of them were new (the rest were already known or suppressed). */
  validDone: integer("valid_done").notNull().default(0),
  imported: integer("imported").notNull().default(0),
  error: text("error"),
  createdAt: integer("created_at").notNull(),
  finishedAt: integer("finished_at"),
});

/** An import's valid addresses, up to 500 per chunk: one queue message each. Emptied once imported. */
export const importChunks = sqliteTable(
  "import_chunks",
  {
    importId: integer("import_id").notNull(),
    seq: integer("seq").notNull(),
    rows: text("rows", { mode: "json" }).notNull().$type<{ email: string; key: string }[]>(),
    done: integer("done").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.importId, t.seq] })],
);
