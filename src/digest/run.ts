import type { Config } from "../config";
import { backoffSec } from "../mail/deliver";
import { CUT_MARGIN_MS, finalize, sendIssueBatches } from "./batch";
import { pickPapers, renderIssue } from "./issue";
import type { DigestJob } from "./jobs";
import { activePage, bump, createIssue, getIssue, type IssueRow, MeteredDb } from "./store";

export const BATCH_SIZE = 100; // Resend's batch endpoint takes up to 100 emails
const BATCHES_PER_CUT = 5; // one read and one D1 transaction cut 500 subscribers into 5 batches
const CUTS_PER_FANOUT = 10; // 5,000 subscribers per fan-out invocation, then it continues in a new message
// Queue sendBatch takes at most 100 messages and 256 KB; a batch message carries ids only (under 100 bytes).
const MESSAGES_PER_SEND = 100;

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
export async function handleDigestJob(
  job: DigestJob,
  attempts: number,
  env: Env,
  cfg: Config,
): Promise<number | undefined> {
  const db = new MeteredDb(env.DB);
  try {
    if (job.kind === "fanout") await fanout(job, attempts, env, cfg, db);
    else return (await sendIssueBatches(job.week, [{ batchId: job.batchId, attempts }], env, cfg, db)).get(job.batchId);
  } finally {
    // Whatever was not already written into the run record by the job itself.
    const cost = db.drain();
    if (cost.read || cost.written)
      await db.batch([bump(job.week, { rows_read: cost.read, rows_written: cost.written })]);
    if (job.kind === "fanout") await db.batch([finalize(job.week)]);
  }
}

async function build(issue: IssueRow, _env: Env, cfg: Config, db: MeteredDb): Promise<boolean> {
  const papers = await pickPapers(cfg, db, issue.week);
  if (papers.length === 0) {
    await db.batch([
      [
        "UPDATE issues SET status = 'skipped', finished_at = ?, last_error = 'no papers to send' WHERE week = ? AND status = 'building'",
        Date.now(),
        issue.week,
      ],
    ]);
    return false;
  }
  const content = await renderIssue(cfg, issue.week, papers);
  await db.batch([
    [
      "UPDATE issues SET status = 'sending', subject = ?, papers = ?, html = ?, text = ? WHERE week = ? AND status = 'building'",
      content.subject,
      JSON.stringify(papers),
      content.html,
      content.text,
      issue.week,
    ],
  ]);
  return true;
}

async function fanout(
  job: Extract<DigestJob, { kind: "fanout" }>,
  attempts: number,
  env: Env,
  cfg: Config,
  db: MeteredDb,
) {
  let issue = await getIssue(db, job.week);
  if (!issue || ["sent", "skipped", "cancelled"].includes(issue.status)) return;
  if (issue.status === "building" || issue.status === "failed") {
    if (!issue.papers && !(await build(issue, env, cfg, db))) return;
    if (issue.status === "failed")
      await db.batch([["UPDATE issues SET status = 'sending', last_error = NULL WHERE week = ?", job.week]]);
    issue = (await getIssue(db, job.week))!;
  }

  // After a crash or a manual re-trigger, batches recorded as queued may never have reached the queue. Queuing
  // them again is harmless: a batch is claimed by one sender at a time, and its key and frozen list decide what
  // Resend may still send (see src/digest/batch.ts).
  if (job.requeue || attempts > 1) {
    const queued = await db.all<{ id: number }>(
      "SELECT id FROM issue_batches WHERE week = ? AND status = 'queued'",
      job.week,
    );
    await enqueue(
      env,
      queued.map((b) => ({ kind: "batch", week: job.week, batchId: b.id })),
    );
  }

  const now = Date.now();
  let cursor = issue.cursor;
  let batches = issue.batches;
  let done = issue.fanout_done === 1;
  const pending: DigestJob[] = [];
  for (let cut = 0; !done && cut < CUTS_PER_FANOUT; cut++) {
    // The cut time is taken before the read (less a margin for clock skew with D1): whoever leaves after it is
    // dropped from the batch before it is sent (departures, src/digest/batch.ts).
    const cutAt = Date.now() - CUT_MARGIN_MS;
    const recipients = await activePage(db, cursor, now, BATCH_SIZE * BATCHES_PER_CUT);
    if (recipients.length === 0) {
      await db.batch([["UPDATE issues SET fanout_done = 1 WHERE week = ? AND cursor = ?", job.week, cursor]]);
      done = true;
      break;
    }
    const last = recipients.length < BATCH_SIZE * BATCHES_PER_CUT;
    const next = recipients[recipients.length - 1]!.id;
    const lists = Array.from({ length: Math.ceil(recipients.length / BATCH_SIZE) }, (_, i) =>
      recipients.slice(i * BATCH_SIZE, (i + 1) * BATCH_SIZE),
    );
    // One atomic step: the cursor moves (guarded by the value this run read, so two fan-outs of the same week can
    // never cut the same subscribers twice), and changes() chains through the inserts (each inserts its one row only
    // if the statement before it changed one), so the frozen batch rows exist only if this fan-out cut these
    // subscribers. No RETURNING: D1 bills a read per returned row.
    const results = await db.batch([
      [
        "UPDATE issues SET cursor = ?, batches = batches + ?, recipients = recipients + ?, fanout_done = ? WHERE week = ? AND cursor = ?",
        next,
        lists.length,
        recipients.length,
        last ? 1 : 0,
        job.week,
        cursor,
      ],
      ...lists.map((list, i): [string, ...unknown[]] => [
        "INSERT INTO issue_batches (week, batch_no, recipients, status, cut_at) SELECT ?, ?, ?, 'queued', ? WHERE changes() = 1",
        job.week,
        batches + i + 1,
        JSON.stringify(list),
        cutAt,
      ]),
    ]);
    if (!results[1]!.meta.changes) {
      // Another fan-out moved the cursor first and carries on; queue what this one already cut.
      await enqueue(env, pending);
      return;
    }
    for (const r of results.slice(1)) pending.push({ kind: "batch", week: job.week, batchId: r.meta.last_row_id });
    batches += lists.length;
    cursor = next;
    done = last;
    if (pending.length >= MESSAGES_PER_SEND) await enqueue(env, pending.splice(0, MESSAGES_PER_SEND));
  }
  await enqueue(env, pending);
  if (!done) await env.DIGEST_QUEUE.send({ kind: "fanout", week: job.week }); // more subscribers than one invocation should cut
}

