import { Hono } from "hono";
import { embedScript } from "../../templates/embed";
import { landingPage, subscribeForm, thanksPage, turnstileScript } from "../../templates/pages";
import { applyPolicy, noStore, secure } from "../lib/headers";
import { type AppEnv, isLocalRequest } from "../lib/http";
import { formToken } from "../lib/links";
import { render } from "./render";

/** The three ways to put the signup form on a site (script, iframe, plain form) and the pages around them. */
export const embed = new Hono<AppEnv>();

const endpoint = (url: URL) => new URL("/api/subscribe", url).toString();

embed.get("/embed.js", async (c) => {
  const cfg = c.get("cfg");
  // Fresh per load: the script carries the signed render time of the form it draws.
  noStore(c);
  applyPolicy(c, "script");
  return c.body(
    embedScript({
      endpoint: endpoint(cfg.publicUrl),
      ts: await formToken(cfg),
      turnstileSiteKey: cfg.turnstileSiteKey,
    }),
    200,
    {
      "Content-Type": "text/javascript; charset=utf-8",
    },
  );
});

/**
 * Standalone form for iframes; works with JavaScript off (POST → 303 → thank-you page, all frameable).
 * /form?topics=1 adds the topic checkboxes, /form?cadence=1 the weekly/daily choice.
 */
embed.get("/form", secure("framedPage"), async (c) => {
  const cfg = c.get("cfg");
  return render(
    c,
    "Subscribe",
    subscribeForm({
      action: endpoint(cfg.publicUrl),
      ts: await formToken(cfg),
      framed: true,
      turnstileSiteKey: cfg.turnstileSiteKey,
      topics: c.req.query("topics") === "1",
      cadence: c.req.query("cadence") === "1",
    }),
    {
      framed: true,
      head: cfg.turnstileSiteKey ? turnstileScript(c.get("secureHeadersNonce") ?? "") : undefined,
    },
  );
});

embed.get("/thanks", (c) => {
  const framed = c.req.query("frame") === "1";
  applyPolicy(c, framed ? "framedPage" : "page");
  const cfg = c.get("cfg");
  return render(c, "Check your inbox", thanksPage(new URL(framed ? "/form" : "/", cfg.publicUrl).toString()), {
    framed,
  });
});

embed.get("/", secure("page"), (c) => {
  const cfg = c.get("cfg");
  const outbox = isLocalRequest(c) && !cfg.resendApiKey ? "/dev/outbox" : null;
  return render(
    c,
    "Subscribe",
    landingPage(new URL("/embed.js", cfg.publicUrl).toString(), "/form", outbox, cfg.newsletterName),
  );
});
