/**
 * Personal links (confirm, manage, unsubscribe) belong to one subscriber for good: not to whoever gets their id
 * later, not once a newer confirmation went out; links sent before link keys existed keep working; the manage page
 * builds its own links from PUBLIC_URL. The generated forgeries are in hostile-links.test.ts.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signToken } from "../../src/lib/tokens";
import { call, firstLink, subscriberRow } from "../support/helpers";
import { postForm, signup } from "../support/subscribers";

/** Signs up and confirms; the manage link is the one on the confirmation page. */
const confirmAndManage = async (email: string) => {
  const confirm = await signup(email);
  const page = await (await call(confirm, { method: "POST" })).text();
  return { confirm, manage: firstLink(page, "/manage/") };
};

describe("links are bound to one subscriber, for good", () => {
  it("after erasure, an old manage or confirm link controls nobody, not even whoever signs up next", async () => {
    const attacker = await confirmAndManage("holes-attacker@example.com");
    const attackerId = Number((await subscriberRow("holes-attacker@example.com"))!.id);
    expect((await postForm(attacker.manage, { action: "erase", confirm: "yes" })).status).toBe(200);

    await signup("holes-victim@example.com");
    const victim = (await subscriberRow("holes-victim@example.com"))!;
    expect(Number(victim.id)).toBeGreaterThan(attackerId); // ids are never reused
    for (const res of [
      await call(attacker.manage),
      await call(`${attacker.manage}/data.json`),
      await postForm(attacker.manage, { action: "unsubscribe" }),
      await call(attacker.confirm, { method: "POST" }),
    ])
      expect(res.status).toBe(400);
    expect(await subscriberRow("holes-victim@example.com")).toEqual(victim);
  });

  it("even a row that gets an old id (restored from a backup, say) does not answer to that id's old links", async () => {
    const old = await confirmAndManage("holes-old-owner@example.com");
    const id = Number((await subscriberRow("holes-old-owner@example.com"))!.id);
    await env.DB.prepare("DELETE FROM subscribers WHERE id = ?").bind(id).run();
    await env.DB.prepare(
      "INSERT INTO subscribers (id, email, email_key, status, source, created_at, consent_at, link_key) VALUES (?, 'holes-new-owner@example.com', 'holes-new-owner@example.com', 'active', 'api', 0, 0, lower(hex(randomblob(16))))",
    )
      .bind(id)
      .run();
    expect((await call(old.manage)).status).toBe(400);
    expect((await postForm(old.manage, { action: "unsubscribe" })).status).toBe(400);
    expect((await subscriberRow("holes-new-owner@example.com"))!.status).toBe("active");
  });

  it("a confirm link is bound to the confirmation it was sent in: a newer request makes it useless", async () => {
    const first = await signup("holes-twice@example.com");
    await env.DB.prepare(
      "UPDATE subscribers SET confirm_sent_at = confirm_sent_at - 11 * 60 * 1000 WHERE email_key = 'holes-twice@example.com'",
    ).run();
    const second = await signup("holes-twice@example.com");
    expect(second).not.toBe(first);
    expect((await call(first, { method: "POST" })).status).toBe(410);
    expect((await subscriberRow("holes-twice@example.com"))!.status).toBe("pending");
    expect((await call(second, { method: "POST" })).status).toBe(200);
    expect((await subscriberRow("holes-twice@example.com"))!.status).toBe("active");
  });

  it("links already sent to subscribers from before link keys keep working", async () => {
    const row = await env.DB.prepare(
      "INSERT INTO subscribers (email, email_key, status, source, created_at, consent_at, confirmed_at) VALUES ('holes-legacy@example.com', 'holes-legacy@example.com', 'active', 'api', 0, 0, 0) RETURNING id, link_key",
    ).first<{ id: number; link_key: string }>();
    expect(row!.link_key).toBe("");
    const legacy = await signToken(env.TOKEN_SECRET!, "manage", { sub: row!.id, iat: 0, exp: 0 }); // as signed before link keys
    const page = await call(`/manage/${legacy}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("holes-legacy@example.com");
  });
});

describe("the manage page builds its links from PUBLIC_URL", () => {
  it("a manage link opened with a query string still offers the right data link and form action", async () => {
    await env.DB.prepare(
      "INSERT INTO subscribers (email, email_key, status, source, created_at, consent_at, link_key) VALUES ('utm-reader@example.com', 'utm-reader@example.com', 'active', 'api', 0, 0, 'abcabcabcabcabcabcabcabcabcabcab')",
    ).run();
    const row = (await subscriberRow("utm-reader@example.com"))!;
    const token = await signToken(
      env.TOKEN_SECRET!,
      "manage",
      { sub: Number(row.id), iat: 0, exp: 0 },
      String(row.link_key),
    );
    const page = await (await call(`/manage/${token}?utm_source=newsletter&x=%22%3E`)).text();
    expect(page).toContain(`href="http://127.0.0.1:8787/manage/${token}/data.json"`);
    expect(page).toContain(`action="http://127.0.0.1:8787/manage/${token}"`);
    expect(page).not.toContain("utm_source");
  });
});
