import { digestEmail, personalize } from "../../templates/digest";
import type { Config } from "../config";
import { unsubscribeUrl, manageUrl } from "../lib/links";
import { backoffSeconds } from "../mail/consumer";
import { mailerFor, type Email, type SendOutcome } from "../mail/mailer";
import { pace } from "../mail/pace";
import { HuggingFaceSource, type PaperSource } from "../papers/huggingface";
import type { Paper } from "../papers/paper";
import { sampleSource } from "../papers/sample";
import type { DigestJob } from "./jobs";
import { selectPapers } from "./select";
import { activePage, bump, createIssue, getIssue, MeteredDb, sentPaperIds, type IssueRow, type Recipient } from "./store";
import { parseWeek, weekDays } from "./week";

export const BATCH_SIZE = 100; // Resend's batch endpoint takes up to 100 emails
const PAGES_PER_FANOUT = 50; // 5,000 subscribers per fan-out invocation, then it continues in a new message
const MESSAGES_PER_SEND = 20; // queue sendBatch: at most 256 KB per call; 20 batches of 100 addresses fit

export const paperSource = (cfg: Config): PaperSource =>
  cfg.papersSource === "sample" ? sampleSource : new HuggingFaceSource({ baseUrl: cfg.hfApiUrl, token: cfg.hfToken });

export function dateRange(week: string): string {
  const w = parseWeek(week)!;
  const days = weekDays(w).map((d) => new Date(`${d}T00:00:00Z`));
  const first = days[0]!;
  const last = days[6]!;
  const day = (d: Date, withMonth: boolean) => d.toLocaleDateString("en-GB", { day: "numeric", ...(withMonth ? { month: "long" } : {}), timeZone: "UTC" });
  const sameMonth = first.getUTCMonth() === last.getUTCMonth();
  return `${day(first, !sameMonth)}–${day(last, true)} ${last.getUTCFullYear()}`;
}

export async function renderIssue(cfg: Config, week: string, papers: Paper[]) {
  return digestEmail({
    name: cfg.newsletterName,
    week,
    dateRange: dateRange(week),
    papers,
    archiveUrl: new URL(`/archive/${week}`, cfg.publicUrl).toString(),
    homeUrl: cfg.publicUrl.toString(),
    postalAddress: cfg.postalAddress,
  });
}

/** The week's papers as the issue would pick them now (used by the build and by previews). */
export async function pickPapers(cfg: Config, db: MeteredDb, week: string) {
  const all = await paperSource(cfg).week(parseWeek(week)!);
  return selectPapers(all, { alreadySent: await sentPaperIds(db, week), size: cfg.digestSize });
}

/**
 * Starts or resumes a week's issue (cron, admin "send", npm run digest). Creating the record is idempotent;
 * an issue already sent or skipped is left alone, so triggering a week twice sends nothing new. Otherwise a
 * fan-out message resumes from the recorded cursor and re-queues any batch not yet sent.
 */
export async function startIssue(env: Env, week: string, now = Date.now()): Promise<IssueRow> {
  const db = new MeteredDb(env.DB);
  await createIssue(db, week, now);
  let issue = (await getIssue(db, week))!;
  if (issue.status !== "sent" && issue.status !== "skipped") {
    // Resuming an issue that already cut batches: re-queue those that may never have left.
    await env.DIGEST_QUEUE.send({ kind: "fanout", week, requeue: issue.batches > 0 });
  }
  const cost = db.drain();
  await db.batch([bump(week, { rows_read: cost.read, rows_written: cost.written })]);
  issue = (await getIssue(db, week))!;
  return issue;
}

/**
 * Handles one digest queue message. Returns a delay in seconds when the message should be retried later
 * (Resend throttling or failing); throws to have the queue retry it with the default backoff.
 */
export async function handleDigestJob(job: DigestJob, attempts: number, env: Env, cfg: Config): Promise<number | undefined> {
  const db = new MeteredDb(env.DB);
  try {
    if (job.kind === "fanout") await fanout(job, attempts, env, cfg, db);
    else return await sendBatch(job, attempts, env, cfg, db);
  } finally {
    // Whatever was not already written into the run record by the job itself.
    const cost = db.drain();
    if (cost.read || cost.written) await db.batch([bump(job.week, { rows_read: cost.read, rows_written: cost.written })]);
    if (job.kind === "fanout") await db.batch([finalize(job.week)]);
  }
}

/** Marks the issue sent once every batch is settled (sent or failed for good). Safe to run any number of times. */
const finalize = (week: string): [string, ...unknown[]] => [
  `UPDATE issues SET status = CASE WHEN batches > 0 AND batches_sent = 0 THEN 'failed' ELSE 'sent' END, finished_at = ?
   WHERE week = ? AND status = 'sending' AND fanout_done = 1 AND batches_sent + failures >= batches`,
  Date.now(),
  week,
];

