import { Hono } from "hono";
import { confirmedPage, confirmPrompt, errorPage } from "../../templates/pages";
import { confirmSubscriber, database, getSubscriber } from "../db/subscribers";
import { limitByIp, pageSecurity, type AppEnv } from "../lib/http";
import { manageUrl } from "../lib/links";
import { render, subscriberFromLink } from "../lib/render";

/**
 * Double opt-in. A GET never changes state (mail scanners open every link): it shows a page whose form
 * POSTs to the same URL, submitted by script at once, or by the button when scripts are off.
 */
export const confirm = new Hono<AppEnv>();

confirm.use("/confirm/*", limitByIp((env) => env.TOKEN_LIMITER), pageSecurity({ frameable: false }));

confirm.get("/confirm/:token", async (c) => {
  const link = await subscriberFromLink(c, "confirm");
  if (link instanceof Response) return link;
  const cfg = c.get("cfg");
  return render(c, "Confirm your subscription", confirmPrompt(c.req.url, cfg.newsletterName, c.get("secureHeadersNonce") ?? ""));
});

confirm.post("/confirm/:token", async (c) => {
  const link = await subscriberFromLink(c, "confirm");
  if (link instanceof Response) return link;
  const cfg = c.get("cfg");
  const db = database(c.env.DB);
  const changed = await confirmSubscriber(db, link.id, Date.now());
  if (changed) {
    // The subscription stands even if the welcome email cannot be queued; it is a courtesy.
    await c.env.MAIL_QUEUE.send({ kind: "welcome", subscriberId: link.id }).catch((err) => console.error("confirm: welcome not queued", { subscriberId: link.id, error: String(err) }));
    return render(c, "Subscribed", confirmedPage(await manageUrl(cfg, link.id), cfg.newsletterName, false));
  }
  const sub = await getSubscriber(db, link.id);
  if (sub?.status === "active") return render(c, "Subscribed", confirmedPage(await manageUrl(cfg, link.id), cfg.newsletterName, true));
  return render(
    c,
    "Link no longer valid",
    errorPage("This link is no longer valid", "This subscription was cancelled or removed since the link was sent. You can sign up again at any time.", {
      href: new URL("/", cfg.publicUrl).toString(),
      label: "Subscribe again",
    }),
    { status: 410 },
  );
});
