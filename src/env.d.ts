import type { DigestJob } from "./digest/jobs";
import type { MailJob } from "./mail/jobs";

declare global {
  namespace Cloudflare {
    interface Env {
      DB: D1Database;
      MAIL_QUEUE: Queue<MailJob>;
      DIGEST_QUEUE: Queue<DigestJob>;
      SEND_BUDGET: DurableObjectNamespace<import("./mail/budget").SendBudget>;
      SUBSCRIBE_LIMITER: RateLimit;
      TOKEN_LIMITER: RateLimit;
      PUBLIC_URL: string;
      MAIL_FROM: string;
      NEWSLETTER_NAME?: string;
      ALLOWED_ORIGINS?: string;
      BLOCKED_DOMAINS?: string;
      MIN_FILL_MS?: string;
      RESEND_API_KEY?: string;
      RESEND_BASE_URL?: string;
      TOKEN_SECRET?: string;
      ADMIN_TOKEN?: string;
      TURNSTILE_SITE_KEY?: string;
      TURNSTILE_SECRET?: string;
      TURNSTILE_VERIFY_URL?: string;
      PAPERS_SOURCE?: string;
      HF_API_URL?: string;
      HF_TOKEN?: string;
      DIGEST_SIZE?: string;
      MAIL_POSTAL_ADDRESS?: string;
      RESEND_MAX_RPS?: string;
      RESEND_WEBHOOK_SECRET?: string;
      BREAKER_MIN_DELIVERIES?: string;
      LOG_INVOCATIONS?: string;
      LOCAL_DEV?: string;
      CONFIRM_DOMAIN_HOURLY_CAP?: string;
    }
  }
  interface Env extends Cloudflare.Env {}
}
