import type { Context, MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { Config } from "../config";
import { type AppEnv, type Ctx, isLocalRequest } from "./http";

/**
 * The response headers of each kind of answer, by name. Every response gets `api` (Hono's secureHeaders: a deny-all
 * CSP and its baseline headers, which never override what a route set itself); the other policies are applied by a
 * route with secure() or applyPolicy() and win over `api`.
 */

/** JSON, files and everything not covered by another policy; mounted once for the whole app. */
export const api = secureHeaders({
  contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  crossOriginResourcePolicy: false,
  crossOriginOpenerPolicy: false,
  // Pages set X-Frame-Options themselves (the embeddable form must stay frameable); JSON needs none.
  xFrameOptions: false,
  referrerPolicy: "no-referrer",
  overwrite: false,
});

/** The origins allowed to frame our frameable pages, as a CSP source list. */
const frameAncestors = (cfg: Config) =>
  cfg.allowedOrigins === "*" ? "*" : cfg.allowedOrigins.length ? cfg.allowedOrigins.join(" ") : "'none'";

const b64 = (u8: Uint8Array) => btoa(String.fromCharCode(...u8));

/**
 * An HTML page of ours: a strict CSP whose per-response nonce covers the one inline style and script, nosniff, no
 * referrer. Pages refuse framing unless they belong to the embeddable form.
 */
function pageHeaders(c: Ctx, frameable: boolean) {
  const cfg = c.get("cfg");
  const nonce = b64(crypto.getRandomValues(new Uint8Array(16)));
  const self = `'self' ${cfg.publicUrl.origin}`;
  const turnstile = cfg.turnstileSiteKey ? " https://challenges.cloudflare.com" : "";
  c.set("secureHeadersNonce", nonce);
  c.header(
    "Content-Security-Policy",
    [
      "default-src 'none'",
      "base-uri 'none'",
      `style-src 'nonce-${nonce}'`,
      `script-src 'nonce-${nonce}' ${self}${turnstile}`,
      `img-src ${self} data:`,
      `connect-src ${self}`,
      `frame-src ${turnstile ? turnstile.trim() : "'none'"}`,
      `form-action ${self}`,
      `frame-ancestors ${frameable ? frameAncestors(cfg) : "'none'"}`,
    ].join("; "),
  );
  if (frameable) c.res.headers.delete("X-Frame-Options");
  c.header("X-Frame-Options", frameable ? undefined : "DENY");
  c.header("Cross-Origin-Resource-Policy", frameable ? "cross-origin" : "same-origin");
  c.header("X-Content-Type-Options", "nosniff");
  c.header("Referrer-Policy", "no-referrer");
  if (!isLocalRequest(c)) c.header("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
}

const policies = {
  /** Our pages, not frameable. */
  page: (c: Ctx) => pageHeaders(c, false),
  /** The embeddable form and the pages reached from it: frameable by ALLOWED_ORIGINS. */
  framedPage: (c: Ctx) => pageHeaders(c, true),
  /** A script that other sites load (embed.js): readable cross-origin, never sniffed as anything else. */
  script: (c: Ctx) => {
    c.header("Cross-Origin-Resource-Policy", "cross-origin");
    c.header("X-Content-Type-Options", "nosniff");
  },
  /** An issue's web version: the email's own markup (inline styles only, no script), and exactly that. */
  archive: (c: Ctx) => {
    c.header(
      "Content-Security-Policy",
      "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
    c.header("X-Frame-Options", "DENY");
  },
  /** An operator's preview of an issue's email HTML. */
  emailPreview: (c: Ctx) =>
    c.header(
      "Content-Security-Policy",
      "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'none'",
    ),
  /** A captured email's HTML in the local outbox, as a mail client would show it: sandboxed, nothing in it can run. */
  devOutbox: (c: Ctx) =>
    c.header(
      "Content-Security-Policy",
      "sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation; default-src 'none'; style-src 'unsafe-inline'; img-src * data:",
    ),
} satisfies Record<string, (c: Ctx) => void>;

export type Policy = keyof typeof policies;

/** Sets a policy's headers on the response being built (also from onError, outside any route's middleware). */
export const applyPolicy = (c: Ctx, policy: Policy) => policies[policy](c);

/** The same as route middleware: the headers are set before the handler runs (a page reads its nonce from them). */
export const secure =
  (policy: Policy): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    applyPolicy(c, policy);
    await next();
  };

/** Personal or one-off answers: no cache may keep them. */
export const noStore = (c: Context) => c.header("Cache-Control", "no-store");
