import type { QuotaPause } from "./budget";

/*
 * Work that waits for Resend's daily or monthly quota instead of being retried every few seconds: issues are paused
 * with a reason that says so, mail batches are marked parked. When the budget's probe time comes (its alarm) or an
 * operator resumes sending, they are queued again; the first call is the probe.
 */

const PREFIX = "Resend quota: ";

export const quotaReason = (q: Pick<QuotaPause, "code"> & Partial<QuotaPause>) =>
  `${PREFIX}${q.code}; sending resumes when the quota is back${q.until ? ` (next try ${new Date(q.until).toISOString()})` : ""}`;

export async function resumeParked(env: Env): Promise<{ issues: number; mailBatches: number }> {
  const [issues, batches] = await env.DB.batch<{ week?: string; id?: number }>([
    env.DB.prepare(
      "UPDATE issues SET status = 'sending', paused_reason = NULL WHERE status = 'paused' AND paused_reason LIKE ? RETURNING week",
    ).bind(`${PREFIX}%`),
    env.DB.prepare(
      "UPDATE mail_batches SET parked_at = NULL WHERE parked_at IS NOT NULL AND status = 'queued' RETURNING id",
    ),
  ]);
  for (const { week } of issues!.results) await env.DIGEST_QUEUE.send({ kind: "fanout", week: week!, requeue: true });
  const ids = batches!.results.map((r) => r.id!);
  for (let i = 0; i < ids.length; i += 100)
    await env.MAIL_QUEUE.sendBatch(
      ids.slice(i, i + 100).map((batchId) => ({ body: { kind: "batch" as const, batchId } })),
    );
  return { issues: issues!.results.length, mailBatches: ids.length };
}
