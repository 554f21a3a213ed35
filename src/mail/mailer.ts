import type { Answer } from "./budget";

/** One email to one recipient. */
export interface Email {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  headers?: Record<string, string>;
  tags?: { name: string; value: string }[];
}

/**
 * What a failed call means for the emails in it:
 * - refused: nothing was sent (a 429, or an answer Resend gives before sending) and a later call may change the list;
 * - ambiguous: it may have been sent (5xx, timeout, lost answer, the same key still in flight): only the same body
 *   under the same key may follow;
 * - permanent: nothing was sent and waiting will not help (validation, credentials).
 */
export type FailureKind = "refused" | "ambiguous" | "permanent";

export type SendFailure = {
  ok: false;
  kind: FailureKind;
  /** Seconds to wait before the next attempt, when the provider said so. */
  retryAfterSec?: number;
  code: string;
  message: string;
  status: number | null;
};
/** `rejected`: emails of the call Resend refused one by one (their index and why); the others went out. */
export type SendResult = { ok: true; ids: string[]; rejected: { index: number; message: string }[] } | SendFailure;
/** The result, and what the answer said about the rate budget. */
export type SendOutcome = SendResult & { answer: Answer };

/** The mail port: Resend in production, the D1 outbox locally. */
export interface Mailer {
  readonly name: "resend" | "outbox";
  /** Sends up to 100 emails in one call. The same key with the same emails never sends twice. */
  send(emails: Email[], idempotencyKey: string): Promise<SendOutcome>;
}
