import type { ContentfulStatusCode } from "hono/utils/http-status";
import { errorPage } from "../../templates/pages";
import { page, type Html } from "../../templates/page";
import type { Ctx } from "./http";
import { verifyToken, type Purpose } from "./tokens";

/** Renders a full HTML page with the response's CSP nonce. */
export function render(c: Ctx, title: string, body: Html, opts: { status?: ContentfulStatusCode; framed?: boolean; head?: Html } = {}) {
  const cfg = c.get("cfg");
  c.header("Cache-Control", "no-store");
  return c.html(
    page({ title, body, head: opts.head, framed: opts.framed, nonce: c.get("secureHeadersNonce") ?? "", siteName: cfg.newsletterName }),
    opts.status ?? 200,
  );
}

/**
 * Checks the token of a personal link (/confirm, /unsubscribe, /manage). A tampered or expired link gets a
 * page that says so and offers a way to start over; the caller gets the subscriber id otherwise.
 */
export async function subscriberFromLink(c: Ctx, purpose: Purpose): Promise<{ id: number } | Response> {
  const cfg = c.get("cfg");
  const result = await verifyToken(cfg.tokenSecret, purpose, c.req.param("token") ?? "");
  if (result.ok) return { id: result.claims.sub };
  const again = { href: new URL("/", cfg.publicUrl).toString(), label: "Subscribe again" };
  if (result.reason === "expired")
    return render(c, "Link expired", errorPage("This link has expired", "Confirmation links work for 7 days. Sign up again and we will send you a fresh one.", again), { status: 410 });
  return render(c, "Invalid link", errorPage("This link is not valid", "The link may have been cut off or changed. Copy the whole link from the email, or start over.", again), { status: 400 });
}
