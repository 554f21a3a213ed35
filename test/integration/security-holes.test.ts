import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { config } from "../../src/config";
import type { DigestJob } from "../../src/digest/jobs";
import { handleDigestJob } from "../../src/digest/run";
import { signToken } from "../../src/lib/tokens";
import type { Paper } from "../../src/papers/paper";
import { call, confirmJobFor, firstLink, outboxFor, runMailQueue, subscribeJson, subscriberRow } from "../support/helpers";
import { holdingQueue } from "../support/queues";

// Regression tests for the holes an adversarial review found (issue 8), one `describe` per finding.
const fetchWith = (overrides: Partial<Env>, req: Request) => worker.fetch!(req as never, { ...env, ...overrides }, createExecutionContext());
const json = { "content-type": "application/json", accept: "application/json", "cf-connecting-ip": "203.0.113.9" };

describe("local mode is explicit, never inferred from PUBLIC_URL", () => {
  it("a Worker deployed with wrangler.toml's local PUBLIC_URL and no Resend key is misconfigured, outbox included", async () => {
    const deployed = { LOCAL_DEV: undefined, RESEND_API_KEY: undefined, PUBLIC_URL: "http://127.0.0.1:8787" };
    for (const path of ["/dev/outbox", "/dev/outbox.json", "/health", "/"]) {
      const res = await fetchWith(deployed, new Request(`https://newsletter.example.workers.dev${path}`));
      expect(res.status, path).toBe(500);
      expect(await res.json()).toMatchObject({ error: { code: "misconfigured" } });
    }
  });

  it("even with LOCAL_DEV, a request to a public host sees no outbox and no D1 timing header", async () => {
    const outbox = await fetchWith({}, new Request("https://newsletter.example.org/dev/outbox.json"));
    expect(outbox.status).toBe(404);
    const signup = await fetchWith({}, new Request("https://newsletter.example.org/api/subscribe", { method: "POST", headers: json, body: JSON.stringify({ email: "timing-oracle@example.com" }) }));
    expect(signup.status).toBe(202);
    expect(signup.headers.get("server-timing")).toBeNull();
    expect(signup.headers.get("strict-transport-security")).toContain("max-age");
  });

  it("locally (LOCAL_DEV and a loopback host) the outbox and the timing header exist", async () => {
    expect((await fetchWith({}, new Request("http://127.0.0.1:8787/dev/outbox.json"))).status).toBe(200);
    const signup = await fetchWith({}, new Request("http://127.0.0.1:8787/api/subscribe", { method: "POST", headers: json, body: JSON.stringify({ email: "local-timing@example.com" }) }));
    expect(signup.headers.get("server-timing")).toContain("rows_read");
  });
});

