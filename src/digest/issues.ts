import { and, desc, eq, inArray, isNotNull } from "drizzle-orm";
import type { RowOf } from "../db/rows";
import { type Cadence, type IssueStatus, issueBatches, issues } from "../db/schema";
import { database } from "../db/subscribers";
import { QUOTA_REASON_PREFIX } from "../mail/parked";
import { parseEdition } from "./cadence";
import { bump, MeteredDb, type Statement } from "./store";

/**
 * An issue's life, in one place: every change of `issues.status` is made here, and the routes and consumers call
 * these functions (in the spirit of listmonk's core/campaigns.go).
 *
 *   building ──build──▶ sending ──last batch settled──▶ sent (or failed when no batch went out)
 *      │                 │  ▲
 *      └─no papers─▶ skipped  pause (operator, complaint breaker, Resend quota) ⇄ resume
 *   building / sending / paused ──cancel──▶ cancelled;  failed / sent with failed batches ──retry-failed──▶ sending
 *
 * (The fan-out's cursor and batch rows are written by src/digest/fanout.ts; no status changes there.)
 * Statements of the send path are raw SQL run through MeteredDb: their D1 cost (meta.rows_read / rows_written, which
 * Drizzle's select does not return) goes into the issue's run record, and several chain on changes() inside one D1
 * batch. Ordinary reads go through Drizzle.
 */

export type Issue = typeof issues.$inferSelect;
/** The issue row as raw SQL reads it (snake_case, booleans 0/1, papers as JSON text). */
export type IssueRow = RowOf<typeof issues>;

// Reads

export const getIssue = (d1: D1Database, week: string): Promise<Issue | undefined> =>
  database(d1).select().from(issues).where(eq(issues.week, week)).get();

export const listIssues = (d1: D1Database, limit = 200): Promise<Issue[]> =>
  database(d1).select().from(issues).orderBy(desc(issues.week)).limit(limit);

/** Issues readers can see (archive, feed): built and at least partly sent, newest first. */
export function listPublished(d1: D1Database, opts: { limit: number; week?: string; cadence?: Cadence }) {
  const published = and(
    inArray(issues.status, ["sending", "sent"]),
    isNotNull(issues.papers),
    opts.cadence ? eq(issues.cadence, opts.cadence) : undefined,
  );
  return database(d1)
    .select({
      week: issues.week,
      subject: issues.subject,
      papers: issues.papers,
      startedAt: issues.startedAt,
      finishedAt: issues.finishedAt,
    })
    .from(issues)
    .where(opts.week ? and(published, eq(issues.week, opts.week)) : published)
    .orderBy(desc(issues.startedAt))
    .limit(opts.limit);
}

// Start and build

/**
 * Starts or resumes a week's issue (cron, admin "send", npm run digest). Creating the record is idempotent; an issue
 * already sent or skipped is left alone, so triggering a week twice sends nothing new. Otherwise a fan-out message
 * resumes from the recorded cursor and re-queues any batch not yet sent.
 */
export async function startIssue(env: Env, week: string, now = Date.now()): Promise<Issue> {
  const db = new MeteredDb(env.DB);
  await db.batch([
    [
      "INSERT INTO issues (week, cadence, status, started_at) VALUES (?, ?, 'building', ?) ON CONFLICT (week) DO NOTHING",
      week,
      parseEdition(week)!.cadence,
      now,
    ],
  ]);
  const state = await db.first<Pick<IssueRow, "status" | "batches">>(
    "SELECT status, batches FROM issues WHERE week = ?",
    week,
  );
  // Resuming an issue that already cut batches: re-queue those that may never have left.
  if (state && state.status !== "sent" && state.status !== "skipped")
    await env.DIGEST_QUEUE.send({ kind: "fanout", week, requeue: state.batches > 0 });
  const cost = db.drain();
  await db.batch([bump(week, { rows_read: cost.read, rows_written: cost.written })]);
  return (await getIssue(env.DB, week))!;
}

/** building → sending, with the content frozen; or → skipped when the week has no papers to send. */
export const markBuilt = (
  week: string,
  content: { subject: string; html: string; text: string },
  papers: unknown[],
  pool: unknown[],
) =>
  [
    "UPDATE issues SET status = 'sending', subject = ?, papers = ?, pool = ?, html = ?, text = ? WHERE week = ? AND status = 'building'",
    content.subject,
    JSON.stringify(papers),
    JSON.stringify(pool),
    content.html,
    content.text,
    week,
  ] satisfies Statement;

export const markSkipped = (week: string, now: number) =>
  [
    "UPDATE issues SET status = 'skipped', finished_at = ?, last_error = 'no papers to send' WHERE week = ? AND status = 'building'",
    now,
    week,
  ] satisfies Statement;