async function enqueue(env: Env, jobs: DigestJob[]) {
  for (let i = 0; i < jobs.length; i += MESSAGES_PER_SEND) {
    await env.DIGEST_QUEUE.sendBatch(jobs.slice(i, i + MESSAGES_PER_SEND).map((body) => ({ body })));
  }
}

/**
 * Consumes DIGEST_QUEUE. The batch messages of one delivery are handled together, per issue (one claim, one
 * re-check; each batch then waits for its own slot of the shared budget, so the calls fill the rate Resend
 * allows); every message is acked, retried or left to its own backoff.
 */
export async function consumeDigest(batch: MessageBatch<DigestJob>, env: Env, cfg: Config) {
  const byWeek = new Map<string, Message<Extract<DigestJob, { kind: "batch" }>>[]>();
  const fanouts: Message<Extract<DigestJob, { kind: "fanout" }>>[] = [];
  for (const msg of batch.messages) {
    const body = msg.body as Partial<DigestJob> | undefined;
    if (body?.kind === "batch" && typeof body.week === "string" && Number.isSafeInteger(body.batchId)) {
      const list = byWeek.get(body.week) ?? [];
      list.push(msg as Message<Extract<DigestJob, { kind: "batch" }>>);
      byWeek.set(body.week, list);
    } else if (body?.kind === "fanout" && typeof body.week === "string")
      fanouts.push(msg as Message<Extract<DigestJob, { kind: "fanout" }>>);
    else {
      console.error("digest: unknown message dropped", { kind: String(body?.kind).slice(0, 20) });
      msg.ack();
    }
  }
  const fail = (msgs: Message<DigestJob>[], week: string, err: unknown) => {
    console.error("digest: job failed, will retry", { week, messages: msgs.length, error: String(err) });
    for (const m of msgs) m.retry({ delaySeconds: backoffSec(m.attempts + 4) });
  };
  await Promise.all([
    ...fanouts.map(async (msg) => {
      try {
        await handleDigestJob(msg.body, msg.attempts, env, cfg);
        msg.ack();
      } catch (err) {
        await recordError(env, msg.body.week, String(err));
        fail([msg], msg.body.week, err);
      }
    }),
    ...[...byWeek].map(async ([week, msgs]) => {
      const db = new MeteredDb(env.DB);
      try {
        const results = await sendIssueBatches(
          week,
          msgs.map((m) => ({ batchId: m.body.batchId, attempts: m.attempts })),
          env,
          cfg,
          db,
        );
        for (const m of msgs) {
          const retryIn = results.get(m.body.batchId);
          if (retryIn === undefined) m.ack();
          else m.retry({ delaySeconds: Math.min(retryIn, 43_200) });
        }
      } catch (err) {
        fail(msgs, week, err);
      } finally {
        const cost = db.drain();
        if (cost.read || cost.written)
          await db.batch([bump(week, { rows_read: cost.read, rows_written: cost.written })]).catch(() => undefined);
      }
    }),
  ]);
}

async function recordError(env: Env, week: string, error: string) {
  await env.DB.prepare("UPDATE issues SET last_error = ? WHERE week = ?")
    .bind(error.slice(0, 500), week)
    .run()
    .catch(() => undefined);
}
