/**
 * The dashboard's issue pages (issue 12): the list, a run record with its progress bar (refreshing while it sends),
 * actions confirmed on a page of their own before they change anything, a test send, and refusals (no session,
 * cross-site, unknown action, a key that names no edition).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { FORM, session } from "../support/dashboard";
import { BASE, call, outboxFor } from "../support/helpers";

/** An issue row in a given state, as the run machinery would have left it. */
const seed = (week: string, status: string, o: { recipients?: number; sent?: number; failures?: number } = {}) =>
  env.DB.prepare(
    "INSERT INTO issues (week, cadence, status, subject, papers, html, text, started_at, recipients, sent, batches, batches_sent, failures, fanout_done) VALUES (?, 'weekly', ?, 'Top papers', '[]', '<p>most upvoted papers</p>', 'most upvoted papers', ?, ?, ?, 4, 2, ?, 1)",
  )
    .bind(week, status, Date.now(), o.recipients ?? 400, o.sent ?? 200, o.failures ?? 0)
    .run();
const statusOf = async (week: string) =>
  (await env.DB.prepare("SELECT status FROM issues WHERE week = ?").bind(week).first<{ status: string }>())?.status;

const get = async (path: string, cookie: string) => call(path, { headers: { cookie }, redirect: "manual" });
const post = (path: string, cookie: string, fields: Record<string, string> = {}, origin = BASE) =>
  call(path, {
    method: "POST",
    headers: { ...FORM, origin, cookie },
    body: new URLSearchParams(fields).toString(),
    redirect: "manual",
  });

describe("dashboard issues", () => {
  it("needs a session: without one every page sends the operator to sign in", async () => {
    for (const path of ["/admin/issues", "/admin/issues/2019-W10", "/admin/issues/2019-W10/preview"]) {
      const res = await call(path, { redirect: "manual" });
      expect(res.status, path).toBe(303);
      expect(res.headers.get("location")).toBe(`${BASE}/admin/sign-in`);
    }
    const res = await call("/admin/issues/2019-W10/cancel", {
      method: "POST",
      headers: FORM,
      body: "confirm=yes",
      redirect: "manual",
    });
    expect(res.status).toBe(303);
  });

  it("lists the issues with links to each", async () => {
    await seed("2019-W11", "sent", { sent: 400 });
    const page = await (await get("/admin/issues", await session())).text();
    expect(page).toContain(`<a href="${BASE}/admin/issues/2019-W11">2019-W11</a>`);
    expect(page).toContain("400 / 400");
  });

  it("a sending issue shows its progress, refreshes itself, and offers pause and cancel", async () => {
    await seed("2019-W12", "sending", { recipients: 400, sent: 100 });
    const page = await (await get("/admin/issues/2019-W12", await session())).text();
    expect(page).toContain('<progress id="progress" max="400" value="100">25.0 %</progress>');
    expect(page).toContain('<meta http-equiv="refresh" content="5">');
    expect(page).toContain("/2019-W12/pause");
    expect(page).toContain("/2019-W12/cancel");
    expect(page).not.toContain("/2019-W12/resume");
  });

  it("a finished issue does not refresh; one with failed batches offers to retry them", async () => {
    await seed("2019-W13", "sent", { failures: 1 });
    const page = await (await get("/admin/issues/2019-W13", await session())).text();
    expect(page).not.toContain("http-equiv");
    expect(page).toContain("/2019-W13/retry-failed");
  });

  it("pause asks first (nothing changes), then pauses; resume is then offered", async () => {
    await seed("2019-W14", "sending");
    const cookie = await session();
    const ask = await post("/admin/issues/2019-W14/pause", cookie);
    expect(ask.status).toBe(200);
    const question = await ask.text();
    expect(question).toContain("Pause this send?");
    expect(question).toContain('<input type="hidden" name="confirm" value="yes">');
    expect(await statusOf("2019-W14")).toBe("sending");

    const done = await post("/admin/issues/2019-W14/pause", cookie, { confirm: "yes" });
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe(`${BASE}/admin/issues/2019-W14?done=pause`);
    expect(await statusOf("2019-W14")).toBe("paused");
    const page = await (await get("/admin/issues/2019-W14?done=pause", cookie)).text();
    expect(page).toContain('<p class="ok" role="status">Paused.</p>');
    expect(page).toContain("/2019-W14/resume");
  });

  it("an action the issue's state does not allow says why, and changes nothing", async () => {
    await seed("2019-W15", "sent");
    const res = await post("/admin/issues/2019-W15/cancel", await session(), { confirm: "yes" });
    expect(res.status).toBe(409);
    expect(await res.text()).toContain("The issue is sent; this needs it building, sending or paused.");
    expect(await statusOf("2019-W15")).toBe("sent");
  });

  it("cross-site action posts, unknown actions and keys that name no edition are refused", async () => {
    await seed("2019-W16", "sending");
    const cookie = await session();
    expect(
      (await post("/admin/issues/2019-W16/cancel", cookie, { confirm: "yes" }, "https://evil.example")).status,
    ).toBe(403);
    expect(await statusOf("2019-W16")).toBe("sending");
    expect((await post("/admin/issues/2019-W16/delete", cookie, { confirm: "yes" })).status).toBe(404);
    for (const key of ["2019-47", "<script>", "2099-W01"]) {
      const res = await get(`/admin/issues/${encodeURIComponent(key)}`, cookie);
      expect([400, 422], key).toContain(res.status);
      expect(await res.text()).not.toContain("<script>");
    }
  });

  it("an edition not started offers Send now; the preview renders it; a test send mails one address", async () => {
    const cookie = await session();
    const page = await (await get("/admin/issues/2026-W40", cookie)).text();
    expect(page).toContain("Not started yet");
    expect(page).toContain("/2026-W40/send");
    const preview = await get("/admin/issues/2026-W40/preview", cookie);
    expect(preview.status).toBe(200);
    expect(await preview.text()).toContain("most upvoted papers");

    const to = `dash-test-${Date.now()}@example.com`;
    const sent = await post("/admin/issues/2026-W40/test", cookie, { email: to });
    expect(sent.status).toBe(200);
    expect(await sent.text()).toMatch(/Test email (sent to|queued)/);
    const mail = await outboxFor(to);
    expect(mail).toHaveLength(1);
    expect(mail[0]!.subject).toMatch(/^\[Test\] /);

    const bad = await post("/admin/issues/2026-W40/test", cookie, { email: "not an address" });
    expect(bad.status).toBe(422);
    expect(await statusOf("2026-W40")).toBeUndefined(); // previews and tests store nothing
  });
});