async function build(issue: IssueRow, env: Env, cfg: Config, db: MeteredDb): Promise<boolean> {
  const papers = await pickPapers(cfg, db, issue.week);
  if (papers.length === 0) {
    await db.batch([["UPDATE issues SET status = 'skipped', finished_at = ?, last_error = 'no papers to send' WHERE week = ? AND status = 'building'", Date.now(), issue.week]]);
    return false;
  }
  const content = await renderIssue(cfg, issue.week, papers);
  await db.batch([
    ["UPDATE issues SET status = 'sending', subject = ?, papers = ?, html = ?, text = ? WHERE week = ? AND status = 'building'", content.subject, JSON.stringify(papers), content.html, content.text, issue.week],
  ]);
  return true;
}

async function fanout(job: Extract<DigestJob, { kind: "fanout" }>, attempts: number, env: Env, cfg: Config, db: MeteredDb) {
  let issue = await getIssue(db, job.week);
  if (!issue || ["sent", "skipped", "cancelled"].includes(issue.status)) return;
  if (issue.status === "building" || issue.status === "failed") {
    if (!issue.papers && !(await build(issue, env, cfg, db))) return;
    if (issue.status === "failed") await db.batch([["UPDATE issues SET status = 'sending', last_error = NULL WHERE week = ?", job.week]]);
    issue = (await getIssue(db, job.week))!;
  }

  // After a crash or a manual re-trigger, batches recorded as queued may never have reached the queue.
  // Queuing them again is harmless: the same frozen body goes out under the same Idempotency-Key, which Resend
  // answers without sending again, and the guarded updates count a batch once.
  if (job.requeue || attempts > 1) {
    const queued = await db.all<{ id: number; batch_no: number; recipients: string }>(
      "SELECT id, batch_no, recipients FROM issue_batches WHERE week = ? AND status = 'queued'",
      job.week,
    );
    await enqueue(env, queued.map((b) => ({ kind: "batch", week: job.week, batchId: b.id, batchNo: b.batch_no, recipients: JSON.parse(b.recipients) })));
  }

  const now = Date.now();
  let cursor = issue.cursor;
  let batches = issue.batches;
  let done = issue.fanout_done === 1;
  const pending: DigestJob[] = [];
  for (let page = 0; !done && page < PAGES_PER_FANOUT; page++) {
    const recipients = await activePage(db, cursor, now, BATCH_SIZE);
    const last = recipients.length < BATCH_SIZE;
    if (recipients.length === 0) {
      await db.batch([["UPDATE issues SET fanout_done = 1 WHERE week = ? AND cursor = ?", job.week, cursor]]);
      done = true;
      break;
    }
    const next = recipients[recipients.length - 1]!.id;
    // One atomic step: the cursor moves (guarded by the value this run read, so two fan-outs of the same week can
    // never cut the same subscribers twice), and changes() tells the insert whether it moved, so the frozen batch
    // row exists only if this fan-out cut these subscribers. No RETURNING: D1 bills a read per returned row.
    const [, inserted] = await db.batch([
      [
        "UPDATE issues SET cursor = ?, batches = batches + 1, recipients = recipients + ?, fanout_done = ? WHERE week = ? AND cursor = ?",
        next,
        recipients.length,
        last ? 1 : 0,
        job.week,
        cursor,
      ],
      ["INSERT INTO issue_batches (week, batch_no, recipients, status) SELECT ?, ?, ?, 'queued' WHERE changes() = 1", job.week, batches + 1, JSON.stringify(recipients)],
    ]);
    const row = inserted!.meta.changes ? { id: inserted!.meta.last_row_id } : undefined;
    if (!row) {
      // Another fan-out moved the cursor first and carries on; queue what this one already cut.
      await enqueue(env, pending);
      return;
    }
    batches++;
    pending.push({ kind: "batch", week: job.week, batchId: row.id, batchNo: batches, recipients });
    cursor = next;
    done = last;
    if (pending.length >= MESSAGES_PER_SEND) await enqueue(env, pending.splice(0));
  }
  await enqueue(env, pending);
  if (!done) await env.DIGEST_QUEUE.send({ kind: "fanout", week: job.week }); // more subscribers than one invocation should cut
}

