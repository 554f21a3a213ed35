import { Resend } from "resend";
import type { Email, Mailer, SendFailure, SendOutcome } from "./mailer";

// Errors that waiting will not fix (see Resend's error reference).
const PERMANENT = new Set([
  "validation_error",
  "invalid_idempotent_request",
  "invalid_idempotency_key",
  "missing_api_key",
  "invalid_api_key",
  "restricted_api_key",
  "invalid_from_address",
  "invalid_access",
  "invalid_parameter",
  "invalid_region",
  "missing_required_field",
  "not_found",
  "method_not_allowed",
  "monthly_quota_exceeded",
  "security_error",
]);

/** Resend through its SDK. The SDK never throws on API errors: it returns { data, error, headers }. */
export class ResendMailer implements Mailer {
  readonly name = "resend";
  private client: Resend;

  constructor(apiKey: string, baseUrl?: string) {
    // baseUrl is passed explicitly: the SDK's own fallback reads process.env.
    this.client = new Resend(apiKey, { baseUrl: baseUrl || "https://api.resend.com" });
  }

  async send(emails: Email[], idempotencyKey: string): Promise<SendOutcome> {
    const payload = emails.map((e) => ({ from: e.from, to: [e.to], subject: e.subject, html: e.html, text: e.text, headers: e.headers, tags: e.tags }));
    if (payload.length === 1) {
      const { data, error, headers } = await this.client.emails.send(payload[0]!, { idempotencyKey });
      if (error) return classify(error, headers);
      return { ok: true, ids: [data.id] };
    }
    const { data, error, headers } = await this.client.batch.send(payload, { idempotencyKey });
    if (error) return classify(error, headers);
    return { ok: true, ids: data.data.map((d) => d.id) };
  }
}

export function classify(error: { name: string; message: string; statusCode: number | null }, headers: Record<string, string> | null): SendFailure {
  const status = error.statusCode ?? null;
  const base = { ok: false as const, code: error.name, message: error.message, status };
  const retryAfter = Number(headers?.["retry-after"]);
  const retryAfterSec = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined;
  if (error.name === "daily_quota_exceeded") return { ...base, retryable: true, retryAfterSec: Math.max(retryAfterSec ?? 0, 3600) };
  if (PERMANENT.has(error.name)) return { ...base, retryable: false };
  // Network failures come back with no status; 429 and 5xx are transient; a concurrent request with our key is still in flight.
  if (status === null || status === 429 || status >= 500 || error.name === "concurrent_idempotent_requests") return { ...base, retryable: true, retryAfterSec };
  return { ...base, retryable: false };
}
