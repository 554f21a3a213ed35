import { Hono } from "hono";
import { validator } from "hono/validator";
import { pickPapers, renderIssue } from "../digest/build";
import { parseEdition } from "../digest/cadence";
import {
  cancel,
  getIssue,
  type Issue,
  listIssues,
  pause,
  resume,
  retryFailed,
  startIssue,
  type Transition,
} from "../digest/issues";
import { MeteredDb } from "../digest/store";
import { readFields } from "../lib/body";
import { checkEmail } from "../lib/email";
import { applyPolicy } from "../lib/headers";
import { ApiError, type AppEnv, type Ctx, limitBody } from "../lib/http";
import { formatWeek, previousWeek } from "../lib/week";
import { mailerFor } from "../mail";
import { freezeItems, sendMailBatch } from "../mail/batches";

/** Operator tools for the weekly issues and daily editions, mounted at /admin/digests (behind adminAuth): run records, preview, test send, send now, and the controls of a running send. */
export const digests = new Hono<AppEnv>();

/** The run record the admin API answers: the issue's state, counters and D1 cost. */
export function runRecord(r: Issue) {
  return {
    week: r.week,
    status: r.status,
    subject: r.subject,
    papers: (r.papers ?? []).map((p) => ({ id: p.id, title: p.title, upvotes: p.upvotes })),
    recipients: r.recipients,
    dropped: r.dropped,
    rejected: r.rejected,
    batches: r.batches,
    batches_sent: r.batchesSent,
    sent: r.sent,
    api_calls: r.apiCalls,
    retries: r.retries,
    failures: r.failures,
    rows_read: r.rowsRead,
    rows_written: r.rowsWritten,
    fanout_done: r.fanoutDone,
    delivered: r.delivered,
    bounced: r.bounced,
    complained: r.complained,
    paused_reason: r.pausedReason,
    last_error: r.lastError,
    started_at: new Date(r.startedAt).toISOString(),
    finished_at: r.finishedAt ? new Date(r.finishedAt).toISOString() : null,
  };
}

/**
 * An edition that has ended — a past ISO week (a weekly issue, "2026-W47") or a past UTC day (a daily edition,
 * "2026-11-30"): the only kind an issue can be about. The parameter keeps its name `week`.
 */
const endedWeek = validator("param", ({ week = "" }) => {
  const edition = parseEdition(week);
  if (!edition)
    throw new ApiError(
      400,
      "invalid_week",
      "Issues are named by ISO week (2026-W47) and daily editions by UTC day (2026-11-30).",
    );
  const now = new Date();
  const over =
    edition.cadence === "daily" ? week < now.toISOString().slice(0, 10) : week <= formatWeek(previousWeek(now));
  if (!over) throw new ApiError(422, "week_not_over", `${week} has not ended yet.`);
  return { week };
});

/**
 * The issue's content with non-personal links: from its frozen papers when it exists (as its emails are rendered),
 * otherwise from the paper source now (nothing stored).
 */
async function content(c: Ctx, week: string) {
  const cfg = c.get("cfg");
  const issue = await getIssue(c.env.DB, week);
  if (issue?.papers) return renderIssue(cfg, week, issue.papers);
  const papers = await pickPapers(cfg, new MeteredDb(c.env.DB), week);
  if (papers.length === 0) throw new ApiError(404, "no_papers", `No papers to send for ${week}.`);
  return renderIssue(cfg, week, papers);
}

digests.get("/", async (c) => {
  return c.json({ issues: (await listIssues(c.env.DB)).map(runRecord) });
});

digests.get("/:week", endedWeek, async (c) => {
  const issue = await getIssue(c.env.DB, c.req.valid("param").week);
  if (!issue) throw new ApiError(404, "not_found", "No issue for that week yet.");
  return c.json(runRecord(issue));
});

digests.get("/:week/preview", endedWeek, async (c) => {
  const { html } = await content(c, c.req.valid("param").week);
  applyPolicy(c, "emailPreview");
  return c.html(html);
});

digests.post("/:week/test", endedWeek, limitBody(4096), async (c) => {
  const week = c.req.valid("param").week;
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

digests.post("/:week/send", endedWeek, async (c) => {
  const issue = await startIssue(c.env, c.req.valid("param").week);
  return c.json(runRecord(issue), 202);
});

/** Operator controls of a running send: the run record, or 409 when the issue is not in a state that allows it. */
function answer(t: Transition, allowedFrom: string): Issue {
  if (t.ok) return t.issue;
  if (!t.issue) throw new ApiError(404, "not_found", "No issue for that week yet.");
  throw new ApiError(409, "invalid_state", `The issue is ${t.issue.status}; this needs it ${allowedFrom}.`);
}

digests.post("/:week/pause", endedWeek, async (c) =>
  c.json(runRecord(answer(await pause(c.env.DB, c.req.valid("param").week), "sending"))),
);

digests.post("/:week/resume", endedWeek, async (c) =>
  c.json(runRecord(answer(await resume(c.env, c.req.valid("param").week), "paused")), 202),
);

digests.post("/:week/cancel", endedWeek, async (c) =>
  c.json(runRecord(answer(await cancel(c.env.DB, c.req.valid("param").week), "building, sending or paused"))),
);

/**
 * Puts an issue's failed batches back in the queue (once: a second call finds none). A batch that Resend refused is
 * re-checked and frozen under a new key; one that may have gone out is resent under its own key.
 */
digests.post("/:week/retry-failed", endedWeek, async (c) => {
  const week = c.req.valid("param").week;
  const issue = await getIssue(c.env.DB, week);
  if (!issue) throw new ApiError(404, "not_found", "No issue for that week yet.");
  if (issue.status === "cancelled") throw new ApiError(409, "invalid_state", "The issue was cancelled.");
  const retried = await retryFailed(c.env, week);
  if (!retried) throw new ApiError(409, "nothing_to_retry", "The issue has no failed batches.");
  return c.json({ ...runRecord(retried.issue), requeued_batches: retried.requeued }, 202);
});
