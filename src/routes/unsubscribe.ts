import { Hono } from "hono";
import { unsubscribedPage, unsubscribePrompt } from "../../templates/pages";
import { database, unsubscribe as unsubscribeSubscriber } from "../db/subscribers";
import { readFields } from "../lib/body";
import { ApiError, limitBody, pageSecurity, type AppEnv } from "../lib/http";
import { manageUrl } from "../lib/links";
import { render, subscriberFromLink } from "../lib/render";

/**
 * Each subscriber's unsubscribe URL, also used in the List-Unsubscribe header (RFC 8058).
 * - POST with List-Unsubscribe=One-Click (what mailbox providers send, no cookies, no auth) → 200, no redirect.
 * - GET → a page with a button (no state change: scanners follow links).
 * - The button's POST → a confirmation page that offers to resubscribe.
 * Not rate limited per IP: mailbox providers send every one-click unsubscribe from a few addresses.
 */
export const unsubscribe = new Hono<AppEnv>();

unsubscribe.use("/unsubscribe/*", pageSecurity({ frameable: false }));

unsubscribe.get("/unsubscribe/:token", async (c) => {
  const link = await subscriberFromLink(c, "unsubscribe");
  if (link instanceof Response) return link;
  return render(c, "Unsubscribe", unsubscribePrompt(c.req.url, c.get("cfg").newsletterName));
});

unsubscribe.post(
  "/unsubscribe/:token",
  limitBody(4096),
  async (c) => {
    const link = await subscriberFromLink(c, "unsubscribe");
    if (link instanceof Response) return link;
    const type = c.req.header("content-type") ?? "";
    // An empty body (some clients) is treated like the one-click POST; the token is the authority.
    const fields = type ? await readFields(c).catch(() => ({}) as Record<string, string>) : {};
    await unsubscribeSubscriber(database(c.env.DB), link.id, Date.now());
    if (fields["List-Unsubscribe"] === "One-Click" || !fields.confirm) {
      c.header("Cache-Control", "no-store");
      return c.text("You have been unsubscribed.", 200);
    }
    const cfg = c.get("cfg");
    return render(c, "Unsubscribed", unsubscribedPage(await manageUrl(cfg, link.id), cfg.newsletterName));
  },
);
