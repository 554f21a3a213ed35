import { Hono } from "hono";
import { confirmedPage, confirmPrompt } from "../../templates/pages";
import { confirmSubscriber, database } from "../db/subscribers";
import { secure } from "../lib/headers";
import type { AppEnv } from "../lib/http";
import { manageUrl } from "../lib/links";
import { goneLink, personalLink } from "./guards";
import { render } from "./render";

/**
 * Double opt-in. A GET never changes state (mail scanners open every link, some run its scripts): it shows a page
 * with one button whose form POSTs to the same URL. A confirm link is bound to the confirmation email it was sent
 * in (its `iat` is that email's confirm_sent_at): a newer request makes the older links useless.
 */
export const confirm = new Hono<AppEnv>();

confirm.use(secure("page"));

confirm.get("/:token", personalLink("confirm"), async (c) => {
  const cfg = c.get("cfg");
  return render(
    c,
    "Confirm your subscription",
    confirmPrompt(new URL(c.req.path, cfg.publicUrl).toString(), cfg.newsletterName),
  );
});

confirm.post("/:token", personalLink("confirm"), async (c) => {
  const cfg = c.get("cfg");
  const { sub, claims } = c.get("link");
  // Only the latest confirmation email's link counts (an already active subscriber's link just says so).
  if (sub.confirmSentAt !== claims.iat) throw goneLink();
  const changed = await confirmSubscriber(database(c.env.DB), sub.id, claims.iat, Date.now());
  if (changed) {
    // The subscription stands even if the welcome email cannot be queued; it is a courtesy.
    await c.env.MAIL_QUEUE.send({ kind: "welcome", subscriberId: sub.id }).catch((err) =>
      console.error("confirm: welcome not queued", { subscriberId: sub.id, error: String(err) }),
    );
    return render(c, "Subscribed", confirmedPage(await manageUrl(cfg, sub), cfg.newsletterName, false, sub.cadence));
  }
  if (sub.status === "active")
    return render(c, "Subscribed", confirmedPage(await manageUrl(cfg, sub), cfg.newsletterName, true, sub.cadence));
  throw goneLink();
});
