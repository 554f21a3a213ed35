import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { errorPage } from "../templates/pages";
import { ConfigError, config } from "./config";
import { api, applyPolicy, noStore } from "./lib/headers";
import { ApiError, type AppEnv, PageError, wantsHtml } from "./lib/http";
import { admin } from "./routes/admin";
import { archive, feed } from "./routes/archive";
import { confirm } from "./routes/confirm";
import { dashboard } from "./routes/dashboard";
import { dev } from "./routes/dev";
import { digests } from "./routes/digests";
import { embed } from "./routes/embed";
import { adminAuth, localOnly, tokenLimit } from "./routes/guards";
import { manage } from "./routes/manage";
import { rate } from "./routes/rate";
import { render } from "./routes/render";
import { subscribe } from "./routes/subscribe";
import { resubscribe, unsubscribe } from "./routes/unsubscribe";
import { webhooks } from "./routes/webhooks";

/**
 * The Worker's HTTP side: one small app per concern, mounted by prefix, with the guards of who may call it applied
 * where it is mounted. Errors are thrown (ApiError, PageError) and answered in one place, onError below.
 */
export const app = new Hono<AppEnv>();

// Configuration is checked on every request's way in: a misconfigured deployment answers 500 and logs why.
app.use(async (c, next) => {
  c.set("cfg", config(c.env));
  await next();
});

// Baseline headers for every response; a route's own policy (src/lib/headers.ts) wins.
app.use(api);

app.get("/health", async (c) => {
  await c.env.DB.prepare("SELECT 1").first();
  noStore(c);
  return c.json({ status: "ok" });
});

app.route("/api", subscribe);
app.route("/", embed);
app.route("/archive", archive);
app.route("/", feed); // /feed.xml, /feed/weekly.xml, /feed/daily.xml

// Personal links: the token is the authority (personalLink in src/routes/guards.ts).
app.use("/confirm/*", tokenLimit);
app.route("/confirm", confirm);
app.route("/unsubscribe", unsubscribe);
app.use("/resubscribe/*", tokenLimit);
app.route("/resubscribe", resubscribe);
app.use("/manage/*", tokenLimit);
app.route("/manage", manage);
app.use("/rate/*", tokenLimit);
app.route("/rate", rate);

// The dashboard's pages (session cookie) answer first; everything else under /admin is the bearer-token API.
app.route("/admin", dashboard);
app.use("/admin/*", adminAuth);
app.route("/admin", admin);
app.route("/admin/digests", digests);
app.route("/webhooks", webhooks);

app.use("/dev/*", localOnly);
app.route("/dev", dev);

app.notFound(() => {
  throw new ApiError(404, "not_found", "Not found.");
});

app.onError((err, c) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
    return c.json(
      {
        error: {
          code: "misconfigured",
          message: "The service is not configured correctly; the operator has been told in the logs.",
        },
      },
      500,
    );
  }
  if (err instanceof PageError) {
    // Thrown behind a route's page policy, whose nonce the page uses; anywhere else it gets that policy here.
    if (!c.get("secureHeadersNonce")) applyPolicy(c, "page");
    const { title, heading, retry } = err.page;
    const href = new URL(retry.path, c.get("cfg").publicUrl).toString();
    return render(c, title, errorPage(heading, err.message, { href, label: retry.label }), { status: err.status });
  }
  if (err instanceof HTTPException) {
    const status = err.status;
    const code = err instanceof ApiError ? err.code : status === 401 ? "unauthorized" : "bad_request";
    const headers = err instanceof ApiError ? err.headers : {};
    for (const [k, v] of Object.entries(headers)) c.header(k, v);
    if (!(err instanceof ApiError) && err.res) return err.res;
    if (wantsHtml(c) && c.get("cfg")) {
      const framed = c.get("framed") === true;
      applyPolicy(c, framed ? "framedPage" : "page");
      const home = new URL(framed ? "/form" : "/", c.get("cfg").publicUrl).toString();
      return render(
        c,
        "Something went wrong",
        errorPage(titleFor(status), err.message, { href: home, label: "Back to the form" }),
        { status, framed },
      );
    }
    const details = err instanceof ApiError ? err.details : {};
    return c.json({ error: { code, message: err.message, ...details } }, status);
  }
  // Paths of personal links carry tokens: logs get the route shape only.
  const path = new URL(c.req.url).pathname.replace(
    /^\/(confirm|unsubscribe|resubscribe|manage|rate)\/[^/]+/,
    "/$1/:token",
  );
  console.error("unhandled error", { path, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  return c.json(
    { error: { code: "internal_error", message: "Something went wrong on our side. Please try again later." } },
    500,
  );
});

function titleFor(status: number) {
  if (status === 429) return "Too many attempts";
  if (status === 413) return "That was too much";
  if (status >= 500) return "Please try again later";
  return "That did not work";
}
