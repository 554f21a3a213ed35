import type { Config } from "../config";
import { mailerFor } from "../mail";
import { type Delivery, deliver } from "../mail/deliver";
import { quotaReason } from "../mail/parked";
import { emailsFor, issueEmails } from "./emails";
import { countDropped, finalize, issueStatus, pauseSending, settleBatch } from "./issues";
import type { MeteredDb, Recipient, Statement } from "./store";

/*
 * Sends the frozen batches of an issue (see issueBatches in src/db/schema.ts for the attempt rules).
 * A batch costs, in the usual case, four D1 rows read and three written: its row, its claim, its outcome and the
 * issue's counters (the last two in one D1 batch); a queue delivery adds one read of the issue and one of departures.
 */

/** How long one sender holds a batch: longer than a Resend call may take (30 s) plus a wait for a budget slot. */
const LEASE_MS = 120_000;
/** Departures are compared with cut times from the Worker's clock; D1's may differ a little. */
export const CUT_MARGIN_MS = 60_000;
/** The digest queue's max_retries (wrangler.toml): a batch still not sent at its last delivery is marked failed. */
export const DIGEST_MAX_ATTEMPTS = 100;

export const batchKey = (week: string, batchNo: number, version: number) =>
  `digest/${week}/${batchNo}${version > 0 ? `/v${version}` : ""}`;

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

/**
 * Sends (or resends) the batches of one issue that one queue delivery brought (up to max_batch_size): one read of
 * the issue, each batch read and claimed (it then belongs to this sender until settled or its lease runs out), one
 * range read of departures for them all; each batch then waits for its own budget slot, makes sure the issue is still
 * sending (a pause or cancel while it waited holds it back), is sent and settled. Returns, per batch id, a delay in seconds
 * when the queue should deliver its message again, or undefined when the message is done (sent, failed for good, or
 * left for a resume to re-queue).
 */
/** How old the delivery's last look at its issue's status may be when a batch is about to go out. */
const RECHECK_MS = 250;

