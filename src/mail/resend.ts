import { Resend } from "resend";
import type { Answer } from "./budget";
import type { Email, Mailer, SendFailure, SendOutcome } from "./mailer";

/** A call that has had no answer after this long is given up (and counts as ambiguous: it may still be sent). */
const TIMEOUT_MS = 30_000;

/**
 * Resend through its SDK, always through the batch endpoint (one call for up to 100 emails, each with its own
 * content) in permissive mode, so one address Resend refuses does not fail the other emails of its call.
 * The SDK never throws on API errors: it returns { data, error, headers }.
 */
export class ResendMailer implements Mailer {
  readonly name = "resend";
  private client: Resend;

  constructor(apiKey: string, baseUrl?: string) {
    // baseUrl is passed explicitly: the SDK's own fallback reads process.env.
    this.client = new Resend(apiKey, { baseUrl: baseUrl || "https://api.resend.com" });
  }

  async send(emails: Email[], idempotencyKey: string): Promise<SendOutcome> {
    const payload = emails.map((e) => ({
      from: e.from,
      to: [e.to],
      subject: e.subject,
      html: e.html,
      text: e.text,
      headers: e.headers,
      tags: e.tags,
    }));
    const result = await this.client.batch
      .send(payload, { idempotencyKey, batchValidation: "permissive", signal: AbortSignal.timeout(TIMEOUT_MS) })
      .catch((thrown: unknown) => ({ thrown }));
    // The SDK rethrows its own abort: the request may have reached Resend.
    if ("thrown" in result)
      return {
        ok: false,
        kind: "ambiguous",
        code: "timeout",
        message: String(result.thrown),
        status: null,
        answer: { ok: false, status: null },
      };
    const { data, error, headers } = result;
    const answer = readAnswer(error?.statusCode ?? 200, error?.name, headers);
    if (error) return { ...classify(error, headers), answer };
    const rejected = ((data as { errors?: { index: number; message: string }[] }).errors ?? []).map((e) => ({
      index: e.index,
      message: String(e.message).slice(0, 200),
    }));
    return { ok: true, ids: data.data.map((d) => d.id), rejected, answer };
  }
}

const num = (v: string | undefined) => {
  const n = Number(v);
  return v !== undefined && v !== "" && Number.isFinite(n) && n >= 0 ? n : undefined;
};

/** The rate-limit facts of an answer (IETF ratelimit headers, draft 6, as Resend sends them). */
export function readAnswer(
  status: number | null,
  code: string | undefined,
  headers: Record<string, string> | null,
): Answer {
  return {
    ok: status !== null && status < 300,
    status,
    code,
    limit: num(headers?.["ratelimit-limit"]),
    remaining: num(headers?.["ratelimit-remaining"]),
    resetSec: num(headers?.["ratelimit-reset"]),
    retryAfterSec: num(headers?.["retry-after"]),
  };
}

export function classify(
  error: { name: string; message: string; statusCode: number | null },
  headers: Record<string, string> | null,
): SendFailure {
  const status = error.statusCode ?? null;
  const base = { ok: false as const, code: error.name, message: error.message, status };
  const retryAfterSec = num(headers?.["retry-after"]);
  // Network failures come back with no status, and a 5xx may come after the emails went out.
  if (status === null || status >= 500) return { ...base, kind: "ambiguous", retryAfterSec };
  // The same key still in flight: that earlier call may send; only the same body may follow.
  if (error.name === "concurrent_idempotent_requests") return { ...base, kind: "ambiguous", retryAfterSec };
  // Rate limits and quotas are checked before anything is sent.
  if (status === 429) return { ...base, kind: "refused", retryAfterSec };
  // Every other 4xx (validation_error, invalid_api_key, invalid_from_address, …) is answered before sending, and
  // waiting will not fix it. invalid_idempotent_request is told apart by the caller: it means this key already sent.
  return { ...base, kind: "permanent" };
}
