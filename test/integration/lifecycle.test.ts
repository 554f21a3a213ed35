import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signToken } from "../../src/lib/tokens";
import { call, outboxFor, sendConfirmation, subscribeJson, subscriberRow } from "../support/helpers";
import { confirmed, postForm, signup } from "../support/subscribers";

describe("confirm", () => {
  it("GET shows a page that confirms by POST and changes nothing", async () => {
    const link = await signup("scan@example.com");
    const res = await call(link, { headers: { accept: "text/html" } });
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain(`<form id="confirm" method="post" action="${link}">`);
    expect(page).toContain("<button");
    // Nothing submits the form but a person: a scanner that runs the page's scripts confirms nothing.
    expect(page).not.toMatch(/<script[\s>]/);
    expect((await subscriberRow("scan@example.com"))!.status).toBe("pending");
  });

  it("POST to the exact link confirms, once, and queues one welcome email", async () => {
    const link = await signup("conf@example.com");
    const first = await call(link, { method: "POST" });
    expect(first.status).toBe(200);
    expect(await first.text()).toContain("subscribed!");
    const row = await subscriberRow("conf@example.com");
    expect(row).toMatchObject({ status: "active" });
    expect(row!.confirmed_at).toBeGreaterThan(0);
    const again = await call(link, { method: "POST" });
    expect(again.status).toBe(200);
    expect(await again.text()).toContain("already subscribed");
    expect((await subscriberRow("conf@example.com"))!.confirmed_at).toBe(row!.confirmed_at);
  });

  it("rejects tampered, expired and wrong-purpose tokens with a way to start over", async () => {
    const link = await signup("tamper@example.com");
    const token = link.split("/confirm/")[1]!;
    const flipped = token.slice(0, -2) + (token.at(-2) === "A" ? "B" : "A") + token.at(-1);
    const bad = await call(`/confirm/${flipped}`, { method: "POST" });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("Subscribe again");

    const row = await subscriberRow("tamper@example.com");
    const expired = await signToken(
      env.TOKEN_SECRET!,
      "confirm",
      { sub: Number(row!.id), iat: 1, exp: 2 },
      String(row!.link_key),
    );
    const old = await call(`/confirm/${expired}`, { method: "POST" });
    expect(old.status).toBe(410);
    expect(await old.text()).toContain("expired");

    const unsubToken = await signToken(
      env.TOKEN_SECRET!,
      "unsubscribe",
      { sub: Number(row!.id), iat: 0, exp: 0 },
      String(row!.link_key),
    );
    expect((await call(`/confirm/${unsubToken}`, { method: "POST" })).status).toBe(400);
    expect((await subscriberRow("tamper@example.com"))!.status).toBe("pending");
  });

  it("a confirm link cannot bring back an address that unsubscribed since", async () => {
    const { id, unsubscribe } = await confirmed("back@example.com");
    await postForm(unsubscribe, { "List-Unsubscribe": "One-Click" });
    const key = String((await subscriberRow("back@example.com"))!.link_key);
    const token = await signToken(
      env.TOKEN_SECRET!,
      "confirm",
      { sub: id, iat: Date.now(), exp: Date.now() + 60_000 },
      key,
    );
    const res = await call(`/confirm/${token}`, { method: "POST" });
    expect(res.status).toBe(410);
    expect((await subscriberRow("back@example.com"))!.status).toBe("unsubscribed");
  });
});

