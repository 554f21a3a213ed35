import type { Config } from "../config";
import type { Paper } from "../papers/paper";
import { buildIssue } from "./build";
import { parseEdition } from "./cadence";
import { personalTopSize } from "./emails";
import { frozenPapers, type IssueRow, reopenFailed } from "./issues";
import type { DigestJob } from "./jobs";
import { CUT_MARGIN_MS } from "./send";
import { activePage, type ForYouPick, type MeteredDb, type Recipient, type Statement } from "./store";
import { hasPreferences, parseTaste, pickForYou } from "./taste";

export const BATCH_SIZE = 100; // Resend's batch endpoint takes up to 100 emails
const BATCHES_PER_CUT = 5; // one read and one D1 transaction cut 500 subscribers into 5 batches
const CUTS_PER_FANOUT = 10; // 5,000 subscribers per fan-out invocation, then it continues in a new message
// Queue sendBatch takes at most 100 messages and 256 KB; a batch message carries ids only (under 100 bytes).
const MESSAGES_PER_SEND = 100;

/** What the fan-out needs to know of the issue (one metered read). */
const fanoutState = (db: MeteredDb, week: string) =>
  db.first<Pick<IssueRow, "status" | "cursor" | "batches" | "fanout_done"> & { built: number }>(
    "SELECT status, cursor, batches, fanout_done, papers IS NOT NULL AS built FROM issues WHERE week = ?",
    week,
  );

/**
 * Claims the next page of subscribers for the issue: the cursor moves (guarded by the value this run read, so two
 * fan-outs of the same week can never cut the same subscribers twice), and changes() chains through the inserts (each
 * inserts its one row only if the statement before it changed one), so the frozen batch rows exist only if this
 * fan-out cut these subscribers. No RETURNING: D1 bills a read per returned row. Returns the new batch ids, or null
 * when another fan-out moved the cursor first.
 */
async function claimPage(
  db: MeteredDb,
  page: { week: string; cursor: number; next: number; batchesBefore: number; last: boolean; cutAt: number },
  lists: unknown[][],
): Promise<number[] | null> {
  const { week, cursor } = page;
  const results = await db.batch([
    [
      "UPDATE issues SET cursor = ?, batches = batches + ?, recipients = recipients + ?, fanout_done = ? WHERE week = ? AND cursor = ?",
      page.next,
      lists.length,
      lists.reduce((n, l) => n + l.length, 0),
      page.last ? 1 : 0,
      week,
      cursor,
    ],
    ...lists.map(
      (list, i): Statement => [
        "INSERT INTO issue_batches (week, batch_no, recipients, status, cut_at) SELECT ?, ?, ?, 'queued', ? WHERE changes() = 1",
        week,
        page.batchesBefore + i + 1,
        JSON.stringify(list),
        page.cutAt,
      ],
    ),
  ]);
  if (!results[1]?.meta.changes) return null;
  return results.slice(1).map((r) => r.meta.last_row_id);
}

/** Every active subscriber is in a batch (nobody after the cursor). */
const markFanoutDone = (week: string, cursor: number) =>
  ["UPDATE issues SET fanout_done = 1 WHERE week = ? AND cursor = ?", week, cursor] satisfies Statement;

/**
 * One fan-out message: builds the issue if needed, then cuts the next pages of active subscribers into frozen
 * batches of 100 and queues one id-only message per batch; past CUTS_PER_FANOUT pages it continues in a new message.
 */
