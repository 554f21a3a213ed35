import type { Context, MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { validator } from "hono/validator";
import type { Subscriber } from "../db/schema";
import { database, getSubscriber } from "../db/subscribers";
import { ApiError, type AppEnv, isLocalRequest, limitByIp, PageError, perConfig } from "../lib/http";
import { type Purpose, type TokenClaims, tokenSubject, verifyToken } from "../lib/tokens";

/** Who may call what: the operator, local development, and the owner of a personal link. */

const notFound = () => {
  throw new ApiError(404, "not_found", "Not found.");
};

/**
 * The operator API: `Authorization: Bearer ADMIN_TOKEN` (bearerAuth compares in constant time). Without a configured
 * token, /admin does not exist.
 */
export const adminAuth: MiddlewareHandler<AppEnv> = perConfig(({ adminToken }) =>
  adminToken
    ? bearerAuth({
        token: adminToken,
        noAuthenticationHeader: {
          message: { error: { code: "unauthorized", message: "Send Authorization: Bearer <ADMIN_TOKEN>." } },
        },
        invalidAuthenticationHeader: {
          message: { error: { code: "unauthorized", message: "Malformed Authorization header." } },
        },
        invalidToken: { message: { error: { code: "unauthorized", message: "Invalid admin token." } } },
      })
    : notFound,
);

/** Local development without a Resend key, on a loopback host (the outbox viewer): 404 everywhere else. */
export const localOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!isLocalRequest(c) || c.get("cfg").resendApiKey) notFound();
  await next();
};

/**
 * Personal links (/confirm, /resubscribe, /manage, /rate), per client network. Not /unsubscribe: mailbox providers send every
 * one-click unsubscribe from a few addresses.
 */
export const tokenLimit = limitByIp((env) => env.TOKEN_LIMITER);

/** The subscriber a verified personal link names, and the claims of its token. */
export interface PersonalLink {
  sub: Subscriber;
  claims: TokenClaims;
}

/** What a route behind personalLink() finds on its context: c.get("link"). */
export type LinkEnv = AppEnv & { Variables: { link: PersonalLink } };

/** The validated :token path parameter. */
export type TokenParam = { in: { param: { token: string } }; out: { param: { token: string } } };

const startOver = { path: "/", label: "Subscribe again" };

const linkError = (status: 400 | 410, code: string, title: string, heading: string, message: string) => () =>
  new PageError(status, code, { title, heading, retry: startOver }, message);

/** A tampered link, or one whose subscriber is gone: the same page for both (nothing tells the two apart). */
export const invalidLink = linkError(
  400,
  "invalid_link",
  "Invalid link",
  "This link is not valid",
  "The link may have been cut off or changed, or the subscription it was for no longer exists. Copy the whole link from the email, or start over.",
);

export const expiredLink = linkError(
  410,
  "link_expired",
  "Link expired",
  "This link has expired",
  "Confirmation links work for 7 days. Sign up again and we will send you a fresh one.",
);

/** A genuine link that no longer applies (the subscription was cancelled, removed or asked for again since). */
export const goneLink = linkError(
  410,
  "link_gone",
  "Link no longer valid",
  "This link is no longer valid",
  "This subscription was cancelled, removed or asked for again since the link was sent. You can sign up again at any time.",
);

/**
 * Guards a personal link (/confirm, /unsubscribe, /resubscribe, /manage, /rate): validates its :token against the subscriber
 * it names (whose link key is inside the MAC) for this purpose, and puts the subscriber's row and the token's claims on
 * the context as `link`. A link that does not verify throws a PageError that app.onError renders.
 */
export const personalLink = (purpose: Purpose): MiddlewareHandler<LinkEnv, string, TokenParam> =>
  validator("param", async ({ token = "" }, c: Context<LinkEnv>) => {
    const id = tokenSubject(token);
    const sub = id === null ? undefined : await getSubscriber(database(c.env.DB), id);
    // Verified even when nobody has that id (against an empty key), so a missing row costs the same as a wrong MAC.
    const result = await verifyToken(c.get("cfg").tokenSecret, purpose, token, Date.now(), sub?.linkKey ?? "");
    if (!result.ok && result.reason === "expired") throw expiredLink();
    if (!result.ok || !sub) throw invalidLink();
    c.set("link", { sub, claims: result.claims });
    return { token };
  });