async function enqueue(env: Env, jobs: DigestJob[]) {
  for (let i = 0; i < jobs.length; i += MESSAGES_PER_SEND) {
    await env.DIGEST_QUEUE.sendBatch(jobs.slice(i, i + MESSAGES_PER_SEND).map((body) => ({ body })));
  }
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

/** After the batch's own update, counters and this invocation's D1 cost land in one statement on the issue row. */
async function settleBatch(db: MeteredDb, week: string, batchUpdate: [string, ...unknown[]], counters: string, ...params: unknown[]) {
  // The two statements themselves each read and write exactly one row; they are counted here, in advance.
  const cost = db.drain();
  const results = await db.batch([
    batchUpdate,
    [`UPDATE issues SET ${counters}, rows_read = rows_read + ?, rows_written = rows_written + ? WHERE week = ?`, ...params, cost.read + 2, cost.written + 2, week],
  ]);
  db.drain(); // already in the record: counting them again would cost another write to the run record
  return results;
}

async function sendBatch(job: Extract<DigestJob, { kind: "batch" }>, attempts: number, env: Env, cfg: Config, db: MeteredDb): Promise<number | undefined> {
  // Paused (complaint breaker or operator) or cancelled: leave the batch queued; a resume re-queues it.
  const state = await db.first<{ status: string }>("SELECT status FROM issues WHERE week = ?", job.week);
  if (state?.status !== "sending") return;
  const issue = await issueContent(db, job.week);
  if (!issue) return;

  // The batch's own status is not read first: a duplicate message (after a crash) is answered by Resend's
  // Idempotency-Key with the original response, and the guarded updates below count the batch once.
  const emails = await personalEmails(cfg, issue, job.recipients);
  const answered = await pace(cfg.resendMaxRps);
  let outcome: SendOutcome | undefined;
  try {
    outcome = await mailerFor(env, cfg).send(emails, `digest/${job.week}/${job.batchNo}`);
  } finally {
    answered(outcome && !outcome.ok && outcome.status === 429 ? outcome.retryAfterSec : undefined);
  }
  const now = Date.now();
  if (outcome.ok) {
    // changes() is the row count of the statement before it in this batch: 1 only if this attempt marked the batch
    // sent. The same statement finishes the issue when this was its last unsettled batch (SET sees the old row).
    const last = "status = 'sending' AND fanout_done = 1 AND batches_sent + (changes() > 0) + failures >= batches";
    await settleBatch(
      db,
      job.week,
      ["UPDATE issue_batches SET status = 'sent', sent_at = ?, attempts = attempts + 1 WHERE id = ? AND status = 'queued'", now, job.batchId],
      `api_calls = api_calls + 1, batches_sent = batches_sent + (changes() > 0), sent = sent + (changes() > 0) * ?,
       status = CASE WHEN ${last} THEN 'sent' ELSE status END, finished_at = CASE WHEN ${last} THEN ? ELSE finished_at END`,
      emails.length,
      now,
    );
    return;
  }
  const error = `${outcome.code}${outcome.status ? ` (HTTP ${outcome.status})` : ""}: ${outcome.message}`.slice(0, 500);
  if (outcome.retryable) {
    await settleBatch(db, job.week, ["UPDATE issue_batches SET attempts = attempts + 1, error = ? WHERE id = ?", error, job.batchId], "api_calls = api_calls + 1, retries = retries + 1");
    return Math.ceil(outcome.retryAfterSec ?? Math.min(2 ** attempts, 300));
  }
  console.error("digest: batch failed for good", { week: job.week, batch: job.batchNo, code: outcome.code, status: outcome.status });
  await settleBatch(
    db,
    job.week,
    ["UPDATE issue_batches SET status = 'failed', attempts = attempts + 1, error = ? WHERE id = ? AND status = 'queued'", error, job.batchId],
    "api_calls = api_calls + 1, failures = failures + (changes() > 0), last_error = ?",
    error,
  );
  await db.batch([finalize(job.week)]);
}

/** Consumes DIGEST_QUEUE; each message is acked, retried or left to its own backoff independently. */
export async function consumeDigest(batch: MessageBatch<DigestJob>, env: Env, cfg: Config) {
  for (const msg of batch.messages) {
    try {
      const retryIn = await handleDigestJob(msg.body, msg.attempts, env, cfg);
      if (retryIn === undefined) msg.ack();
      else msg.retry({ delaySeconds: retryIn });
    } catch (err) {
      console.error("digest: job failed, will retry", { kind: msg.body.kind, week: msg.body.week, attempts: msg.attempts, error: String(err) });
      if (msg.body.kind === "fanout") await recordError(env, msg.body.week, String(err));
      msg.retry({ delaySeconds: backoffSeconds(msg.attempts) });
    }
  }
}

async function recordError(env: Env, week: string, error: string) {
  await env.DB.prepare("UPDATE issues SET last_error = ? WHERE week = ?").bind(error.slice(0, 500), week).run().catch(() => undefined);
}