describe("links are bound to one subscriber, for good", () => {
  const signupWithLinks = async (email: string) => {
    expect((await subscribeJson(email)).status).toBe(202);
    await runMailQueue([await confirmJobFor(email)]);
    const confirm = firstLink((await outboxFor(email)).at(-1)!.text, "/confirm/");
    return confirm;
  };
  const confirmAndManage = async (email: string) => {
    const confirm = await signupWithLinks(email);
    const page = await (await call(confirm, { method: "POST" })).text();
    return { confirm, manage: firstLink(page, "/manage/") };
  };
  const form = (url: string, body: string) => call(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });

  it("after erasure, an old manage or confirm link controls nobody, not even whoever signs up next", async () => {
    const attacker = await confirmAndManage("holes-attacker@example.com");
    const attackerId = Number((await subscriberRow("holes-attacker@example.com"))!.id);
    expect((await form(attacker.manage, "action=erase&confirm=yes")).status).toBe(200);

    await signupWithLinks("holes-victim@example.com");
    const victim = (await subscriberRow("holes-victim@example.com"))!;
    expect(Number(victim.id)).toBeGreaterThan(attackerId); // ids are never reused
    for (const res of [await call(attacker.manage), await call(`${attacker.manage}/data.json`), await form(attacker.manage, "action=unsubscribe"), await call(attacker.confirm, { method: "POST" })])
      expect(res.status).toBe(400);
    expect(await subscriberRow("holes-victim@example.com")).toEqual(victim);
  });

  it("even a row that gets an old id (restored from a backup, say) does not answer to that id's old links", async () => {
    const old = await confirmAndManage("holes-old-owner@example.com");
    const id = Number((await subscriberRow("holes-old-owner@example.com"))!.id);
    await env.DB.prepare("DELETE FROM subscribers WHERE id = ?").bind(id).run();
    await env.DB.prepare("INSERT INTO subscribers (id, email, email_key, status, source, created_at, consent_at, link_key) VALUES (?, 'holes-new-owner@example.com', 'holes-new-owner@example.com', 'active', 'api', 0, 0, lower(hex(randomblob(16))))").bind(id).run();
    expect((await call(old.manage)).status).toBe(400);
    expect((await form(old.manage, "action=unsubscribe")).status).toBe(400);
    expect((await subscriberRow("holes-new-owner@example.com"))!.status).toBe("active");
  });

  it("a confirm link is bound to the confirmation it was sent in: a newer request makes it useless", async () => {
    const first = await signupWithLinks("holes-twice@example.com");
    await env.DB.prepare("UPDATE subscribers SET confirm_sent_at = confirm_sent_at - 11 * 60 * 1000 WHERE email_key = 'holes-twice@example.com'").run();
    const second = await signupWithLinks("holes-twice@example.com");
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

describe("personal links are placed by the template, never by replacing text in third-party content", () => {
  it("a paper carrying placeholders gets them printed literally; no other host ever receives a personal token", async () => {
    const week = "2026-W20";
    const hostile: Paper = {
      id: "2605.00001",
      title: "Tokens {{manage_url}} and {{{RESEND_UNSUBSCRIBE_URL}}}",
      summary: "Read %7B%7Bmanage_url%7D%7D at {{unsubscribe_url}}.",
      authors: ["{{manage_url}}"],
      upvotes: 10,
      numComments: 0,
      publishedAt: null,
      submittedOnDailyAt: null,
      withdrawn: false,
      githubRepo: "https://github.com/evil/{{unsubscribe_url}}",
      githubStars: null,
      projectPage: "https://evil.example/collect?t={{manage_url}}&u={{unsubscribe_url}}",
    };
    const email = "holes-reader@example.com";
    await env.DB.prepare("INSERT INTO subscribers (email, email_key, status, source, created_at, consent_at, confirmed_at, link_key) VALUES (?1, ?1, 'active', 'api', 0, 0, 0, 'feedfacefeedfacefeedfacefeedface')").bind(email).run();
    await env.DB.prepare("INSERT INTO issues (week, status, subject, papers, html, text, started_at) VALUES (?, 'sending', 's', ?, '', '', 0)").bind(week, JSON.stringify([hostile])).run();
    const hold = holdingQueue<DigestJob>();
    const e = { ...env, DIGEST_QUEUE: hold.queue };
    await handleDigestJob({ kind: "fanout", week }, 1, e, config(e));
    for (const job of hold.held.filter((j) => j.kind === "batch")) await handleDigestJob(job, 1, e, config(e));
    const mail = (await outboxFor(email)).find((m) => JSON.parse(m.tags).some((t: { value: string }) => t.value === week))!;
    expect(mail).toBeDefined();
    for (const body of [mail.html, mail.text]) {
      expect(body).toContain("{{manage_url}}");
      expect(body).toContain("{{{RESEND_UNSUBSCRIBE_URL}}}");
      expect(body).toContain("%7B%7Bmanage_url%7D%7D");
    }
    // Every URL that carries a personal token points at this newsletter, nowhere else.
    const urls = [...mail.html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!.replaceAll("&amp;", "&"));
    for (const url of urls) if (/\/(manage|unsubscribe)\/[\w-]+\.[\w-]+/.test(url)) expect(new URL(url).origin, url).toBe("http://127.0.0.1:8787");
    expect(urls.filter((u) => u.includes("/manage/"))).toHaveLength(1);
    expect(urls.filter((u) => u.includes("/unsubscribe/"))).toHaveLength(1);
  });
});
