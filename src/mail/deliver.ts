import type { Config } from "../config";
import { type Grant, isQuotaCode, type Lane, type QuotaCode, type QuotaPause, sendBudget } from "./budget";
import type { Email, Mailer, SendOutcome } from "./mailer";

/*
 * One attempt to send a frozen batch (a digest batch or a mail batch), in the order that keeps every email exactly
 * once and every call within the shared budget:
 *   1. a slot from the deployment's rate budget (src/mail/budget.ts);
 *   2. `prepare`: the caller re-checks its recipients if it may (nothing was ever sent under the batch's current key,
 *      or Resend refused it for certain), freezes the list it will send, and claims the batch — one attempt at a time;
 *   3. one Resend batch call under the batch's key, its answer reported to the budget.
 * The caller records what the answer means: sent, refused (re-check allowed next time), ambiguous (resend the same
 * body under the same key), or failed for good. The local outbox takes the same path, paced at RESEND_MAX_RPS: a
 * local send advances, pauses and resumes as it would in production.
 */

export interface Prepared {
  key: string;
  emails: Email[];
}
/**
 * Nothing to attempt after all: another sender holds the batch, nobody is left on its list, or its issue stopped
 * sending (paused or cancelled) while the batch waited for its slot.
 */
export type Skipped = { skipped: "taken" | "empty" | "halted" };

export type Delivery =
  | { kind: "sent"; accepted: number; rejected: { index: number; message: string }[]; note?: string }
  | { kind: "refused"; retryInSec: number; error: string; quota?: QuotaCode }
  | { kind: "ambiguous"; retryInSec: number; error: string }
  | { kind: "failed"; error: string }
  /** No slot in time: nothing was attempted. */
  | { kind: "busy"; retryInSec: number }
  /** Resend's daily or monthly quota is used up: nothing was attempted; the work waits for the quota. */
  | { kind: "parked"; quota: QuotaPause }
  | { kind: "skipped"; why: Skipped["skipped"] };

/** Backoff after an ambiguous failure without a retry-after: 2 s, 4 s … 5 min. */
export const backoffSec = (attempt: number) => Math.min(2 ** Math.max(attempt, 1), 300);

export async function deliver(
  env: Env,
  cfg: Config,
  mailer: Mailer,
  lane: Lane,
  attempt: number,
  prepare: () => Promise<Prepared | Skipped>,
): Promise<Delivery> {
  const budget = sendBudget(env);
  let grant: Grant;
  try {
    grant = await budget.acquire(lane, cfg.resendMaxRps);
  } catch (err) {
    // The budget could not be reached (it restarted, say): nothing was sent; try again shortly.
    console.error("mail: send budget unreachable", { lane, error: String(err) });
    return { kind: "busy", retryInSec: 5 };
  }
  if (!grant.ok)
    return grant.reason === "quota"
      ? { kind: "parked", quota: grant.quota }
      : { kind: "busy", retryInSec: grant.retryInSec };
  let prepared: Prepared | Skipped;
  try {
    prepared = await prepare();
  } catch (err) {
    await budget.release(grant.lease, { unused: true, ok: false, status: null }).catch(() => undefined);
    throw err;
  }
  if ("skipped" in prepared) {
    await budget.release(grant.lease, { unused: true, ok: false, status: null }).catch(() => undefined);
    return { kind: "skipped", why: prepared.skipped };
  }
  const out = await mailer.send(prepared.emails, prepared.key).catch(
    (err): SendOutcome => ({
      ok: false,
      kind: "ambiguous",
      code: "network_error",
      message: String(err),
      status: null,
      answer: { ok: false, status: null },
    }),
  );
  // Once the call was made, its outcome must reach the caller whatever happens to the report.
  await budget
    .release(grant.lease, out.answer)
    .catch((err) => console.error("mail: could not report an answer to the send budget", { lane, error: String(err) }));

  if (out.ok) return { kind: "sent", accepted: prepared.emails.length - out.rejected.length, rejected: out.rejected };
  const error = `${out.code}${out.status ? ` (HTTP ${out.status})` : ""}: ${out.message}`.slice(0, 500);
  // This key already sent a body (an earlier attempt, rendered differently, e.g. before a deploy): it went out once.
  if (out.code === "invalid_idempotent_request")
    return { kind: "sent", accepted: prepared.emails.length, rejected: [], note: error };
  if (out.kind === "refused")
    return {
      kind: "refused",
      retryInSec: Math.max(1, Math.ceil(out.retryAfterSec ?? 1)),
      error,
      quota: isQuotaCode(out.code) ? out.code : undefined,
    };
  if (out.kind === "ambiguous")
    return { kind: "ambiguous", retryInSec: Math.max(1, Math.ceil(out.retryAfterSec ?? backoffSec(attempt))), error };
  return { kind: "failed", error };
}
