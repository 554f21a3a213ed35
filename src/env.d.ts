/**
 * The Worker's env is Cloudflare.Env: the bindings and vars `npm run types` generates from wrangler.toml into
 * worker-configuration.d.ts (SEND_BUDGET typed from src/index's SendBudget export), completed here with what
 * wrangler.toml cannot tell it.
 */
import type { DigestJob } from "./digest/jobs";
import type { MailJob } from "./mail/jobs";

declare global {
  namespace Cloudflare {
    interface Env {
      // wrangler.toml names a queue, not what goes on it: the generated type is Queue<unknown>.
      MAIL_QUEUE: Queue<MailJob>;
      DIGEST_QUEUE: Queue<DigestJob>;
      // Secrets (`wrangler secret put`) and vars with defaults in src/config.ts: not in wrangler.toml, so not generated.
      // wrangler types would take them from .dev.vars, but only a developer's machine has one (and as required
      // strings): `npm run types` reads no env file, so the generated file is the same everywhere, CI included.
      RESEND_API_KEY?: string;
      RESEND_BASE_URL?: string;
      RESEND_MAX_RPS?: string;
      RESEND_WEBHOOK_SECRET?: string;
      TOKEN_SECRET?: string;
      ADMIN_TOKEN?: string;
      TURNSTILE_SITE_KEY?: string;
      TURNSTILE_SECRET?: string;
      TURNSTILE_VERIFY_URL?: string;
      BLOCKED_DOMAINS?: string;
      MIN_FILL_MS?: string;
      PAPERS_SOURCE?: string;
      HF_API_URL?: string;
      HF_TOKEN?: string;
      CF_ACCESS_TEAM_DOMAIN?: string;
      CF_ACCESS_AUD?: string;
      CF_ACCESS_CERTS_URL?: string;
      DIGEST_SIZE?: string;
      FOR_YOU_SIZE?: string;
      MAIL_POSTAL_ADDRESS?: string;
      BREAKER_MIN_DELIVERIES?: string;
      CONFIRM_DOMAIN_HOURLY_CAP?: string;
      LOG_INVOCATIONS?: string;
      LOCAL_DEV?: string;
    }
  }
  // The name the code uses. `npm run types` names its own global copy WranglerTomlEnv (unused): merged into this one,
  // it would extend the untyped queues too, and an interface cannot extend two types that disagree on a property.
  interface Env extends Cloudflare.Env {}
}
