import { type Context, Hono } from "hono";
import { html } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  confirmActionPage,
  issuePage,
  issuesPage,
  type Notice,
  type RunRecord,
} from "../../templates/dashboard-issues";
import { readFields } from "../lib/body";
import { applyPolicy } from "../lib/headers";
import { ApiError, type AppEnv, limitBody } from "../lib/http";
import { apiCaller } from "./dashboard-api";
import { digests } from "./digests";
import { render } from "./render";

/**
 * The dashboard's issues (/admin/issues): the list, each issue's run record with a progress bar that refreshes while
 * it sends, its preview, a test send, and send now / pause / resume / cancel / retry failed batches, each confirmed on
 * a page of its own first. Every action goes through the admin API's own routes (src/routes/digests.ts), called
 * in-process (src/routes/dashboard-api.ts).
 */
export const dashboardIssues = new Hono<AppEnv>();

/** The admin API's digest routes (src/routes/digests.ts), called in-process. */
const callApi = apiCaller(digests);

const ACTIONS = {
  send: { label: "Send now", question: "Build and send this edition to every reader of its cadence now?" },
  pause: { label: "Pause", question: "Pause this send? Batches already sent stay sent; the rest waits." },
  resume: { label: "Resume", question: "Resume this send where it stopped?" },
  cancel: { label: "Cancel", question: "Cancel this issue? Nothing more of it is sent, and it cannot be resumed." },
  "retry-failed": { label: "Retry failed batches", question: "Put this issue's failed batches back in the queue?" },
} as const;
type Action = keyof typeof ACTIONS;
const isAction = (a: string): a is Action => Object.hasOwn(ACTIONS, a);

const here = (c: Context<AppEnv>, p: string) => new URL(p, c.get("cfg").publicUrl).toString();
const keyPath = (key: string) => `/admin/issues/${encodeURIComponent(key)}`;

dashboardIssues.get("/", async (c) => {
  const list = await callApi(c, "GET", "/");
  const issues = list.ok ? (list.body as { issues: RunRecord[] }).issues : [];
  return render(c, "Issues", issuesPage({ issues, base: here(c, "/admin/issues"), overview: here(c, "/admin") }));
});

/** The run record page (or the offer to send an edition not started yet); `notice` says what an action just did. */
async function showIssue(c: Context<AppEnv>, key: string, notice?: Notice, status: ContentfulStatusCode = 200) {
  const got = await callApi(c, "GET", `/${encodeURIComponent(key)}`);
  // A key that names no edition (malformed, or not over yet): the API's own answer, as a page.
  if (!got.ok && got.status !== 404) throw new ApiError(got.status as ContentfulStatusCode, "invalid_key", got.message);
  const record = got.ok ? (got.body as RunRecord) : null;
  const live = record?.status === "building" || record?.status === "sending";
  return render(
    c,
    `Issue ${key}`,
    issuePage({ key, record, notice, action: here(c, keyPath(key)), list: here(c, "/admin/issues") }),
    // While it sends, the page reloads itself every 5 seconds: the progress bar moves without any script.
    { status, head: live ? html`<meta http-equiv="refresh" content="5">` : undefined },
  );
}

const DONE: Record<Action, string> = {
  send: "Started: the edition is being built and sent.",
  pause: "Paused.",
  resume: "Resumed.",
  cancel: "Cancelled.",
  "retry-failed": "The failed batches are back in the queue.",
};

/** The list's "open an edition" box: a GET form, to the edition's page. */
dashboardIssues.get("/go", (c) => {
  const key = (c.req.query("key") ?? "").trim().slice(0, 20);
  return c.redirect(here(c, keyPath(key || "-")), 303);
});

dashboardIssues.get("/:key", (c) => {
  const done = c.req.query("done") ?? "";
  return showIssue(c, c.req.param("key"), isAction(done) ? { ok: true, text: DONE[done] } : undefined);
});

dashboardIssues.get("/:key/preview", async (c) => {
  const got = await callApi(c, "GET", `/${encodeURIComponent(c.req.param("key"))}/preview`);
  if (!got.ok) throw new ApiError(got.status === 404 ? 404 : 400, "preview_failed", got.message);
  applyPolicy(c, "emailPreview");
  return c.html(await got.res.text());
});

dashboardIssues.post("/:key/test", limitBody(2048), async (c) => {
  const key = c.req.param("key");
  const { email } = await readFields(c);
  const got = await callApi(c, "POST", `/${encodeURIComponent(key)}/test`, { json: { email: email ?? "" } });
  const text = got.ok
    ? (got.body as { sent: boolean; to: string; reason?: string }).sent
      ? `Test email sent to ${(got.body as { to: string }).to}.`
      : `Test email queued: ${(got.body as { reason?: string }).reason ?? "it goes out shortly"}.`
    : got.message;
  return showIssue(c, key, { ok: got.ok, text }, got.ok ? 200 : (got.status as ContentfulStatusCode));
});

dashboardIssues.post("/:key/:action", limitBody(1024), async (c) => {
  const { key, action } = c.req.param();
  if (!isAction(action)) throw new ApiError(404, "not_found", "Not found.");
  const { confirm } = await readFields(c);
  if (confirm !== "yes")
    return render(
      c,
      `${ACTIONS[action].label}: ${key}`,
      confirmActionPage({
        key,
        label: ACTIONS[action].label,
        question: ACTIONS[action].question,
        action: here(c, `${keyPath(key)}/${action}`),
        back: here(c, keyPath(key)),
      }),
    );
  const got = await callApi(c, "POST", `/${encodeURIComponent(key)}/${action}`);
  if (!got.ok) return showIssue(c, key, { ok: false, text: got.message }, got.status as ContentfulStatusCode);
  return c.redirect(`${here(c, keyPath(key))}?done=${action}`, 303);
});
