import { Hono } from "hono";
import { resubscribedPage, resubscribePrompt, unsubscribedPage, unsubscribePrompt } from "../../templates/pages";
import {
  database,
  resubscribe as resubscribeSubscriber,
  unsubscribe as unsubscribeSubscriber,
} from "../db/subscribers";
import { readFields } from "../lib/body";
import { noStore, secure } from "../lib/headers";
import { type AppEnv, limitBody } from "../lib/http";
import { resubscribeUrl } from "../lib/links";
import { personalLink } from "./guards";
import { render } from "./render";

/**
 * Each subscriber's unsubscribe URL, also used in the List-Unsubscribe header (RFC 8058).
 * - POST with List-Unsubscribe=One-Click (what mailbox providers send, no cookies, no auth) → 200, no redirect.
 * - GET → a page with a button (no state change: scanners follow links).
 * - The button's POST → a confirmation page that offers to resubscribe.
 * Not rate limited per IP: mailbox providers send every one-click unsubscribe from a few addresses.
 */
export const unsubscribe = new Hono<AppEnv>();

unsubscribe.use(secure("page"));

unsubscribe.get("/:token", personalLink("unsubscribe"), async (c) => {
  const cfg = c.get("cfg");
  return render(c, "Unsubscribe", unsubscribePrompt(new URL(c.req.path, cfg.publicUrl).toString(), cfg.newsletterName));
});

unsubscribe.post("/:token", limitBody(4096), personalLink("unsubscribe"), async (c) => {
  const { sub } = c.get("link");
  const type = c.req.header("content-type") ?? "";
  // An empty body (some clients) is treated like the one-click POST; the token is the authority.
  const fields = type ? await readFields(c).catch(() => ({}) as Record<string, string>) : {};
  await unsubscribeSubscriber(database(c.env.DB), sub.id, Date.now());
  if (fields["List-Unsubscribe"] === "One-Click" || !fields.confirm) {
    noStore(c);
    return c.text("You have been unsubscribed.", 200);
  }
  const cfg = c.get("cfg");
  return render(c, "Unsubscribed", unsubscribedPage(await resubscribeUrl(cfg, sub), cfg.newsletterName));
});

/**
 * The resubscribe button shown after an unsubscribe: a token of its own purpose, which can do nothing but undo the
 * unsubscribe (the manage link, which can erase or export, never appears on the unsubscribe path). GET shows the
 * button, POST acts.
 */
export const resubscribe = new Hono<AppEnv>();

resubscribe.use(secure("page"));

resubscribe.get("/:token", personalLink("resubscribe"), async (c) => {
  const cfg = c.get("cfg");
  return render(c, "Resubscribe", resubscribePrompt(new URL(c.req.path, cfg.publicUrl).toString(), cfg.newsletterName));
});

resubscribe.post("/:token", limitBody(1024), personalLink("resubscribe"), async (c) => {
  const { sub } = c.get("link");
  await resubscribeSubscriber(database(c.env.DB), sub.id, Date.now());
  return render(c, "Subscribed again", resubscribedPage(c.get("cfg").newsletterName, sub.cadence));
});
