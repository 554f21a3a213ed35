/**
 * Configuration, read and checked once per invocation at the entry point.
 * A deployment that would run with a missing or weak secret fails loudly instead of limping along.
 */
export interface Config {
  publicUrl: URL;
  /**
   * Local development: set only by LOCAL_DEV=1, which `npm start` writes into .dev.vars (never uploaded by
   * `wrangler deploy`). With a loopback request host (isLocalRequest) it enables the outbox viewer and dev headers;
   * without a Resend key, mail goes to the outbox.
   */
  local: boolean;
  newsletterName: string;
  mailFrom: string;
  resendApiKey?: string;
  resendBaseUrl?: string;
  tokenSecret: string;
  adminToken?: string;
  turnstileSiteKey?: string;
  turnstileSecret?: string;
  turnstileVerifyUrl: string;
  /** "*" or a list of exact origins (scheme://host[:port]). */
  allowedOrigins: "*" | string[];
  blockedDomains: Set<string>;
  /** Minimum time between rendering a form and a human submitting it. */
  minFillMs: number;
  /** Where the week's papers come from: Hugging Face (production default) or the bundled sample week (local default). */
  papersSource: "huggingface" | "sample";
  hfApiUrl: string;
  hfToken?: string;
  digestSize: number;
  postalAddress?: string;
  /** Resend calls per second the send budget starts from, until Resend's own ratelimit-limit header says otherwise; 0 = none. */
  resendMaxRps: number;
  /** whsec_… secret of the Resend webhook; without it /webhooks/resend does not exist. */
  resendWebhookSecret?: string;
  /** The complaint circuit breaker looks at complaint rates only after this many deliveries of an issue. */
  breakerMinDeliveries: number;
  /** Confirmation emails sent to one recipient domain per hour at most; 0 = no cap. */
  confirmDomainHourlyCap: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

const parseList = (value: string | undefined) =>
  (value ?? "")
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

export function loadConfig(env: Env): Config {
  const problems: string[] = [];
  let publicUrl: URL;
  try {
    publicUrl = new URL(env.PUBLIC_URL ?? "");
  } catch {
    throw new ConfigError(`PUBLIC_URL must be an absolute URL, got ${JSON.stringify(env.PUBLIC_URL)}`);
  }
  const local = env.LOCAL_DEV === "1";
  if (!local && publicUrl.protocol !== "https:") problems.push("PUBLIC_URL must use https outside local development");
  if (!env.TOKEN_SECRET || env.TOKEN_SECRET.length < 32)
    problems.push("TOKEN_SECRET must be set to at least 32 characters (openssl rand -hex 32)");
  if (!local && !env.RESEND_API_KEY)
    problems.push(
      "RESEND_API_KEY must be set outside local development (mail would go nowhere; LOCAL_DEV=1 is only for npm start)",
    );
  if (!env.MAIL_FROM) problems.push("MAIL_FROM must be set");
  if (env.ADMIN_TOKEN !== undefined && env.ADMIN_TOKEN !== "" && env.ADMIN_TOKEN.length < 16)
    problems.push("ADMIN_TOKEN must be at least 16 characters");
  // What an Authorization: Bearer header can carry (RFC 6750 b64token); any other character could never match.
  if (env.ADMIN_TOKEN && !/^[A-Za-z0-9._~+/-]+=*$/.test(env.ADMIN_TOKEN))
    problems.push(
      "ADMIN_TOKEN may only use letters, digits and . _ ~ + / - (then = padding): a bearer token cannot carry other characters (openssl rand -hex 24)",
    );
  if (Boolean(env.TURNSTILE_SITE_KEY) !== Boolean(env.TURNSTILE_SECRET))
    problems.push("TURNSTILE_SITE_KEY and TURNSTILE_SECRET go together");

  const origins = parseList(env.ALLOWED_ORIGINS);
  let allowedOrigins: Config["allowedOrigins"] = "*";
  if (origins.length > 0 && !origins.includes("*")) {
    allowedOrigins = [];
    for (const o of origins) {
      try {
        allowedOrigins.push(new URL(o).origin);
      } catch {
        problems.push(`ALLOWED_ORIGINS entry ${JSON.stringify(o)} is not an origin`);
      }
    }
  }
  const papersSource = env.PAPERS_SOURCE || (local ? "sample" : "huggingface");
  if (papersSource !== "huggingface" && papersSource !== "sample")
    problems.push('PAPERS_SOURCE must be "huggingface" or "sample"');
  const digestSize = Number(env.DIGEST_SIZE ?? 10);
  if (!Number.isInteger(digestSize) || digestSize < 1 || digestSize > 50)
    problems.push("DIGEST_SIZE must be a whole number from 1 to 50");
  const resendMaxRps = Number(env.RESEND_MAX_RPS ?? 2);
  if (!Number.isFinite(resendMaxRps) || resendMaxRps < 0)
    problems.push("RESEND_MAX_RPS must be a number ≥ 0 (0 = no ceiling until Resend states its limit)");

  if (env.RESEND_WEBHOOK_SECRET && !/^whsec_[A-Za-z0-9+/=]{16,}$/.test(env.RESEND_WEBHOOK_SECRET))
    problems.push("RESEND_WEBHOOK_SECRET must be the whsec_… secret Resend shows for the webhook");
  const breakerMinDeliveries = Number(env.BREAKER_MIN_DELIVERIES ?? 1000);
  if (!Number.isInteger(breakerMinDeliveries) || breakerMinDeliveries < 1)
    problems.push("BREAKER_MIN_DELIVERIES must be a whole number ≥ 1");

  const confirmDomainHourlyCap = Number(env.CONFIRM_DOMAIN_HOURLY_CAP ?? 1000);
  if (!Number.isInteger(confirmDomainHourlyCap) || confirmDomainHourlyCap < 0)
    problems.push("CONFIRM_DOMAIN_HOURLY_CAP must be a whole number ≥ 0 (0 = no cap)");

  if (problems.length) throw new ConfigError(`Configuration problems:\n- ${problems.join("\n- ")}`);

  return {
    publicUrl,
    local,
    newsletterName: env.NEWSLETTER_NAME || "Trending Papers",
    mailFrom: env.MAIL_FROM!,
    resendApiKey: env.RESEND_API_KEY || undefined,
    resendBaseUrl: env.RESEND_BASE_URL || undefined,
    tokenSecret: env.TOKEN_SECRET!,
    adminToken: env.ADMIN_TOKEN || undefined,
    turnstileSiteKey: env.TURNSTILE_SITE_KEY || undefined,
    turnstileSecret: env.TURNSTILE_SECRET || undefined,
    turnstileVerifyUrl: env.TURNSTILE_VERIFY_URL || "https://challenges.cloudflare.com/turnstile/v0/siteverify",
    allowedOrigins,
    blockedDomains: new Set([...DISPOSABLE_DOMAINS, ...parseList(env.BLOCKED_DOMAINS).map((d) => d.toLowerCase())]),
    minFillMs: Number(env.MIN_FILL_MS ?? 2000),
    papersSource: papersSource as Config["papersSource"],
    hfApiUrl: env.HF_API_URL || "https://huggingface.co",
    hfToken: env.HF_TOKEN || undefined,
    digestSize,
    postalAddress: env.MAIL_POSTAL_ADDRESS || undefined,
    resendMaxRps,
    resendWebhookSecret: env.RESEND_WEBHOOK_SECRET || undefined,
    breakerMinDeliveries,
    confirmDomainHourlyCap,
  };
}

/** A small built-in list of common disposable-mail providers; extend with BLOCKED_DOMAINS. */
export const DISPOSABLE_DOMAINS = [
  "mailinator.com",
  "guerrillamail.com",
  "guerrillamail.net",
  "sharklasers.com",
  "10minutemail.com",
  "temp-mail.org",
  "tempmail.com",
  "yopmail.com",
  "trashmail.com",
  "getnada.com",
  "dispostable.com",
  "throwawaymail.com",
  "maildrop.cc",
  "fakeinbox.com",
  "mailnesia.com",
  "moakt.com",
  "emailondeck.com",
  "mintemail.com",
];

/** Cached per isolate; env objects are stable within an isolate. */
const cache = new WeakMap<object, Config>();
export function config(env: Env): Config {
  let c = cache.get(env);
  if (!c) {
    c = loadConfig(env);
    cache.set(env, c);
  }
  return c;
}
