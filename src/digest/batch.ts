import { personalize } from "../../templates/digest";
import type { Config } from "../config";
import { manageUrl, unsubscribeUrl } from "../lib/links";
import { deliver, type Delivery } from "../mail/deliver";
import { mailerFor, type Email } from "../mail/mailer";
import { quotaReason } from "../mail/parked";
import { MeteredDb, type IssueRow, type Recipient } from "./store";

/*
 * Sends one frozen batch of an issue (see issueBatches in src/db/schema.ts for the attempt rules).
 * A batch costs, in the usual case, two D1 reads (the issue's status, the batch), one range read of departures, and
 * three written rows: the claim, the batch's outcome and the issue's counters (the last two in one D1 batch).
 */

/** How long one sender holds a batch: longer than a Resend call may take (30 s) plus a wait for a budget slot. */
const LEASE_MS = 120_000;
/** Departures are compared with cut times from the Worker's clock; D1's may differ a little. */
export const CUT_MARGIN_MS = 60_000;
/** The digest queue's max_retries (wrangler.toml): a batch still not sent at its last delivery is marked failed. */
export const DIGEST_MAX_ATTEMPTS = 100;

interface BatchRow {
  id: number;
  week: string;
  batch_no: number;
  recipients: string;
  status: string;
  version: number;
  state: "ready" | "attempted";
  lease_until: number | null;
  cut_at: number;
}

export const batchKey = (week: string, batchNo: number, version: number) => `digest/${week}/${batchNo}${version > 0 ? `/v${version}` : ""}`;

/** An issue's content never changes once built: each isolate reads it once, not once per batch. */
const contentCache = new Map<string, Pick<IssueRow, "week" | "subject" | "html" | "text">>();

async function issueContent(db: MeteredDb, week: string) {
  let content = contentCache.get(week);
  if (!content) {
    const issue = await db.first<IssueRow>("SELECT week, subject, html, text FROM issues WHERE week = ? AND html IS NOT NULL", week);
    if (!issue) return null;
    content = issue;
    if (contentCache.size > 8) contentCache.clear();
    contentCache.set(week, content);
  }
  return content;
}