export async function sendIssueBatches(
  week: string,
  jobs: { batchId: number; attempts: number }[],
  env: Env,
  cfg: Config,
  db: MeteredDb,
): Promise<Map<number, number | undefined>> {
  const result = new Map<number, number | undefined>(jobs.map((j) => [j.batchId, undefined]));
  // Paused (complaint breaker, quota, operator) or cancelled: leave the batches queued; a resume re-queues them.
  if ((await issueStatus(db, week)) !== "sending") return result;
  let sendingAt = Date.now();
  /**
   * Still sending? Asked again once a batch has its slot: a pause or cancel while it waited holds it back. Read at
   * most once per RECHECK_MS for the whole delivery (a slot granted at once needs no second look).
   */
  const stillSending = async () => {
    if (Date.now() - sendingAt < RECHECK_MS) return true;
    if ((await issueStatus(db, week)) !== "sending") return false;
    sendingAt = Date.now();
    return true;
  };
  const issue = await issueEmails(cfg, db, week);
  if (!issue) return result;

  // Each batch is read, then claimed: the claim marks it attempted before anything is sent (a crash from here on
  // leaves it ambiguous: only its frozen body may follow), guarded by what was read, so one sender at a time has it.
  // One statement per batch: D1 bills a statement on many rows (IN lists, RETURNING) at more than a row each.
  const now = Date.now();
  const claimed: BatchRow[] = [];
  await Promise.all(
    jobs.map(async ({ batchId }) => {
      const row = await db.first<BatchRow>(
        "SELECT id, week, batch_no, recipients, status, version, state, lease_until, cut_at FROM issue_batches WHERE id = ?",
        batchId,
      );
      if (!row || row.week !== week || row.status !== "queued") return; // sent or cancelled already: done
      if ((row.lease_until ?? 0) > now) return void result.set(batchId, 10); // another sender holds it
      const [claim] = await db.batch([
        [
          `UPDATE issue_batches SET state = 'attempted', lease_until = ?, attempts = attempts + 1
           WHERE id = ? AND status = 'queued' AND version = ? AND state = ? AND coalesce(lease_until, 0) <= ?`,
          now + LEASE_MS,
          row.id,
          row.version,
          row.state,
          now,
        ],
      ]);
      if (claim!.meta.changes) claimed.push(row);
      else result.set(batchId, 10);
    }),
  );
  if (claimed.length === 0) return result;

  // Re-check the lists that may still change: whoever left after the cut is dropped, the rest frozen under the
  // next key (one range read of departures for the whole delivery).
  const lists = new Map(claimed.map((c) => [c.id, JSON.parse(c.recipients) as Recipient[]]));
  const open = claimed.filter((c) => c.state === "ready" && lists.get(c.id)!.length > 0);
  const refrozen: Statement[] = [];
  const dropped = new Map<number, number>();
  if (open.length > 0) {
    const allIds = open.flatMap((c) => lists.get(c.id)!.map((r) => r.id));
    const departed = await db.all<{ subscriber_id: number; at: number }>(
      "SELECT subscriber_id, at FROM departures WHERE subscriber_id BETWEEN ? AND ? AND at >= ?",
      Math.min(...allIds),
      Math.max(...allIds),
      Math.min(...open.map((c) => c.cut_at)),
    );
    const leftAt = new Map(departed.map((d) => [d.subscriber_id, d.at]));
    for (const c of open) {
      const list = lists.get(c.id)!;
      const kept = list.filter((r) => !((leftAt.get(r.id) ?? -Infinity) >= c.cut_at));
      if (kept.length === list.length) continue;
      c.version++;
      lists.set(c.id, kept);
      dropped.set(c.id, list.length - kept.length);
      refrozen.push([
        "UPDATE issue_batches SET recipients = ?, version = ? WHERE id = ?",
        JSON.stringify(kept),
        c.version,
        c.id,
      ]);
    }
    if (refrozen.length > 0)
      refrozen.push(
        countDropped(
          week,
          [...dropped.values()].reduce((a, b) => a + b, 0),
        ),
      );
    if (refrozen.length > 0) await db.batch(refrozen);
  }

  await Promise.all(
    claimed.map(async (c) => {
      const list = lists.get(c.id)!;
      const attempts = jobs.find((j) => j.batchId === c.id)!.attempts;
      try {
        // Rendered before the slot is asked for: a slot counts from its grant, so it should cover the call only.
        const prepared = { key: batchKey(week, c.batch_no, c.version), emails: await emailsFor(cfg, issue, list) };
        const outcome: Delivery =
          list.length === 0
            ? { kind: "skipped", why: "empty" }
            : await deliver(env, cfg, mailerFor(env, cfg), "digest", attempts, async () =>
                (await stillSending()) ? prepared : { skipped: "halted" },
              );
        result.set(c.id, await settleOutcome(db, week, c.id, c.version, c.state, outcome, attempts));
      } catch (err) {
        // Left claimed and attempted (a call may have gone out): after its lease, the same body under the same key.
        console.error("digest: batch send failed, will retry", { week, batchId: c.id, attempts, error: String(err) });
        result.set(c.id, Math.ceil(LEASE_MS / 1000));
      }
    }),
  );
  return result;
}