/** failed → sending: a re-trigger of an issue whose every batch had failed. */
export const reopenFailed = (week: string) =>
  [
    "UPDATE issues SET status = 'sending', last_error = NULL WHERE week = ? AND status = 'failed'",
    week,
  ] satisfies Statement;

// Sending

/** Batches go out only while the issue is sending (paused or cancelled: they stay queued until a resume). */
export const issueStatus = async (db: MeteredDb, week: string) =>
  (await db.first<Pick<IssueRow, "status">>("SELECT status FROM issues WHERE week = ?", week))?.status;

/** The papers frozen at build (the top and the pool), from which every recipient's email is rendered. */
export const frozenPapers = (db: MeteredDb, week: string) =>
  db.first<Pick<IssueRow, "papers" | "pool">>(
    "SELECT papers, pool FROM issues WHERE week = ? AND papers IS NOT NULL",
    week,
  );

/** Recipients taken out of frozen batches before their send (they left after the cut). */
export const countDropped = (week: string, n: number) =>
  ["UPDATE issues SET dropped = dropped + ? WHERE week = ?", n, week] satisfies Statement;

/** The issue is finished by the statement that settles its last batch (changes() > 0: that batch was just sent). */
const LAST = "status = 'sending' AND fanout_done = 1 AND batches_sent + (changes() > 0) + failures >= batches";

/**
 * A batch's outcome lands with the issue's counters and this invocation's D1 cost in one D1 batch: the batch's own
 * update, then one statement on the issue row (`finish: true` when the outcome may be the issue's last).
 */
export async function settleBatch(
  db: MeteredDb,
  week: string,
  batchUpdate: Statement,
  counters: string,
  params: unknown[],
  finish?: { at: number },
) {
  // The two statements themselves each read and write exactly one row; they are counted here, in advance.
  const cost = db.drain();
  const status = finish
    ? `, status = CASE WHEN ${LAST} THEN 'sent' ELSE status END, finished_at = CASE WHEN ${LAST} THEN ? ELSE finished_at END`
    : "";
  // Not counted again: that would cost another write to the run record.
  return db.batch(
    [
      batchUpdate,
      [
        `UPDATE issues SET ${counters}${status}, rows_read = rows_read + ?, rows_written = rows_written + ? WHERE week = ?`,
        ...params,
        ...(finish ? [finish.at] : []),
        cost.read + 2,
        cost.written + 2,
        week,
      ],
    ],
    false,
  );
}

/** Marks the issue sent once every batch is settled (sent or failed for good). Safe to run any number of times. */
export const finalize = (week: string) =>
  [
    `UPDATE issues SET status = CASE WHEN batches > 0 AND batches_sent = 0 THEN 'failed' ELSE 'sent' END, finished_at = ?
   WHERE week = ? AND status = 'sending' AND fanout_done = 1 AND batches_sent + failures >= batches`,
    Date.now(),
    week,
  ] satisfies Statement;

/** sending → paused, with the reason the run record shows (Resend's quota; an operator and the breaker below). */
export const pauseSending = (week: string, reason: string) =>
  [
    "UPDATE issues SET status = 'paused', paused_reason = ? WHERE week = ? AND status = 'sending'",
    reason,
    week,
  ] satisfies Statement;

/** Issues paused for Resend's quota go back to sending (the quota is back, or an operator said so) and fan out again. */
export async function resumeQuotaPaused(env: Env): Promise<number> {
  const { results } = await env.DB.prepare(
    "UPDATE issues SET status = 'sending', paused_reason = NULL WHERE status = 'paused' AND paused_reason LIKE ? RETURNING week",
  )
    .bind(`${QUOTA_REASON_PREFIX}%`)
    .all<{ week: string }>();
  for (const { week } of results) await env.DIGEST_QUEUE.send({ kind: "fanout", week, requeue: true });
  return results.length;
}

export async function recordError(d1: D1Database, week: string, error: string) {
  await database(d1)
    .update(issues)
    .set({ lastError: error.slice(0, 500) })
    .where(eq(issues.week, week))
    .run()
    .catch(() => undefined);
}

// Operator controls. Each answers the issue after the change, or why it could not be made.

export type Transition = { ok: true; issue: Issue } | { ok: false; issue: Issue | undefined };

