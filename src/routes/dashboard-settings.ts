import { max } from "drizzle-orm";
import { Hono } from "hono";
import { type Check, type CheckState, type SettingsModel, settingsPage } from "../../templates/dashboard-settings";
import type { Config } from "../config";
import { webhookEvents } from "../db/schema";
import { database } from "../db/subscribers";
import type { AppEnv } from "../lib/http";
import { render } from "./render";

/**
 * The dashboard's settings (/admin/settings): the effective configuration, the secrets only as set or not set (never
 * any part of a value), and a checklist of what production needs, each item checked here where a Worker can see it
 * (https, secrets, bindings, the database, recent webhook events) and marked "check by hand" where it cannot (DNS).
 */
export const dashboardSettings = new Hono<AppEnv>();

const WEEK_MS = 7 * 24 * 60 * 60 * 1000;
const shown = (v: string | number | undefined) => (v === undefined || v === "" ? "(default / not set)" : String(v));

/** The domain of MAIL_FROM, whether written "Name <a@b>" or "a@b". */
const mailDomain = (from: string) => /@([^\s>]+)>?\s*$/.exec(from)?.[1]?.toLowerCase() ?? "";

function settings(cfg: Config, env: Env): [string, string][] {
  return [
    ["PUBLIC_URL", cfg.publicUrl.toString()],
    ["LOCAL_DEV", cfg.local ? "1 (local development)" : "off"],
    ["NEWSLETTER_NAME", cfg.newsletterName],
    ["MAIL_FROM", cfg.mailFrom],
    ["MAIL_POSTAL_ADDRESS", shown(cfg.postalAddress)],
    ["ALLOWED_ORIGINS", cfg.allowedOrigins === "*" ? "*" : cfg.allowedOrigins.join(", ")],
    ["PAPERS_SOURCE", cfg.papersSource],
    ["HF_API_URL", cfg.hfApiUrl],
    ["DIGEST_SIZE", shown(cfg.digestSize)],
    ["FOR_YOU_SIZE", cfg.forYouSize === 0 ? "0 (no For you)" : shown(cfg.forYouSize)],
    ["RESEND_MAX_RPS", cfg.resendMaxRps === 0 ? "0 (no ceiling)" : shown(cfg.resendMaxRps)],
    ["RESEND_BASE_URL", shown(cfg.resendBaseUrl)],
    ["BREAKER_MIN_DELIVERIES", shown(cfg.breakerMinDeliveries)],
    ["CONFIRM_DOMAIN_HOURLY_CAP", cfg.confirmDomainHourlyCap === 0 ? "0 (no cap)" : shown(cfg.confirmDomainHourlyCap)],
    ["MIN_FILL_MS", shown(cfg.minFillMs)],
    ["TURNSTILE_SITE_KEY", shown(cfg.turnstileSiteKey)],
    ["TURNSTILE_VERIFY_URL", cfg.turnstileVerifyUrl],
    ["BLOCKED_DOMAINS", `${cfg.blockedDomains.size} blocked (built-in list plus ${shown(env.BLOCKED_DOMAINS)})`],
    ["CF_ACCESS_TEAM_DOMAIN", shown(cfg.accessTeamDomain)],
    ["CF_ACCESS_AUD", shown(cfg.accessAud)],
  ];
}

const item = (name: string, pass: boolean, otherwise: CheckState, todo: string, ok = "Nothing to do."): Check =>
  pass ? { name, state: "ok", todo: ok } : { name, state: otherwise, todo };

async function checks(cfg: Config, env: Env): Promise<Check[]> {
  const domain = mailDomain(cfg.mailFrom) || "(MAIL_FROM has no domain)";
  const hook = new URL("/webhooks/resend", cfg.publicUrl).toString();
  const fn = (x: unknown) => typeof x === "function";
  let d1 = false;
  let lastEvent: number | null = null;
  try {
    d1 = (await env.DB.prepare("SELECT 1 AS one").first<{ one: number }>())?.one === 1;
    const [row] = await database(env.DB)
      .select({ at: max(webhookEvents.receivedAt) })
      .from(webhookEvents);
    lastEvent = row?.at ?? null;
  } catch {} // d1 stays false when the database cannot be reached
  const recent = lastEvent !== null && Date.now() - lastEvent < WEEK_MS;
  const hand = `None in the last 7 days: register ${hook} in Resend (delivered, bounced, complained).`;
  const dns = `Add Resend's SPF, DKIM (resend._domainkey.${domain}) and DMARC (_dmarc.${domain}) records; verify ${domain}.`;
  const last = `Last event ${new Date(lastEvent ?? 0).toISOString()}.`;
  return [
    item(
      "PUBLIC_URL uses https",
      cfg.publicUrl.protocol === "https:",
      "missing",
      "Set PUBLIC_URL to the https address.",
    ),
    item(
      "RESEND_API_KEY set",
      !!cfg.resendApiKey,
      "missing",
      "wrangler secret put RESEND_API_KEY: no mail without it.",
    ),
    item("RESEND_WEBHOOK_SECRET set", !!cfg.resendWebhookSecret, "missing", "Set it, or bounces/complaints are lost."),
    item("Webhook events received", recent, "check by hand", hand, last),
    item(`DNS for ${domain}`, false, "check by hand", dns),
    item("MAIL_QUEUE binding", fn(env.MAIL_QUEUE?.send), "missing", "Bind the papers-mail queue (wrangler.toml)."),
    item(
      "DIGEST_QUEUE binding",
      fn(env.DIGEST_QUEUE?.send),
      "missing",
      "Bind the papers-digest queue (wrangler.toml).",
    ),
    item("D1 database reachable", d1, "missing", "Check the DB binding's database_id and run the migrations."),
    item(
      "Turnstile",
      !!cfg.turnstileSecret,
      "optional",
      "Set TURNSTILE_SITE_KEY and TURNSTILE_SECRET to keep bots out.",
    ),
    item("ALLOWED_ORIGINS not *", cfg.allowedOrigins !== "*", "recommended", "Any site may post signups: list yours."),
    item(
      "Cloudflare Access in front of /admin",
      !!(cfg.accessTeamDomain && cfg.accessAud),
      "optional",
      "Set CF_ACCESS_TEAM_DOMAIN and CF_ACCESS_AUD to sign operators in with your identity provider.",
      `Access tokens from ${cfg.accessTeamDomain} are accepted.`,
    ),
  ];
}

dashboardSettings.get("/", async (c) => {
  const cfg = c.get("cfg");
  const model: SettingsModel = {
    overview: new URL("/admin", cfg.publicUrl).toString(),
    checks: await checks(cfg, c.env),
    settings: settings(cfg, c.env),
    // Booleans only: no part of a secret's value ever reaches the template.
    secrets: [
      ["TOKEN_SECRET", Boolean(cfg.tokenSecret)],
      ["ADMIN_TOKEN", Boolean(cfg.adminToken)],
      ["RESEND_API_KEY", Boolean(cfg.resendApiKey)],
      ["RESEND_WEBHOOK_SECRET", Boolean(cfg.resendWebhookSecret)],
      ["TURNSTILE_SECRET", Boolean(cfg.turnstileSecret)],
      ["HF_TOKEN", Boolean(cfg.hfToken)],
    ],
  };
  return render(c, "Settings", settingsPage(model));
});