export async function fanout(
  job: Extract<DigestJob, { kind: "fanout" }>,
  attempts: number,
  env: Env,
  cfg: Config,
  db: MeteredDb,
) {
  const { week } = job;
  let issue = await fanoutState(db, week);
  if (!issue || ["sent", "skipped", "cancelled"].includes(issue.status)) return;
  if (issue.status === "building" || issue.status === "failed") {
    if (!issue.built && !(await buildIssue(cfg, db, week))) return;
    if (issue.status === "failed") await db.batch([reopenFailed(week)]);
    issue = (await fanoutState(db, week))!;
  }

  // After a crash or a manual re-trigger, batches recorded as queued may never have reached the queue. Queuing
  // them again is harmless: a batch is claimed by one sender at a time, and its key and frozen list decide what
  // Resend may still send (see src/digest/send.ts).
  if (job.requeue || attempts > 1) {
    const queued = await db.all<{ id: number }>(
      "SELECT id FROM issue_batches WHERE week = ? AND status = 'queued'",
      week,
    );
    await enqueue(
      env,
      queued.map((b) => ({ kind: "batch", week, batchId: b.id })),
    );
  }

  const edition = parseEdition(week)!;
  const forYou = await forYouPicker(cfg, db, week);
  const now = Date.now();
  let { cursor, batches } = issue;
  let done = issue.fanout_done === 1;
  const pending: DigestJob[] = [];
  for (let cut = 0; !done && cut < CUTS_PER_FANOUT; cut++) {
    // The cut time is taken before the read (less a margin for clock skew with D1): whoever leaves after it is
    // dropped from the batch before it is sent (departures, src/digest/send.ts).
    const cutAt = Date.now() - CUT_MARGIN_MS;
    const page = await activePage(db, edition, cursor, now, BATCH_SIZE * BATCHES_PER_CUT);
    // Each reader's "For you" is chosen here and frozen with them, so every retry of their batch sends the same email.
    const recipients = page.map(({ topics, taste, ...r }): Recipient => {
      const f = forYou?.(topics, taste);
      return f?.length ? { ...r, f } : r;
    });
    if (recipients.length === 0) {
      await db.batch([markFanoutDone(week, cursor)]);
      done = true;
      break;
    }
    const last = recipients.length < BATCH_SIZE * BATCHES_PER_CUT;
    const next = recipients[recipients.length - 1]!.id;
    const lists = Array.from({ length: Math.ceil(recipients.length / BATCH_SIZE) }, (_, i) =>
      recipients.slice(i * BATCH_SIZE, (i + 1) * BATCH_SIZE),
    );
    const ids = await claimPage(db, { week, cursor, next, batchesBefore: batches, last, cutAt }, lists);
    if (!ids) {
      // Another fan-out moved the cursor first and carries on; queue what this one already cut.
      await enqueue(env, pending);
      return;
    }
    for (const batchId of ids) pending.push({ kind: "batch", week, batchId });
    batches += lists.length;
    cursor = next;
    done = last;
    if (pending.length >= MESSAGES_PER_SEND) await enqueue(env, pending.splice(0, MESSAGES_PER_SEND));
  }
  await enqueue(env, pending);
  if (!done) await env.DIGEST_QUEUE.send({ kind: "fanout", week }); // more subscribers than one invocation should cut
}

/**
 * Chooses a reader's "For you" from the issue's papers after the (shorter) personal top: null when For you is off
 * (FOR_YOU_SIZE=0) or the issue has nothing beyond its top. A reader without topics or ratings gets no picks (the
 * global edition); so does one whom nothing in the week matches.
 */
async function forYouPicker(cfg: Config, db: MeteredDb, week: string) {
  if (cfg.forYouSize === 0) return null;
  const frozen = await frozenPapers(db, week);
  if (!frozen?.papers) return null;
  const papers = JSON.parse(frozen.papers) as Paper[];
  const all = [...papers, ...(frozen.pool ? (JSON.parse(frozen.pool) as Paper[]) : [])].map((p) => ({
    ...p,
    keywords: p.keywords ?? [],
    topics: p.topics ?? [],
  }));
  const top = personalTopSize(cfg, papers.length);
  const candidates = all.slice(top);
  if (candidates.length === 0) return null;
  const index = new Map(candidates.map((p, i) => [p, top + i]));
  const exclude = new Set(all.slice(0, top).map((p) => p.id));
  return (topicsJson: string | null, tasteJson: string | null): ForYouPick[] => {
    const topics = parseTopics(topicsJson);
    const taste = parseTaste(tasteJson);
    if (!hasPreferences({ topics, taste })) return [];
    return pickForYou(candidates, { topics, taste }, { exclude, size: cfg.forYouSize }).map(
      ({ paper, why }): ForYouPick => [index.get(paper)!, ...why],
    );
  };
}

/** The reader's topics as stored (JSON text of ids); anything else reads as none. */
function parseTopics(json: string | null): string[] {
  if (!json) return [];
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((t): t is string => typeof t === "string").slice(0, 32) : [];
  } catch {
    return [];
  }
}

async function enqueue(env: Env, jobs: DigestJob[]) {
  for (let i = 0; i < jobs.length; i += MESSAGES_PER_SEND) {
    await env.DIGEST_QUEUE.sendBatch(jobs.slice(i, i + MESSAGES_PER_SEND).map((body) => ({ body })));
  }
}