async function settleOutcome(
  db: MeteredDb,
  week: string,
  batchId: number,
  version: number,
  priorState: "ready" | "attempted",
  outcome: Delivery,
  attempts: number,
): Promise<number | undefined> {
  const now = Date.now();
  const markSent = (accepted: number, rejected: number, error: string | null, apiCall: 0 | 1) =>
    settleBatch(
      db,
      week,
      [
        "UPDATE issue_batches SET status = 'sent', sent_at = ?, lease_until = NULL, rejected = ?, error = ? WHERE id = ? AND status = 'queued'",
        now,
        rejected,
        error,
        batchId,
      ],
      // changes() is the row count of the statement before it in this batch: 1 only if this attempt marked it sent.
      `api_calls = api_calls + ${apiCall}, batches_sent = batches_sent + (changes() > 0), sent = sent + (changes() > 0) * ?, rejected = rejected + (changes() > 0) * ?`,
      [accepted, rejected],
      { at: now },
    );
  /** `sentNothing`: Resend refused the call for certain, so a retry may re-check the list (under a new key). */
  const markFailed = async (error: string, apiCall: 0 | 1, sentNothing: boolean) => {
    console.error("digest: batch failed for good", { week, batchId, error: error.slice(0, 200) });
    await settleBatch(
      db,
      week,
      [
        `UPDATE issue_batches SET status = 'failed', lease_until = NULL, error = ?${sentNothing ? ", state = 'ready'" : ""} WHERE id = ? AND status = 'queued'`,
        error,
        batchId,
      ],
      `api_calls = api_calls + ${apiCall}, failures = failures + (changes() > 0), last_error = ?`,
      [error],
    );
    await db.batch([finalize(week)]);
  };
  /** A retryable outcome on the queue's last delivery: recorded as failed, so retry-failed can pick it up. */
  const exhausted = attempts >= DIGEST_MAX_ATTEMPTS;

  switch (outcome.kind) {
    case "sent": {
      const rejected = outcome.rejected.map((r) => `#${r.index}: ${r.message}`);
      const note =
        outcome.note ??
        (rejected.length ? `Resend refused ${rejected.length} address(es): ${rejected.join("; ")}` : null);
      await markSent(outcome.accepted, outcome.rejected.length, note?.slice(0, 500) ?? null, 1);
      return;
    }
    case "skipped":
      // The issue stopped sending while the batch waited: nothing was sent, and the batch stays queued for a resume.
      if (outcome.why === "halted") {
        await db.batch([
          [
            "UPDATE issue_batches SET state = ?, lease_until = NULL WHERE id = ? AND version = ?",
            priorState,
            batchId,
            version,
          ],
        ]);
        return;
      }
      // Everyone on the list left before the send: the batch is done without a call.
      await markSent(0, 0, null, 0);
      return;
    case "busy":
    case "parked": {
      // Nothing was sent: the batch goes back to the state it had before this sender claimed it.
      await db.batch([
        [
          "UPDATE issue_batches SET state = ?, lease_until = NULL WHERE id = ? AND version = ?",
          priorState,
          batchId,
          version,
        ],
      ]);
      if (outcome.kind === "parked") {
        await db.batch([pauseSending(week, quotaReason(outcome.quota))]);
        return;
      }
      if (exhausted) await markFailed(`no send slot after ${attempts} attempts`, 0, priorState === "ready");
      return exhausted ? undefined : outcome.retryInSec;
    }
    case "refused":
    case "ambiguous": {
      // A refusal makes the list open to a re-check before the next attempt; after an ambiguous failure it stays frozen.
      const batchUpdate: Statement =
        outcome.kind === "refused"
          ? [
              "UPDATE issue_batches SET state = 'ready', lease_until = NULL, error = ? WHERE id = ? AND version = ?",
              outcome.error,
              batchId,
              version,
            ]
          : ["UPDATE issue_batches SET lease_until = NULL, error = ? WHERE id = ?", outcome.error, batchId];
      await settleBatch(db, week, batchUpdate, "api_calls = api_calls + 1, retries = retries + 1", []);
      if (outcome.kind === "refused" && outcome.quota) {
        await db.batch([pauseSending(week, quotaReason({ code: outcome.quota }))]);
        return;
      }
      if (exhausted) {
        await markFailed(`gave up after ${attempts} attempts: ${outcome.error}`, 0, outcome.kind === "refused");
        return;
      }
      return outcome.retryInSec;
    }
    case "failed":
      await markFailed(outcome.error, 1, true);
      return;
  }
}
