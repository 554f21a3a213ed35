/**
 * The dashboard's settings page: the effective configuration, secrets only as set or not set (never their values),
 * and the production checklist as seen from inside the Worker (local test env: http PUBLIC_URL, LOCAL_DEV=1).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { session } from "../support/dashboard";
import { BASE, call, fetchWith } from "../support/helpers";

const settings = async () => {
  const res = await call("/admin/settings", { headers: { cookie: await session() }, redirect: "manual" });
  expect(res.status).toBe(200);
  return res.text();
};

/** The cells of the table row headed `name` (its th and every td), tags stripped. */
const row = (page: string, name: string) => {
  const tr = page.split("<tr>").find((r) => r.startsWith(`<th scope="row">${name}</th>`));
  expect(tr, name).toBeDefined();
  return tr!.replace(/<[^>]+>/g, "|");
};

describe("dashboard settings", () => {
  it("needs a session: without one the operator is sent to sign in", async () => {
    const res = await call("/admin/settings", { redirect: "manual" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${BASE}/admin/sign-in`);
  });

  it("shows each secret only as set or not set, never its value", async () => {
    const page = await settings();
    expect(row(page, "TOKEN_SECRET")).toContain("|set|");
    expect(row(page, "ADMIN_TOKEN")).toContain("|set|");
    expect(row(page, "HF_TOKEN")).toMatch(/\|(not )?set\|/);
    expect(row(page, "TURNSTILE_SECRET")).toMatch(/\|(not )?set\|/);
    expect(page).not.toContain(env.TOKEN_SECRET);
    expect(page).not.toContain(env.ADMIN_TOKEN!);
    expect(page.length).toBeLessThan(60_000);
  });

  it("Resend's secrets, when set, show as set and their values nowhere", async () => {
    const key = "re_secret_value_123";
    // RESEND_WEBHOOK_SECRET must be whsec_ and 16+ base64 characters (src/config.ts) or the Worker refuses to start.
    const whsec = "whsec_c2VjcmV0c2VjcmV0c2VjcmV0";
    const res = await fetchWith(
      { RESEND_API_KEY: key, RESEND_WEBHOOK_SECRET: whsec },
      new Request(new URL("/admin/settings", BASE), { headers: { cookie: await session() }, redirect: "manual" }),
    );
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(row(page, "RESEND_API_KEY")).toContain("|set|");
    expect(row(page, "RESEND_WEBHOOK_SECRET")).toContain("|set|");
    expect(row(page, "RESEND_API_KEY set")).toContain("|ok|");
    expect(row(page, "RESEND_WEBHOOK_SECRET set")).toContain("|ok|");
    for (const secret of [key, whsec, "c2VjcmV0", env.TOKEN_SECRET, env.ADMIN_TOKEN!])
      expect(page).not.toContain(secret);
  });

  it("the checklist: http PUBLIC_URL is missing locally; queues and D1 are ok; DNS names the MAIL_FROM domain", async () => {
    const page = await settings();
    expect(row(page, "PUBLIC_URL uses https")).toContain("|missing|");
    expect(page).toContain('<td class="err">missing</td>');
    expect(row(page, "MAIL_QUEUE binding")).toContain("|ok|");
    expect(row(page, "DIGEST_QUEUE binding")).toContain("|ok|");
    expect(row(page, "D1 database reachable")).toContain("|ok|");
    const domain = env.MAIL_FROM.match(/@([^\s>]+)/)![1]!;
    const dns = row(page, `DNS for ${domain}`);
    expect(dns).toContain("|check by hand|");
    expect(dns).toContain(`_dmarc.${domain}`);
    expect(dns).toMatch(/SPF.*DKIM.*DMARC/);
    expect(row(page, "ALLOWED_ORIGINS not *")).toContain("|recommended|");
  });

  it("webhook events: none recent asks to register the URL; one in the last week is ok", async () => {
    await env.DB.prepare("DELETE FROM webhook_events").run();
    expect(row(await settings(), "Webhook events received")).toContain(`register ${BASE}/webhooks/resend in Resend`);
    await env.DB.prepare("INSERT INTO webhook_events (svix_id, type, received_at) VALUES (?, 'email.delivered', ?)")
      .bind(`msg_settings_${Date.now()}`, Date.now() - 60_000)
      .run();
    expect(row(await settings(), "Webhook events received")).toContain("|ok|");
  });

  it("shows the effective configuration", async () => {
    const page = await settings();
    expect(row(page, "PUBLIC_URL")).toContain(BASE);
    expect(row(page, "LOCAL_DEV")).toContain("1 (local development)");
    expect(row(page, "DIGEST_SIZE")).toContain("|10|");
    expect(row(page, "PAPERS_SOURCE")).toContain("sample");
    expect(row(page, "CF_ACCESS_TEAM_DOMAIN")).toContain("(default / not set)");
    expect(row(page, "Cloudflare Access in front of /admin")).toContain("|optional|");
  });

  it("with Cloudflare Access configured, the settings name the team and the checklist marks it ok", async () => {
    const res = await fetchWith(
      { CF_ACCESS_TEAM_DOMAIN: "papers.cloudflareaccess.com", CF_ACCESS_AUD: "aud-tag-0123456789abcdef" },
      new Request(new URL("/admin/settings", BASE), { headers: { cookie: await session() }, redirect: "manual" }),
    );
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(row(page, "CF_ACCESS_TEAM_DOMAIN")).toContain("papers.cloudflareaccess.com");
    expect(row(page, "CF_ACCESS_AUD")).toContain("aud-tag-0123456789abcdef");
    expect(row(page, "Cloudflare Access in front of /admin")).toContain("|ok|");
  });
});