async function transition(
  d1: D1Database,
  week: string,
  from: IssueStatus[],
  set: Partial<Issue>,
  cancelBatches = false,
): Promise<Transition> {
  const db = database(d1);
  const move = db
    .update(issues)
    .set(set)
    .where(and(eq(issues.week, week), inArray(issues.status, from)))
    .returning({ week: issues.week });
  const stopBatches = db
    .update(issueBatches)
    .set({ status: "cancelled" })
    .where(and(eq(issueBatches.week, week), eq(issueBatches.status, "queued")));
  // Cancelling an issue and its queued batches is one D1 transaction.
  const [moved] = cancelBatches ? await db.batch([move, stopBatches]) : [await move];
  const issue = await getIssue(d1, week);
  return moved.length > 0 && issue ? { ok: true, issue } : { ok: false, issue };
}

export const pause = (d1: D1Database, week: string) =>
  transition(d1, week, ["sending"], { status: "paused", pausedReason: "paused by an operator" });

export async function resume(env: Env, week: string) {
  const t = await transition(env.DB, week, ["paused"], { status: "sending", pausedReason: null });
  if (t.ok) await env.DIGEST_QUEUE.send({ kind: "fanout", week, requeue: true });
  return t;
}

export const cancel = (d1: D1Database, week: string) =>
  transition(d1, week, ["building", "sending", "paused"], { status: "cancelled", finishedAt: Date.now() }, true);

/**
 * Puts an issue's failed batches back in the queue (once: a second call finds none). A batch that Resend refused is
 * re-checked and frozen under a new key; one that may have gone out is resent under its own key. One D1 batch: the
 * issue's failure count drops by exactly the number of batches re-queued (changes()).
 */
export async function retryFailed(env: Env, week: string): Promise<{ issue: Issue; requeued: number } | null> {
  const d1 = env.DB;
  const [requeued] = await d1.batch<{ id: number }>([
    d1
      .prepare(
        "UPDATE issue_batches SET status = 'queued', lease_until = NULL, version = version + (state = 'ready') WHERE week = ? AND status = 'failed' RETURNING id",
      )
      .bind(week),
    d1
      .prepare(
        "UPDATE issues SET failures = max(failures - changes(), 0), status = CASE WHEN status IN ('sent', 'failed') THEN 'sending' ELSE status END, finished_at = NULL WHERE week = ? AND changes() > 0",
      )
      .bind(week),
  ]);
  const ids = requeued!.results.map((r) => r.id);
  if (ids.length === 0) return null;
  for (let i = 0; i < ids.length; i += 100)
    await env.DIGEST_QUEUE.sendBatch(
      ids.slice(i, i + 100).map((batchId) => ({ body: { kind: "batch" as const, week, batchId } })),
    );
  return { issue: (await getIssue(d1, week))!, requeued: ids.length };
}

// Delivery feedback (Resend's webhooks). Each statement is guarded by the event's svix-id, recorded in the same D1
// batch after them, so a replayed event changes nothing.

const unseen = "NOT EXISTS (SELECT 1 FROM webhook_events WHERE svix_id = ?)";

export const countFeedback = (
  d1: D1Database,
  week: string,
  column: "delivered" | "bounced" | "complained",
  svixId: string,
) => d1.prepare(`UPDATE issues SET ${column} = ${column} + 1 WHERE week = ? AND ${unseen}`).bind(week, svixId);

/** How a pause by the complaint breaker begins its reason (the dashboard tells it from other pauses by it). */
export const BREAKER_REASON_PREFIX = "complaint rate ";

/**
 * The breaker's state for one issue, as the dashboard shows it: tripped (it paused the issue), closed (watching the
 * rate), or not yet armed (fewer deliveries than `minDeliveries`, when a handful of complaints says little).
 */
export function breakerState(
  i: { status: string; delivered: number; complained: number; paused_reason: string | null },
  minDeliveries: number,
): string {
  if (i.status === "paused" && i.paused_reason?.startsWith(BREAKER_REASON_PREFIX)) return "tripped";
  if (i.delivered < minDeliveries) return `not armed (${i.delivered} of ${minDeliveries} delivered)`;
  return `closed (${((100 * i.complained) / i.delivered).toFixed(2)} % of 0.1 %)`;
}

/** The complaint circuit breaker: over 0.1 % complaints (after `minDeliveries`) pauses the rest of the issue. */
export const tripBreaker = (d1: D1Database, week: string, minDeliveries: number, svixId: string) =>
  d1
    .prepare(
      `UPDATE issues SET status = 'paused',
         paused_reason = '${BREAKER_REASON_PREFIX}' || printf('%.2f', complained * 100.0 / delivered) || '% (' || complained || ' of ' || delivered || ' delivered) is over 0.1%'
       WHERE week = ? AND status = 'sending' AND delivered >= ? AND complained * 1000 > delivered AND ${unseen}`,
    )
    .bind(week, minDeliveries, svixId);
