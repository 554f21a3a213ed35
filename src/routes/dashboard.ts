import { Hono, type MiddlewareHandler } from "hono";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { timingSafeEqual } from "hono/utils/buffer";
import { overviewPage, signInPage } from "../../templates/dashboard";
import { weeklyActivity } from "../db/activity";
import { activeByCadence, byCadence, recentIssues, suppressionCount } from "../db/overview";
import { countByStatus, database } from "../db/subscribers";
import { breakerState } from "../digest/issues";
import { readFields } from "../lib/body";
import { secure } from "../lib/headers";
import { ApiError, type AppEnv, limitBody, limitByIp, perConfig } from "../lib/http";
import { sendBudget } from "../mail/budget";
import { dashboardIssues } from "./dashboard-issues";
import { dashboardSettings } from "./dashboard-settings";
import { dashboardSubscribers } from "./dashboard-subscribers";
import { render } from "./render";
import { endSession, hasSession, startSession } from "./session";

/**
 * The operator's dashboard, mounted at /admin ahead of the bearer-token API: GET /admin, /admin/sign-in and
 * /admin/sign-out. Signed in by the admin token on a form (a session cookie, src/routes/session.ts); every form post
 * must come from our own origin (Hono's csrf). Without ADMIN_TOKEN none of it exists.
 */
export const dashboard = new Hono<AppEnv>();

/** The dashboard's own paths: the API mounted beside it under /admin keeps its own headers and guard. */
const PAGES = ["/", "/sign-in", "/sign-out", "/issues", "/issues/*", "/readers", "/readers/*", "/settings"];

dashboard.on(["GET", "POST"], PAGES, async (c, next) => {
  if (!c.get("cfg").adminToken) throw new ApiError(404, "not_found", "Not found.");
  c.set("wide", true);
  await next();
});
dashboard.on(["GET", "POST"], PAGES, secure("page"));
dashboard.on(
  "POST",
  ["/sign-in", "/sign-out", "/issues/:key/:action", "/readers/import", "/readers/:id/erase"],
  perConfig(({ publicUrl }) => async (c, next) => {
    try {
      return await csrf({ origin: publicUrl.origin, secFetchSite: "same-origin" })(c, next);
    } catch (err) {
      if (err instanceof HTTPException && !(err instanceof ApiError) && err.status === 403)
        throw new ApiError(403, "cross_site", "This form can only be sent from the dashboard itself.");
      throw err;
    }
  }),
);

const path = (c: { get: (k: "cfg") => { publicUrl: URL } }, p: string) => new URL(p, c.get("cfg").publicUrl).toString();

/** A wrong token costs its sender this long, on top of the per-network limit (ADMIN_LIMITER: 5 attempts a minute). */
const WRONG_TOKEN_DELAY_MS = 300;

dashboard.get("/sign-in", (c) => render(c, "Sign in", signInPage(path(c, "/admin/sign-in"))));

dashboard.post(
  "/sign-in",
  limitBody(2048),
  limitByIp((env) => env.ADMIN_LIMITER),
  async (c) => {
    const cfg = c.get("cfg");
    const { token } = await readFields(c);
    if (!token || !(await timingSafeEqual(token, cfg.adminToken!))) {
      await new Promise((r) => setTimeout(r, WRONG_TOKEN_DELAY_MS));
      return render(c, "Sign in", signInPage(path(c, "/admin/sign-in"), "That is not the admin token."), {
        status: 401,
      });
    }
    await startSession(c, Date.now());
    return c.redirect(path(c, "/admin"), 303);
  },
);

dashboard.post("/sign-out", limitBody(1024), (c) => {
  endSession(c);
  return c.redirect(path(c, "/admin/sign-in"), 303);
});

/** Every page but sign-in needs a session; without one the operator is sent to sign in. */
const signedIn: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!(await hasSession(c, Date.now()))) return c.redirect(path(c, "/admin/sign-in"), 303);
  await next();
};
dashboard.get("/", signedIn);
dashboard.get("/issues", signedIn);
dashboard.get("/issues/*", signedIn);
dashboard.get("/readers", signedIn);
dashboard.get("/readers/*", signedIn);
dashboard.get("/settings", signedIn);
// Only where a form posts (an issue's actions); other methods fall through to "not found" below.
dashboard.post("/issues/:key/:action", signedIn);
dashboard.post("/readers/import", signedIn);
dashboard.post("/readers/:id/erase", signedIn);

dashboard.route("/issues", dashboardIssues);
dashboard.route("/readers", dashboardSubscribers);
dashboard.route("/settings", dashboardSettings);

dashboard.get("/", async (c) => {
  const cfg = c.get("cfg");
  const db = database(c.env.DB);
  const [cadences, latest, [suppressed]] = await db.batch([
    activeByCadence(db),
    recentIssues(db),
    suppressionCount(db),
  ]);
  const [budget, activity] = await Promise.all([sendBudget(c.env).state(), weeklyActivity(db, Date.now())]);
  const attention = [
    ...latest
      .filter((i) => i.status === "paused" || i.status === "failed")
      .map((i) => `${i.week} is ${i.status}${i.paused_reason ? `: ${i.paused_reason}` : ""}.`),
    ...(budget.quota ? [`Sending is paused: Resend answered ${budget.quota.code} (since ${budget.quota.since}).`] : []),
    ...(cfg.resendApiKey && !cfg.resendWebhookSecret
      ? ["RESEND_WEBHOOK_SECRET is not set: bounces and complaints are not recorded."]
      : []),
  ];
  return render(
    c,
    "Dashboard",
    overviewPage({
      name: cfg.newsletterName,
      signOut: path(c, "/admin/sign-out"),
      base: path(c, "/admin"),
      subscribers: await countByStatus(db),
      cadence: byCadence(cadences),
      suppressed: suppressed?.n ?? 0,
      issues: latest.map((i) => ({ ...i, breaker: breakerState(i, cfg.breakerMinDeliveries) })),
      activity,
      attention,
    }),
  );
});

// Any other method on the dashboard's paths: not found, as elsewhere (not the bearer API's 401).
for (const p of PAGES)
  dashboard.all(p, () => {
    throw new ApiError(404, "not_found", "Not found.");
  });
