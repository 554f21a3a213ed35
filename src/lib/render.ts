import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type Html, page } from "../../templates/page";
import { errorPage } from "../../templates/pages";
import type { Subscriber } from "../db/schema";
import { database, getSubscriber } from "../db/subscribers";
import { noStore } from "./headers";
import type { Ctx } from "./http";
import { type Purpose, type TokenClaims, tokenSubject, verifyToken } from "./tokens";

/** Renders a full HTML page with the response's CSP nonce. */
export function render(
  c: Ctx,
  title: string,
  body: Html,
  opts: { status?: ContentfulStatusCode; framed?: boolean; head?: Html } = {},
) {
  const cfg = c.get("cfg");
  noStore(c);
  return c.html(
    page({
      title,
      body,
      head: opts.head,
      framed: opts.framed,
      nonce: c.get("secureHeadersNonce") ?? "",
      siteName: cfg.newsletterName,
    }),
    opts.status ?? 200,
  );
}

/**
 * Checks the token of a personal link (/confirm, /unsubscribe, /resubscribe, /manage) against the subscriber it names
 * (its link key is inside the MAC). A tampered link, or one whose subscriber is gone, gets the same page (nothing
 * tells the two apart); an expired one says so; both offer a way to start over. The caller gets the subscriber's row
 * and the token's claims.
 */
export async function subscriberFromLink(
  c: Ctx,
  purpose: Purpose,
): Promise<{ sub: Subscriber; claims: TokenClaims } | Response> {
  const cfg = c.get("cfg");
  const token = c.req.param("token") ?? "";
  const id = tokenSubject(token);
  const sub = id === null ? undefined : await getSubscriber(database(c.env.DB), id);
  // Verified even when nobody has that id (against an empty key), so a missing row costs the same as a wrong MAC.
  const result = await verifyToken(cfg.tokenSecret, purpose, token, Date.now(), sub?.linkKey ?? "");
  if (result.ok && sub) return { sub, claims: result.claims };
  const again = { href: new URL("/", cfg.publicUrl).toString(), label: "Subscribe again" };
  if (!result.ok && result.reason === "expired")
    return render(
      c,
      "Link expired",
      errorPage(
        "This link has expired",
        "Confirmation links work for 7 days. Sign up again and we will send you a fresh one.",
        again,
      ),
      { status: 410 },
    );
  return render(
    c,
    "Invalid link",
    errorPage(
      "This link is not valid",
      "The link may have been cut off or changed, or the subscription it was for no longer exists. Copy the whole link from the email, or start over.",
      again,
    ),
    { status: 400 },
  );
}
