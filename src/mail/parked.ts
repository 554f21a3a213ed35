/*
 * Work that waits for Resend's daily or monthly quota instead of being retried every few seconds: issues are paused
 * with a reason that says so, mail batches are marked parked. When the budget's probe time comes (its alarm) or an
 * operator resumes sending, they are queued again; the first call is the probe.
 */

export const QUOTA_REASON_PREFIX = "Resend quota: ";

export const quotaReason = (q: { code: string; until?: number }) =>
  `${QUOTA_REASON_PREFIX}${q.code}; sending resumes when the quota is back${q.until ? ` (next try ${new Date(q.until).toISOString()})` : ""}`;

/** Mail batches parked for the quota go back to the mail queue; issues paused for it are resumed by the digest side. */
export async function resumeParkedMail(env: Env): Promise<number> {
  const { results } = await env.DB.prepare(
    "UPDATE mail_batches SET parked_at = NULL WHERE parked_at IS NOT NULL AND status = 'queued' RETURNING id",
  ).all<{ id: number }>();
  const ids = results.map((r) => r.id);
  for (let i = 0; i < ids.length; i += 100)
    await env.MAIL_QUEUE.sendBatch(
      ids.slice(i, i + 100).map((batchId) => ({ body: { kind: "batch" as const, batchId } })),
    );
  return ids.length;
}
