/** The send budget's vocabulary (src/mail/budget.ts): lanes, what an answer says, grants, quota pauses, its state. */

export type Lane = "mail" | "digest";
export const LANES: Lane[] = ["mail", "digest"];

/** What a Resend answer says about the budget (read from its status, error name and headers). */
export interface Answer {
  /** The slot was not used after all (nothing was sent): it frees at once. */
  unused?: boolean;
  ok: boolean;
  status: number | null;
  code?: string;
  limit?: number;
  remaining?: number;
  resetSec?: number;
  retryAfterSec?: number;
}

export const QUOTA_CODES = ["daily_quota_exceeded", "monthly_quota_exceeded"] as const;
export type QuotaCode = (typeof QUOTA_CODES)[number];
export const isQuotaCode = (code: string | undefined): code is QuotaCode => QUOTA_CODES.includes(code as QuotaCode);

export interface QuotaPause {
  code: QuotaCode;
  since: number;
  /** When a probe call is let through to see whether the quota is back. */
  until: number;
}

export type Grant =
  | { ok: true; lease: string }
  | { ok: false; reason: "quota"; retryInSec: number; quota: QuotaPause }
  | { ok: false; reason: "busy"; retryInSec: number };

export interface BudgetState {
  /** Requests per second now allowed; null = no ceiling (RESEND_MAX_RPS=0 and Resend stated no limit). */
  rate: number | null;
  /** Where the rate comes from: RESEND_MAX_RPS, or Resend's own ratelimit-limit header. */
  rateSource: "config" | "resend";
  blockedUntil: string | null;
  quota: { code: QuotaCode; since: string; nextProbe: string } | null;
  inFlight: number;
  waiting: Record<Lane, number>;
  granted: Record<Lane, number>;
  answers: number;
  rateLimited: number;
  /** Mean time from grant to answer of recent calls (each call holds its slot that long plus a window). */
  callMs: number | null;
}
