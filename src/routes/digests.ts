import { Hono } from "hono";
import { pickPapers, renderIssue } from "../digest/issue";
import { startIssue } from "../digest/run";
import { getIssue, type IssueRow, MeteredDb } from "../digest/store";
import { formatWeek, parseWeek, previousWeek } from "../digest/week";
import { readFields } from "../lib/body";
import { checkEmail } from "../lib/email";
import { ApiError, type AppEnv, type Ctx, limitBody } from "../lib/http";
import { freezeItems, sendMailBatch } from "../mail/batches";
import { mailerFor } from "../mail/mailer";
import type { Paper } from "../papers/paper";
import { adminAuth } from "./admin";

/** Operator tools for the weekly issues: run records, preview, test send, send now. */
export const digests = new Hono<AppEnv>();

digests.use("/admin/digests/*", adminAuth);

export function runRecord(r: IssueRow) {
  return {
    week: r.week,
    status: r.status,
    subject: r.subject,
    papers: r.papers
      ? (JSON.parse(r.papers) as { id: string; title: string; upvotes: number }[]).map((p) => ({
          id: p.id,
          title: p.title,
          upvotes: p.upvotes,
        }))
      : [],
    recipients: r.recipients,
    dropped: r.dropped,
    rejected: r.rejected,
    batches: r.batches,
    batches_sent: r.batches_sent,
    sent: r.sent,
    api_calls: r.api_calls,
    retries: r.retries,
    failures: r.failures,
    rows_read: r.rows_read,
    rows_written: r.rows_written,
    fanout_done: r.fanout_done === 1,
    delivered: r.delivered,
    bounced: r.bounced,
    complained: r.complained,
    paused_reason: r.paused_reason,
    last_error: r.last_error,
    started_at: new Date(r.started_at).toISOString(),
    finished_at: r.finished_at ? new Date(r.finished_at).toISOString() : null,
  };
}

/** A week that has ended: the only kind an issue can be about. */
function endedWeek(c: Ctx): string {
  const week = c.req.param("week") ?? "";
  const w = parseWeek(week);
  if (!w) throw new ApiError(400, "invalid_week", "Weeks are written like 2026-W47 (ISO 8601).");
  if (week > formatWeek(previousWeek(new Date())))
    throw new ApiError(422, "week_not_over", `${week} has not ended yet.`);
  return week;
}

/**
 * The issue's content with non-personal links: from its frozen papers when it exists (as its emails are rendered),
 * otherwise from the paper source now (nothing stored).
 */
async function content(c: Ctx, week: string) {
  const cfg = c.get("cfg");
  const db = new MeteredDb(c.env.DB);
  const issue = await getIssue(db, week);
  if (issue?.papers) return renderIssue(cfg, week, JSON.parse(issue.papers) as Paper[]);
  const papers = await pickPapers(cfg, db, week);
  if (papers.length === 0) throw new ApiError(404, "no_papers", `No papers to send for ${week}.`);
  return renderIssue(cfg, week, papers);
}

digests.get("/admin/digests", async (c) => {
  const { results } = await c.env.DB.prepare("SELECT * FROM issues ORDER BY week DESC LIMIT 200").all<IssueRow>();
  return c.json({ issues: results.map(runRecord) });
});

digests.get("/admin/digests/:week", async (c) => {
  const issue = await getIssue(new MeteredDb(c.env.DB), endedWeek(c));
  if (!issue) throw new ApiError(404, "not_found", "No issue for that week yet.");
  return c.json(runRecord(issue));
});

digests.get("/admin/digests/:week/preview", async (c) => {
  const { html } = await content(c, endedWeek(c));
  c.header(
    "Content-Security-Policy",
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'none'",
  );
  return c.html(html);
});