describe("welcome email", () => {
  it("carries the manage link and one-click unsubscribe headers", async () => {
    const { welcome } = await confirmed("welcome@example.com");
    const headers = JSON.parse(welcome.headers);
    expect(headers["List-Unsubscribe"]).toMatch(/^<http:\/\/127\.0\.0\.1:8787\/unsubscribe\/[^>]+>$/);
    expect(headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    expect(welcome.html).toContain("/manage/");
  });
});

describe("unsubscribe (RFC 8058)", () => {
  it("one-click POST unsubscribes with 200 and no redirect", async () => {
    const { unsubscribe } = await confirmed("oneclick@example.com");
    const res = await postForm(unsubscribe, { "List-Unsubscribe": "One-Click" });
    expect(res.status).toBe(200);
    expect(res.headers.get("location")).toBeNull();
    expect((await subscriberRow("oneclick@example.com"))!.status).toBe("unsubscribed");
    // Idempotent.
    expect((await postForm(unsubscribe, { "List-Unsubscribe": "One-Click" })).status).toBe(200);
  });

  it("accepts the one-click body as multipart too", async () => {
    const { unsubscribe } = await confirmed("multi@example.com");
    const body = new FormData();
    body.set("List-Unsubscribe", "One-Click");
    expect((await call(unsubscribe, { method: "POST", body })).status).toBe(200);
    expect((await subscriberRow("multi@example.com"))!.status).toBe("unsubscribed");
  });

  it("GET shows a button and changes nothing; the button's POST shows a page with resubscribe", async () => {
    const { unsubscribe } = await confirmed("button@example.com");
    const page = await (await call(unsubscribe)).text();
    expect(page).toContain(`action="${unsubscribe}"`);
    expect((await subscriberRow("button@example.com"))!.status).toBe("active");
    const res = await postForm(unsubscribe, { confirm: "1" });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("You're unsubscribed");
    // The unsubscribe URL is handed to mailbox providers: its pages never carry the manage link (erase, export).
    expect(html).not.toContain("/manage/");
    const resubscribe = html.match(/action="([^"]+\/resubscribe\/[^"]+)"/)![1]!;
    expect((await subscriberRow("button@example.com"))!.status).toBe("unsubscribed");
    expect((await call(resubscribe)).status).toBe(200); // the page behind it: a button, no change
    expect((await subscriberRow("button@example.com"))!.status).toBe("unsubscribed");
    await call(resubscribe, { method: "POST" });
    expect((await subscriberRow("button@example.com"))!.status).toBe("active");
  });

  it("a repeat signup after unsubscribing starts a fresh double opt-in", async () => {
    const { unsubscribe } = await confirmed("again@example.com");
    await postForm(unsubscribe, { "List-Unsubscribe": "One-Click" });
    expect((await subscribeJson("again@example.com")).status).toBe(202);
    const row = await subscriberRow("again@example.com");
    expect(row).toMatchObject({ status: "pending", confirmed_at: null });
    await sendConfirmation("again@example.com");
    expect((await outboxFor("again@example.com")).filter((m) => m.subject.startsWith("Confirm"))).toHaveLength(2);
  });
});

describe("per-address confirmation throttle", () => {
  it("re-sends to a pending address at most once per interval", async () => {
    await subscribeJson("bomb@example.com");
    const first = await subscriberRow("bomb@example.com");
    for (let i = 0; i < 5; i++) expect((await subscribeJson("BOMB@example.com")).status).toBe(202);
    const after = await subscriberRow("bomb@example.com");
    expect(after!.confirm_sent_at).toBe(first!.confirm_sent_at);
    expect(after!.confirm_count).toBe(1);
    // Once the interval has passed, one more is allowed.
    await env.DB.prepare("UPDATE subscribers SET confirm_sent_at = confirm_sent_at - 11 * 60 * 1000 WHERE id = ?")
      .bind(first!.id)
      .run();
    await subscribeJson("bomb@example.com");
    expect((await subscriberRow("bomb@example.com"))!.confirm_count).toBe(2);
  });

  it("caps confirmations at 3 per day", async () => {
    await subscribeJson("cap@example.com");
    for (let i = 0; i < 5; i++) {
      await env.DB.prepare(
        "UPDATE subscribers SET confirm_sent_at = confirm_sent_at - 11 * 60 * 1000 WHERE email_key = 'cap@example.com'",
      ).run();
      await subscribeJson("cap@example.com");
    }
    expect((await subscriberRow("cap@example.com"))!.confirm_count).toBe(3);
  });
});

describe("preferences", () => {
  it("pauses for N weeks, resumes and unsubscribes", async () => {
    const { manage } = await confirmed("prefs@example.com");
    const page = await (await call(manage)).text();
    expect(page).toContain("prefs@example.com");
    const before = Date.now();
    const paused = await postForm(manage, { action: "pause", weeks: "4" });
    expect(await paused.text()).toContain("Paused for 4 weeks");
    const until = Number((await subscriberRow("prefs@example.com"))!.paused_until);
    expect(until).toBeGreaterThanOrEqual(before + 4 * 7 * 24 * 3600 * 1000);
    expect((await postForm(manage, { action: "pause", weeks: "99" })).status).toBe(422);
    await postForm(manage, { action: "resume" });
    expect((await subscriberRow("prefs@example.com"))!.paused_until).toBeNull();
    await postForm(manage, { action: "unsubscribe" });
    expect((await subscriberRow("prefs@example.com"))!.status).toBe("unsubscribed");
    expect((await postForm(manage, { action: "explode" })).status).toBe(422);
  });
});
