/**
 * Configuration: the env strings, parsed by one schema once per env object at the entry point.
 * A deployment that would run with a missing or weak secret fails loudly instead of limping along.
 */
import * as v from "valibot";

export class ConfigError extends Error {
  override name = "ConfigError";
}

export const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

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

const list = (value: string) => value.split(/[\s,]+/).filter(Boolean);
const whole = (n: number, min: number, max = Infinity) => Number.isInteger(n) && n >= min && n <= max;
const isLocal = (env: { LOCAL_DEV: string }) => env.LOCAL_DEV === "1";

/** Unset reads as empty, and empty counts as unset. */
const text = v.optional(v.string(), "");
/** A string from the dashboard or .dev.vars, or a number if wrangler.toml writes it unquoted. */
const number = (fallback: number, valid: (n: number) => boolean = () => true, message?: string) =>
  v.pipe(v.optional(v.unknown(), fallback), v.transform(Number), v.check(valid, message));

const schema = v.pipe(
  v.object({
    LOCAL_DEV: text,
    PUBLIC_URL: v.pipe(
      text,
      v.check(
        (url) => URL.canParse(url),
        (issue) => `PUBLIC_URL must be an absolute URL, got ${JSON.stringify(issue.input)}`,
      ),
      v.transform((url) => new URL(url)),
    ),
    TOKEN_SECRET: v.pipe(
      text,
      v.check(
        (secret) => secret.length >= 32,
        "TOKEN_SECRET must be set to at least 32 characters (openssl rand -hex 32)",
      ),
    ),
    RESEND_API_KEY: text,
    MAIL_FROM: v.pipe(
      text,
      v.check((from) => from !== "", "MAIL_FROM must be set"),
    ),
    ADMIN_TOKEN: v.pipe(
      text,
      v.check((token) => !token || token.length >= 16, "ADMIN_TOKEN must be at least 16 characters"),
      // What an Authorization: Bearer header can carry (RFC 6750 b64token); any other character could never match.
      v.check(
        (token) => !token || /^[A-Za-z0-9._~+/-]+=*$/.test(token),
        "ADMIN_TOKEN may only use letters, digits and . _ ~ + / - (then = padding): a bearer token cannot carry other characters (openssl rand -hex 24)",
      ),
    ),
    TURNSTILE_SITE_KEY: text,
    TURNSTILE_SECRET: text,
    ALLOWED_ORIGINS: v.pipe(
      text,
      v.rawTransform(({ dataset, addIssue }) => {
        const origins = list(dataset.value);
        if (origins.length === 0 || origins.includes("*")) return "*" as const;
        return origins.map((o) => {
          if (URL.canParse(o)) return new URL(o).origin;
          addIssue({ message: `ALLOWED_ORIGINS entry ${JSON.stringify(o)} is not an origin` });
          return "";
        });
      }),
    ),
    /** Empty means the default: Hugging Face in production, the bundled sample week in local development. */
    PAPERS_SOURCE: v.optional(
      v.picklist(["", "huggingface", "sample"], 'PAPERS_SOURCE must be "huggingface" or "sample"'),
      "",
    ),
    DIGEST_SIZE: number(10, (n) => whole(n, 1, 50), "DIGEST_SIZE must be a whole number from 1 to 50"),
    FOR_YOU_SIZE: number(
      5,
      (n) => whole(n, 0, 20),
      "FOR_YOU_SIZE must be a whole number from 0 to 20 (0 = no For you)",
    ),
    RESEND_MAX_RPS: number(
      2,
      (n) => Number.isFinite(n) && n >= 0,
      "RESEND_MAX_RPS must be a number ≥ 0 (0 = no ceiling until Resend states its limit)",
    ),
    RESEND_WEBHOOK_SECRET: v.pipe(
      text,
      v.check(
        (secret) => !secret || /^whsec_[A-Za-z0-9+/=]{16,}$/.test(secret),
        "RESEND_WEBHOOK_SECRET must be the whsec_… secret Resend shows for the webhook",
      ),
    ),
    BREAKER_MIN_DELIVERIES: number(1000, (n) => whole(n, 1), "BREAKER_MIN_DELIVERIES must be a whole number ≥ 1"),
    CONFIRM_DOMAIN_HOURLY_CAP: number(
      1000,
      (n) => whole(n, 0),
      "CONFIRM_DOMAIN_HOURLY_CAP must be a whole number ≥ 0 (0 = no cap)",
    ),
    MIN_FILL_MS: number(2000),
    NEWSLETTER_NAME: text,
    RESEND_BASE_URL: text,
    TURNSTILE_VERIFY_URL: text,
    BLOCKED_DOMAINS: text,
    HF_API_URL: text,
    HF_TOKEN: text,
    MAIL_POSTAL_ADDRESS: text,
    CF_ACCESS_TEAM_DOMAIN: v.pipe(
      text,
      v.check(
        (d) => !d || /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i.test(d),
        "CF_ACCESS_TEAM_DOMAIN must be the team domain alone, like myteam.cloudflareaccess.com (no https://, no path)",
      ),
    ),
    CF_ACCESS_AUD: v.pipe(
      text,
      v.check(
        (aud) => !aud || /^[A-Za-z0-9._:-]+$/.test(aud),
        "CF_ACCESS_AUD must be the Access application's AUD tag (letters and digits, no spaces)",
      ),
    ),
    CF_ACCESS_CERTS_URL: v.pipe(
      text,
      v.check((url) => !url || URL.canParse(url), "CF_ACCESS_CERTS_URL must be an absolute URL"),
    ),
  }),
  // Rules across variables; each runs once the variables it reads are valid on their own.
  v.partialCheck(
    [["LOCAL_DEV"], ["PUBLIC_URL"]],
    (env) => isLocal(env) || env.PUBLIC_URL.protocol === "https:",
    "PUBLIC_URL must use https outside local development",
  ),
  v.partialCheck(
    [["LOCAL_DEV"], ["RESEND_API_KEY"]],
    (env) => isLocal(env) || Boolean(env.RESEND_API_KEY),
    "RESEND_API_KEY must be set outside local development (mail would go nowhere; LOCAL_DEV=1 is only for npm start)",
  ),
  v.partialCheck(
    [["TURNSTILE_SITE_KEY"], ["TURNSTILE_SECRET"]],
    (env) => !env.TURNSTILE_SITE_KEY === !env.TURNSTILE_SECRET,
    "TURNSTILE_SITE_KEY and TURNSTILE_SECRET go together",
  ),
  v.partialCheck(
    [["CF_ACCESS_TEAM_DOMAIN"], ["CF_ACCESS_AUD"]],
    (env) => !env.CF_ACCESS_TEAM_DOMAIN === !env.CF_ACCESS_AUD,
    "CF_ACCESS_TEAM_DOMAIN and CF_ACCESS_AUD go together",
  ),
  v.transform((env) => ({
    publicUrl: env.PUBLIC_URL,
    /**
     * Local development: set only by LOCAL_DEV=1, which `npm start` writes into .dev.vars (never uploaded by
     * `wrangler deploy`). With a loopback request host (isLocalRequest) it enables the outbox viewer and dev headers;
     * without a Resend key, mail goes to the outbox.
     */
    local: isLocal(env),
    newsletterName: env.NEWSLETTER_NAME || "Trending Papers",
    mailFrom: env.MAIL_FROM,
    resendApiKey: env.RESEND_API_KEY || undefined,
    resendBaseUrl: env.RESEND_BASE_URL || undefined,
    tokenSecret: env.TOKEN_SECRET,
    adminToken: env.ADMIN_TOKEN || undefined,
    turnstileSiteKey: env.TURNSTILE_SITE_KEY || undefined,
    turnstileSecret: env.TURNSTILE_SECRET || undefined,
    turnstileVerifyUrl: env.TURNSTILE_VERIFY_URL || "https://challenges.cloudflare.com/turnstile/v0/siteverify",
    /** "*" or a list of exact origins (scheme://host[:port]). */
    allowedOrigins: env.ALLOWED_ORIGINS,
    blockedDomains: new Set([...DISPOSABLE_DOMAINS, ...list(env.BLOCKED_DOMAINS).map((d) => d.toLowerCase())]),
    /** Minimum time between rendering a form and a human submitting it. */
    minFillMs: env.MIN_FILL_MS,
    /** Where the week's papers come from: Hugging Face (production default) or the bundled sample week (local default). */
    papersSource: env.PAPERS_SOURCE || (isLocal(env) ? "sample" : "huggingface"),
    hfApiUrl: env.HF_API_URL || "https://huggingface.co",
    hfToken: env.HF_TOKEN || undefined,
    digestSize: env.DIGEST_SIZE,
    /** Papers in a reader's "For you" section (readers with topics or ratings); the top section shrinks to make room. */
    forYouSize: env.FOR_YOU_SIZE,
    postalAddress: env.MAIL_POSTAL_ADDRESS || undefined,
    /** Resend calls per second the send budget starts from, until Resend's own ratelimit-limit header says otherwise; 0 = none. */
    resendMaxRps: env.RESEND_MAX_RPS,
    /** whsec_… secret of the Resend webhook; without it /webhooks/resend does not exist. */
    resendWebhookSecret: env.RESEND_WEBHOOK_SECRET || undefined,
    /** The complaint circuit breaker looks at complaint rates only after this many deliveries of an issue. */
    breakerMinDeliveries: env.BREAKER_MIN_DELIVERIES,
    /** Confirmation emails sent to one recipient domain per hour at most; 0 = no cap. */
    confirmDomainHourlyCap: env.CONFIRM_DOMAIN_HOURLY_CAP,
    /** Cloudflare Access in front of /admin (src/routes/access.ts): its team domain and application AUD tag, or neither. */
    accessTeamDomain: env.CF_ACCESS_TEAM_DOMAIN.toLowerCase() || undefined,
    accessAud: env.CF_ACCESS_AUD || undefined,
    /** Where the team's keys are fetched from; only tests and local runs set it. */
    accessCertsUrl: env.CF_ACCESS_CERTS_URL || undefined,
  })),
);

export type Config = v.InferOutput<typeof schema>;

export function loadConfig(env: Env): Config {
  const result = v.safeParse(schema, env);
  if (result.success) return result.output;
  // Our own messages name their variable; a value of the wrong type (a number in wrangler.toml) gets named here.
  const problems = result.issues.map((i) => (i.type === "string" ? `${i.path?.[0]?.key} must be a string` : i.message));
  throw new ConfigError(`Configuration problems:\n- ${problems.join("\n- ")}`);
}

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
