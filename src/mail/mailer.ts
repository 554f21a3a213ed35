import type { Config } from "../config";
import { OutboxMailer } from "./outbox";
import { ResendMailer } from "./resend";

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

export type SendFailure = {
  ok: false;
  /** Worth trying again later (rate limit, 5xx, network); otherwise record and move on. */
  retryable: boolean;
  /** Seconds to wait before the next attempt, when the provider said so. */
  retryAfterSec?: number;
  code: string;
  message: string;
  status: number | null;
};
export type SendOutcome = { ok: true; ids: string[] } | SendFailure;

/** The mail port: Resend in production, the D1 outbox locally. */
export interface Mailer {
  readonly name: "resend" | "outbox";
  /** Sends up to 100 emails in one call. The same key with the same emails never sends twice. */
  send(emails: Email[], idempotencyKey: string): Promise<SendOutcome>;
}

export function mailerFor(env: Env, cfg: Config): Mailer {
  if (cfg.resendApiKey) return new ResendMailer(cfg.resendApiKey, cfg.resendBaseUrl);
  return new OutboxMailer(env.DB);
}
