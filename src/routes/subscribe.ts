import { Hono } from "hono";
import { cors } from "hono/cors";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import type { Config } from "../config";
import { database, recordSignup, releaseConfirmThrottle } from "../db/subscribers";
import { readBody } from "../lib/body";
import { checkEmail } from "../lib/email";
import {
  ApiError,
  type AppEnv,
  clientIp,
  isLocalRequest,
  limitBody,
  limitByIp,
  perConfig,
  sourceOrigin,
  wantsHtml,
} from "../lib/http";
import { keyedHash, verifyToken } from "../lib/tokens";
import { TOPICS } from "../papers/topics";
import { cadenceField, topicsField } from "./choices";

export const SUBSCRIBE_BODY_LIMIT = 8 * 1024;

/** The signup API, mounted at /api: the signup and the topics it accepts, callable from the sites in ALLOWED_ORIGINS (CORS). */
export const subscribe = new Hono<AppEnv>();

subscribe.use(
  perConfig(({ allowedOrigins }) =>
    cors({
      origin: allowedOrigins === "*" ? "*" : allowedOrigins,
      allowMethods: ["GET", "POST", "OPTIONS"],
      allowHeaders: ["Content-Type", "Accept"],
      maxAge: 86400,
    }),
  ),
);

/**
 * Cross-site form posts: with ALLOWED_ORIGINS listing the sites that embed the form, a form post (a "simple"
 * request, which CORS does not stop) from any other site is refused. Hono's csrf middleware checks Origin and
 * Sec-Fetch-Site; JSON posts are already preflighted (CORS). With the default "*", any site may post.
 */
const sameSiteForms = perConfig(({ allowedOrigins, publicUrl }) =>
  allowedOrigins === "*"
    ? (_c, next) => next()
    : csrf({ origin: [publicUrl.origin, ...allowedOrigins], secFetchSite: "same-origin" }),
);

/** The topics a signup may choose (docs/topics.md). Fixed with each release: caches may keep the list for an hour. */
subscribe.get("/topics", (c) => {
  c.header("Cache-Control", "public, max-age=3600");
  return c.json({ topics: TOPICS.map(({ id, name }) => ({ id, name })) });
});

subscribe.use("/subscribe", async (c, next) => {
  try {
    return await sameSiteForms(c, next);
  } catch (err) {
    if (err instanceof HTTPException && !(err instanceof ApiError) && err.status === 403)
      throw new ApiError(
        403,
        "origin_not_allowed",
        "Signups are accepted only from the sites that embed this newsletter's form.",
      );
    throw err;
  }
});

subscribe.post(
  "/subscribe",
  limitByIp((env) => env.SUBSCRIBE_LIMITER),
  limitBody(SUBSCRIBE_BODY_LIMIT),
  async (c) => {
    const cfg = c.get("cfg");
    const html = wantsHtml(c);
    const body = await readBody(c, ["topics", "cadence"]);
    const { fields, lists } = body;
    const framed = fields._frame === "1";
    c.set("framed", framed);
    const now = Date.now();

    // Where a form submission goes afterwards: our thank-you page, or an allowlisted page of the embedding site.
    const redirectTo = html
      ? (safeRedirect(cfg, fields.redirect) ??
        new URL(framed ? "/thanks?frame=1" : "/thanks", cfg.publicUrl).toString())
      : null;
    const accepted = () => (html ? c.redirect(redirectTo!, 303) : c.json({ status: "pending" }, 202));

    // Bot traps on the forms we render: a filled honeypot, or a form sent faster than a person can type.
    // The answer looks like success so the bot learns nothing.
    if (fields.website) return accepted();
    if (fields.ts !== undefined) {
      const t = await verifyToken(cfg.tokenSecret, "form", fields.ts, now);
      if (!t.ok && t.reason === "expired")
        throw new ApiError(400, "form_expired", "This form is more than a week old. Reload the page and try again.");
      if (!t.ok || now - t.claims.iat < cfg.minFillMs) return accepted();
    }

    const check = checkEmail(fields.email, cfg.blockedDomains);
    if (!check.ok) throw new ApiError(422, check.code, check.message);
    const topics = topicsField(lists.topics);
    const cadence = cadenceField(body);

    if (cfg.turnstileSecret)
      await verifyTurnstile(cfg, fields["cf-turnstile-response"] ?? fields.turnstileToken, clientIp(c));

    const { send, cost } = await recordSignup(c.env.DB, {
      email: check.email,
      key: check.key,
      source: html ? "form" : "api",
      origin: sourceOrigin(c),
      ipHash: await keyedHash(cfg.tokenSecret, "ip", clientIp(c)),
      now,
      topics,
      cadence,
    });
    // Local only: D1's own row counts for the benchmark. In production this would reveal whether an address is known.
    if (isLocalRequest(c))
      c.header("Server-Timing", `d1;desc="rows_read=${cost.rowsRead} rows_written=${cost.rowsWritten}"`);

    // One queue send whatever the address's state: a known address must cost what a new one does (no timing tell).
    try {
      await c.env.MAIL_QUEUE.send(
        send ? { kind: "confirm", subscriberId: send.id, sentAt: send.sentAt } : { kind: "noop" },
      );
    } catch (err) {
      console.error("subscribe: could not queue the confirmation", { subscriberId: send?.id, error: String(err) });
      if (send) await releaseConfirmThrottle(database(c.env.DB), send.id, send.sentAt);
      throw new ApiError(503, "try_again", "We could not take your signup right now. Please try again in a minute.", {
        "Retry-After": "60",
      });
    }
    return accepted();
  },
);

/** Only our own origin and origins listed in ALLOWED_ORIGINS may be redirect targets: never an open redirect. */
export function safeRedirect(cfg: Config, target: string | undefined): string | null {
  if (!target) return null;
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new ApiError(400, "invalid_redirect", "The redirect field must be an absolute URL.");
  }
  const allowed =
    url.origin === cfg.publicUrl.origin || (cfg.allowedOrigins !== "*" && cfg.allowedOrigins.includes(url.origin));
  if (!allowed || !/^https?:$/.test(url.protocol))
    throw new ApiError(
      400,
      "redirect_not_allowed",
      "The redirect target is not on an allowed site (see ALLOWED_ORIGINS).",
    );
  return url.toString();
}

async function verifyTurnstile(cfg: Config, token: string | undefined, ip: string) {
  if (!token) throw new ApiError(400, "turnstile_required", "Please complete the anti-bot check and try again.");
  if (token.length > 2048) throw new ApiError(400, "turnstile_failed", "The anti-bot check failed. Please try again.");
  const form = new FormData();
  form.set("secret", cfg.turnstileSecret!);
  form.set("response", token);
  if (ip !== "unknown") form.set("remoteip", ip);
  let outcome: { success?: boolean };
  try {
    const res = await fetch(cfg.turnstileVerifyUrl, { method: "POST", body: form, signal: AbortSignal.timeout(5000) });
    outcome = await res.json();
  } catch (err) {
    console.error("turnstile: verification unavailable", String(err));
    throw new ApiError(503, "try_again", "The anti-bot check is unavailable right now. Please try again in a minute.", {
      "Retry-After": "30",
    });
  }
  if (outcome.success !== true)
    throw new ApiError(403, "turnstile_failed", "The anti-bot check failed. Please try again.");
}