digests.post("/admin/digests/:week/test", limitBody(4096), async (c) => {
  const week = endedWeek(c);
  const cfg = c.get("cfg");
  const check = checkEmail((await readFields(c)).email, new Set());
  if (!check.ok) throw new ApiError(422, check.code, check.message);
  const issue = await content(c, week);
  // Frozen as a mail batch and sent through the shared budget like every other email, right away.
  const now = Date.now();
  const [id] = await freezeItems(
    c.env.DB,
    [
      {
        kind: "test",
        id: crypto.randomUUID(),
        week,
        email: check.email,
        at: now,
        subject: `[Test] ${issue.subject}`,
        html: issue.html,
        text: issue.text,
      },
    ],
    now,
  );
  const result = await sendMailBatch(c.env, cfg, mailerFor(c.env, cfg), id!, 1);
  if ("done" in result && result.done) {
    if (!result.sent)
      throw new ApiError(502, "send_failed", `Resend refused the test email: ${result.error ?? "unknown error"}`);
    return c.json({ sent: true, to: check.email });
  }
  // Not now (throttled, or Resend's quota is used up): it goes out with the mail queue as soon as it may.
  if ("retryInSec" in result)
    await c.env.MAIL_QUEUE.send({ kind: "batch", batchId: id! }, { delaySeconds: Math.min(result.retryInSec, 43_200) });
  return c.json(
    {
      sent: false,
      queued: true,
      to: check.email,
      reason: "parked" in result ? result.error : "Resend asked us to wait; the email is queued.",
    },
    202,
  );
});

digests.post("/admin/digests/:week/send", async (c) => {
  const issue = await startIssue(c.env, endedWeek(c));
  return c.json(runRecord(issue), 202);
});

/** Operator controls of a running send. Each answers the run record, or 409 when the issue is not in a state that allows it. */
async function transition(c: Ctx, statements: D1PreparedStatement[], allowedFrom: string) {
  const week = endedWeek(c);
  const results = await c.env.DB.batch(statements);
  if ((results[0]!.meta.changes ?? 0) === 0) {
    const issue = await getIssue(new MeteredDb(c.env.DB), week);
    if (!issue) throw new ApiError(404, "not_found", "No issue for that week yet.");
    throw new ApiError(409, "invalid_state", `The issue is ${issue.status}; this needs it ${allowedFrom}.`);
  }
  return (await getIssue(new MeteredDb(c.env.DB), week))!;
}

digests.post("/admin/digests/:week/pause", async (c) => {
  const week = endedWeek(c);
  const issue = await transition(
    c,
    [
      c.env.DB.prepare(
        "UPDATE issues SET status = 'paused', paused_reason = 'paused by an operator' WHERE week = ? AND status = 'sending'",
      ).bind(week),
    ],
    "sending",
  );
  return c.json(runRecord(issue));
});

digests.post("/admin/digests/:week/resume", async (c) => {
  const week = endedWeek(c);
  const issue = await transition(
    c,
    [
      c.env.DB.prepare(
        "UPDATE issues SET status = 'sending', paused_reason = NULL WHERE week = ? AND status = 'paused'",
      ).bind(week),
    ],
    "paused",
  );
  await c.env.DIGEST_QUEUE.send({ kind: "fanout", week, requeue: true });
  return c.json(runRecord(issue), 202);
});

digests.post("/admin/digests/:week/cancel", async (c) => {
  const week = endedWeek(c);
  const issue = await transition(
    c,
    [
      c.env.DB.prepare(
        "UPDATE issues SET status = 'cancelled', finished_at = ? WHERE week = ? AND status IN ('building', 'sending', 'paused')",
      ).bind(Date.now(), week),
      c.env.DB.prepare("UPDATE issue_batches SET status = 'cancelled' WHERE week = ? AND status = 'queued'").bind(week),
    ],
    "building, sending or paused",
  );
  return c.json(runRecord(issue));
});

/**
 * Puts an issue's failed batches back in the queue (once: a second call finds none). A batch that Resend refused is
 * re-checked and frozen under a new key; one that may have gone out is resent under its own key.
 */
digests.post("/admin/digests/:week/retry-failed", async (c) => {
  const week = endedWeek(c);
  const d1 = c.env.DB;
  const issue = await getIssue(new MeteredDb(d1), week);
  if (!issue) throw new ApiError(404, "not_found", "No issue for that week yet.");
  if (issue.status === "cancelled") throw new ApiError(409, "invalid_state", "The issue was cancelled.");
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
  if (ids.length === 0) throw new ApiError(409, "nothing_to_retry", "The issue has no failed batches.");
  for (let i = 0; i < ids.length; i += 100)
    await c.env.DIGEST_QUEUE.sendBatch(
      ids.slice(i, i + 100).map((batchId) => ({ body: { kind: "batch" as const, week, batchId } })),
    );
  return c.json({ ...runRecord((await getIssue(new MeteredDb(d1), week))!), requeued_batches: ids.length }, 202);
});