async function personalEmails(cfg: Config, issue: Pick<IssueRow, "week" | "subject" | "html" | "text">, recipients: Recipient[]): Promise<Email[]> {
  return Promise.all(
    recipients.map(async (r) => {
      const links = { unsubscribe: await unsubscribeUrl(cfg, r.id), manage: await manageUrl(cfg, r.id) };
      return {
        from: cfg.mailFrom,
        to: r.email,
        subject: issue.subject,
        html: personalize(issue.html!, links),
        text: personalize(issue.text!, links),
        headers: { "List-Unsubscribe": `<${links.unsubscribe}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" },
        tags: [
          { name: "kind", value: "digest" },
          { name: "issue", value: issue.week },
        ],
      };
    }),
  );
}

/** Subscribers of the batch's id range who stopped being mailable after it was cut (one range read on the rowid). */
async function departedSince(db: MeteredDb, list: Recipient[], cutAt: number): Promise<Set<number>> {
  if (list.length === 0) return new Set();
  const ids = list.map((r) => r.id);
  const rows = await db.all<{ subscriber_id: number }>(
    "SELECT subscriber_id FROM departures WHERE subscriber_id BETWEEN ? AND ? AND at >= ?",
    Math.min(...ids),
    Math.max(...ids),
    cutAt,
  );
  return new Set(rows.map((r) => r.subscriber_id));
}

/** Marks the issue sent once every batch is settled (sent or failed for good). Safe to run any number of times. */
export const finalize = (week: string): [string, ...unknown[]] => [
  `UPDATE issues SET status = CASE WHEN batches > 0 AND batches_sent = 0 THEN 'failed' ELSE 'sent' END, finished_at = ?
   WHERE week = ? AND status = 'sending' AND fanout_done = 1 AND batches_sent + failures >= batches`,
  Date.now(),
  week,
];

/** After the batch's own update, counters and this invocation's D1 cost land in one statement on the issue row. */
async function settle(db: MeteredDb, week: string, batchUpdate: [string, ...unknown[]], counters: string, ...params: unknown[]) {
  // The two statements themselves each read and write exactly one row; they are counted here, in advance.
  const cost = db.drain();
  const results = await db.batch([
    batchUpdate,
    [`UPDATE issues SET ${counters}, rows_read = rows_read + ?, rows_written = rows_written + ? WHERE week = ?`, ...params, cost.read + 2, cost.written + 2, week],
  ]);
  db.drain(); // already in the record: counting them again would cost another write to the run record
  return results;
}

/**
 * Sends (or resends) one batch. Returns a delay in seconds when the queue should deliver the message again,
 * undefined when the message is done (sent, failed for good, or parked until the issue resumes).
 */
export async function sendIssueBatch(job: { week: string; batchId: number }, attempts: number, env: Env, cfg: Config, db: MeteredDb): Promise<number | undefined> {
  // Paused (complaint breaker, quota, operator) or cancelled: leave the batch queued; a resume re-queues it.
  const state = await db.first<{ status: string }>("SELECT status FROM issues WHERE week = ?", job.week);
  if (state?.status !== "sending") return;
  const issue = await issueContent(db, job.week);
  const row = await db.first<BatchRow>("SELECT id, week, batch_no, recipients, status, version, state, lease_until, cut_at FROM issue_batches WHERE id = ?", job.batchId);
  if (!issue || !row || row.week !== job.week || row.status !== "queued") return;
  if ((row.lease_until ?? 0) > Date.now()) return 10; // another sender holds it

  let version = row.version;
  let dropped = 0;
  const outcome = await deliver(env, cfg, mailerFor(env, cfg), "digest", attempts, async () => {
    let list = JSON.parse(row.recipients) as Recipient[];
    // Nothing was ever sent under the current key, or Resend refused it for certain: drop whoever left since the
    // cut, and freeze the rest under the next key. Otherwise only the same body under the same key may follow.
    if (row.state === "ready") {
      const gone = await departedSince(db, list, row.cut_at);
      if (gone.size > 0) {
        dropped = list.filter((r) => gone.has(r.id)).length;
        list = list.filter((r) => !gone.has(r.id));
        version++;
      }
    }
    const now = Date.now();
    const claim: [string, ...unknown[]][] = [
      [
        `UPDATE issue_batches SET recipients = ?, version = ?, state = 'attempted', lease_until = ?, attempts = attempts + 1
         WHERE id = ? AND status = 'queued' AND version = ? AND state = ? AND coalesce(lease_until, 0) <= ?`,
        JSON.stringify(list),
        version,
        now + LEASE_MS,
        row.id,
        row.version,
        row.state,
        now,
      ],
    ];
    if (dropped) claim.push(["UPDATE issues SET dropped = dropped + ? * (changes() > 0) WHERE week = ?", dropped, job.week]);
    const [claimed] = await db.batch(claim);
    if (!claimed!.meta.changes) return { skipped: "taken" };
    if (list.length === 0) return { skipped: "empty" };
    return { key: batchKey(job.week, row.batch_no, version), emails: await personalEmails(cfg, issue, list) };
  });
  return settleOutcome(db, job.week, row.id, version, outcome, attempts);
}

async function settleOutcome(db: MeteredDb, week: string, batchId: number, version: number, outcome: Delivery, attempts: number): Promise<number | undefined> {
  const now = Date.now();
  // changes() is the row count of the statement before it in this batch: 1 only if this attempt marked the batch
  // sent. The same statement finishes the issue when this was its last unsettled batch (SET sees the old row).
  const last = "status = 'sending' AND fanout_done = 1 AND batches_sent + (changes() > 0) + failures >= batches";
  const markSent = (accepted: number, rejected: number, error: string | null, apiCall: 0 | 1) =>
    settle(
      db,
      week,
      ["UPDATE issue_batches SET status = 'sent', sent_at = ?, lease_until = NULL, rejected = ?, error = ? WHERE id = ? AND status = 'queued'", now, rejected, error, batchId],
      `api_calls = api_calls + ${apiCall}, batches_sent = batches_sent + (changes() > 0), sent = sent + (changes() > 0) * ?, rejected = rejected + (changes() > 0) * ?,
       status = CASE WHEN ${last} THEN 'sent' ELSE status END, finished_at = CASE WHEN ${last} THEN ? ELSE finished_at END`,
      accepted,
      rejected,
      now,
    );
  const markFailed = async (error: string, apiCall: 0 | 1) => {
    console.error("digest: batch failed for good", { week, batchId, error: error.slice(0, 200) });
    await settle(
      db,
      week,
      ["UPDATE issue_batches SET status = 'failed', lease_until = NULL, error = ? WHERE id = ? AND status = 'queued'", error, batchId],
      `api_calls = api_calls + ${apiCall}, failures = failures + (changes() > 0), last_error = ?`,
      error,
    );
    await db.batch([finalize(week)]);
  };
  /** A retryable outcome on the queue's last delivery: recorded as failed, so retry-failed can pick it up. */
  const exhausted = attempts >= DIGEST_MAX_ATTEMPTS;

  switch (outcome.kind) {
    case "sent": {
      const rejected = outcome.rejected.map((r) => `#${r.index}: ${r.message}`);
      const note = outcome.note ?? (rejected.length ? `Resend refused ${rejected.length} address(es): ${rejected.join("; ")}` : null);
      await markSent(outcome.accepted, outcome.rejected.length, note?.slice(0, 500) ?? null, 1);
      return;
    }
    case "skipped":
      // Everyone on the list left before the send: the batch is done without a call.
      if (outcome.why === "empty") await markSent(0, 0, null, 0);
      return outcome.why === "taken" ? 10 : undefined;
    case "busy":
      if (exhausted) await markFailed(`no send slot after ${attempts} attempts`, 0);
      return exhausted ? undefined : outcome.retryInSec;
    case "parked":
      await db.batch([["UPDATE issues SET status = 'paused', paused_reason = ? WHERE week = ? AND status = 'sending'", quotaReason(outcome.quota), week]]);
      return;
    case "refused":
    case "ambiguous": {
      // A refusal makes the list open to a re-check before the next attempt; after an ambiguous failure it stays frozen.
      const batchUpdate: [string, ...unknown[]] =
        outcome.kind === "refused"
          ? ["UPDATE issue_batches SET state = 'ready', lease_until = NULL, error = ? WHERE id = ? AND version = ?", outcome.error, batchId, version]
          : ["UPDATE issue_batches SET lease_until = NULL, error = ? WHERE id = ?", outcome.error, batchId];
      await settle(db, week, batchUpdate, "api_calls = api_calls + 1, retries = retries + 1");
      if (outcome.kind === "refused" && outcome.quota) {
        await db.batch([["UPDATE issues SET status = 'paused', paused_reason = ? WHERE week = ? AND status = 'sending'", quotaReason({ code: outcome.quota }), week]]);
        return;
      }
      if (exhausted) {
        await markFailed(`gave up after ${attempts} attempts: ${outcome.error}`, 0);
        return;
      }
      return outcome.retryInSec;
    }
    case "failed":
      await markFailed(outcome.error, 1);
      return;
  }
}
