import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { config } from "../../src/config";
import { suppress, suppressionHash } from "../../src/db/suppressions";
import { handleDigestJob } from "../../src/digest/consume";
import type { DigestJob } from "../../src/digest/jobs";
import worker from "../../src/index";
import { csvField, parseCsv } from "../../src/lib/csv";
import { ipBucket } from "../../src/lib/http";
import { signToken } from "../../src/lib/tokens";
import type { Paper } from "../../src/papers/paper";
import { parsePaper } from "../../src/papers/paper";
import {
  call,
  confirmJobFor,
  firstLink,
  freshIp,
  outboxFor,
  runMailQueue,
  subscribeJson,
  subscriberRow,
} from "../support/helpers";
import { holdingQueue } from "../support/queues";
import { webhookSender } from "../support/svix";

// Regression tests for the holes an adversarial review found (issue 8), one `describe` per finding.
const fetchWith = (overrides: Partial<Env>, req: Request) =>
  worker.fetch!(req as never, { ...env, ...overrides }, createExecutionContext());
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
    const signup = await fetchWith(
      {},
      new Request("https://newsletter.example.org/api/subscribe", {
        method: "POST",
        headers: json,
        body: JSON.stringify({ email: "timing-oracle@example.com" }),
      }),
    );
    expect(signup.status).toBe(202);
    expect(signup.headers.get("server-timing")).toBeNull();
    expect(signup.headers.get("strict-transport-security")).toContain("max-age");
  });

  it("locally (LOCAL_DEV and a loopback host) the outbox and the timing header exist", async () => {
    expect((await fetchWith({}, new Request("http://127.0.0.1:8787/dev/outbox.json"))).status).toBe(200);
    const signup = await fetchWith(
      {},
      new Request("http://127.0.0.1:8787/api/subscribe", {
        method: "POST",
        headers: json,
        body: JSON.stringify({ email: "local-timing@example.com" }),
      }),
    );
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
  const form = (url: string, body: string) =>
    call(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });

  it("after erasure, an old manage or confirm link controls nobody, not even whoever signs up next", async () => {
    const attacker = await confirmAndManage("holes-attacker@example.com");
    const attackerId = Number((await subscriberRow("holes-attacker@example.com"))!.id);
    expect((await form(attacker.manage, "action=erase&confirm=yes")).status).toBe(200);

    await signupWithLinks("holes-victim@example.com");
    const victim = (await subscriberRow("holes-victim@example.com"))!;
    expect(Number(victim.id)).toBeGreaterThan(attackerId); // ids are never reused
    for (const res of [
      await call(attacker.manage),
      await call(`${attacker.manage}/data.json`),
      await form(attacker.manage, "action=unsubscribe"),
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
    expect((await form(old.manage, "action=unsubscribe")).status).toBe(400);
    expect((await subscriberRow("holes-new-owner@example.com"))!.status).toBe("active");
  });

  it("a confirm link is bound to the confirmation it was sent in: a newer request makes it useless", async () => {
    const first = await signupWithLinks("holes-twice@example.com");
    await env.DB.prepare(
      "UPDATE subscribers SET confirm_sent_at = confirm_sent_at - 11 * 60 * 1000 WHERE email_key = 'holes-twice@example.com'",
    ).run();
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
      keywords: ["{{manage_url}}"],
      tldr: "{{unsubscribe_url}}",
      topics: [],
    };
    const email = "holes-reader@example.com";
    await env.DB.prepare(
      "INSERT INTO subscribers (email, email_key, status, source, created_at, consent_at, confirmed_at, link_key) VALUES (?1, ?1, 'active', 'api', 0, 0, 0, 'feedfacefeedfacefeedfacefeedface')",
    )
      .bind(email)
      .run();
    await env.DB.prepare(
      "INSERT INTO issues (week, status, subject, papers, html, text, started_at) VALUES (?, 'sending', 's', ?, '', '', 0)",
    )
      .bind(week, JSON.stringify([hostile]))
      .run();
    const hold = holdingQueue<DigestJob>();
    const e = { ...env, DIGEST_QUEUE: hold.queue };
    await handleDigestJob({ kind: "fanout", week }, 1, e, config(e));
    for (const job of hold.held.filter((j) => j.kind === "batch")) await handleDigestJob(job, 1, e, config(e));
    const mail = (await outboxFor(email)).find((m) =>
      JSON.parse(m.tags).some((t: { value: string }) => t.value === week),
    )!;
    expect(mail).toBeDefined();
    for (const body of [mail.html, mail.text]) {
      expect(body).toContain("{{manage_url}}");
      expect(body).toContain("{{{RESEND_UNSUBSCRIBE_URL}}}");
      expect(body).toContain("%7B%7Bmanage_url%7D%7D");
    }
    // Every URL that carries a personal token points at this newsletter, nowhere else.
    const urls = [...mail.html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!.replaceAll("&amp;", "&"));
    for (const url of urls)
      if (/\/(manage|unsubscribe)\/[\w-]+\.[\w-]+/.test(url))
        expect(new URL(url).origin, url).toBe("http://127.0.0.1:8787");
    expect(urls.filter((u) => u.includes("/manage/"))).toHaveLength(1);
    expect(urls.filter((u) => u.includes("/unsubscribe/"))).toHaveLength(1);
  });
});

describe("limits on the mailbox and the network, not the string", () => {
  const subscribe = (email: string, ip: string, headers: Record<string, string> = {}, overrides: Partial<Env> = {}) =>
    fetchWith(
      overrides,
      new Request("http://127.0.0.1:8787/api/subscribe", {
        method: "POST",
        headers: { ...json, "cf-connecting-ip": ip, ...headers },
        body: JSON.stringify({ email }),
      }),
    );

  it("+tag and dotted Gmail variants reach one mailbox: one row, one throttle (not one confirmation per variant)", async () => {
    const variants = [
      "bomb.victim@gmail.com",
      "bombvictim+1@gmail.com",
      "b.o.m.b.victim+2@googlemail.com",
      "BombVictim+3@Gmail.com",
      "bomb.vic.tim+4@gmail.com",
    ];
    for (const [i, v] of variants.entries()) expect((await subscribe(v, `198.18.0.${i + 1}`)).status).toBe(202);
    const { results } = await env.DB.prepare(
      "SELECT email, email_key, confirm_count FROM subscribers WHERE email_key = 'bombvictim@gmail.com'",
    ).all<{ email: string; confirm_count: number }>();
    expect(results).toHaveLength(1);
    expect(results[0]!.confirm_count).toBe(1); // the throttle held: one confirmation, the rest got 202 and nothing
    expect(results[0]!.email).toBe("bomb.victim@gmail.com"); // as the person typed it
  });

  it("a suppressed mailbox stays suppressed under any +tag or dotted spelling, including entries from before mailbox keys", async () => {
    await env.DB.prepare("INSERT INTO suppressions (email_hash, reason, created_at) VALUES (?, 'complaint', 0)")
      .bind(await suppressionHash("old.complainer+x@gmail.com"))
      .run();
    expect((await subscribe("old.complainer+x@gmail.com", "198.18.1.1")).status).toBe(202);
    expect(await subscriberRow("old.complainer+x@gmail.com")).toBeNull();
    await suppress(env.DB, ["new.complainer@example.org"], "complaint");
    expect((await subscribe("new.complainer+again@example.org", "198.18.1.2")).status).toBe(202);
    expect(await subscriberRow("new.complainer@example.org")).toBeNull();
  });

  it("an IPv6 client is limited per /64, whatever the rest of its address", async () => {
    expect(ipBucket("2001:db8:abcd:12:1:2:3:4")).toBe("2001:db8:abcd:12::/64");
    expect(ipBucket("2001:0db8:abcd:0012::99")).toBe("2001:db8:abcd:12::/64");
    expect(ipBucket("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(ipBucket("203.0.113.7")).toBe("203.0.113.7");
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++)
      statuses.push(
        (await subscribe(`v6-${i}@example.com`, `2001:db8:feed:1:${i.toString(16)}:${(i * 7).toString(16)}::${i + 1}`))
          .status,
      );
    expect(statuses.slice(0, 10).every((s) => s === 202)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]); // 10 per minute for the whole /64
    expect((await subscribe("v6-other-net@example.com", "2001:db8:feed:2::1")).status).toBe(202);
  });

  it("form posts from sites outside a listed ALLOWED_ORIGINS are refused, with nothing stored", async () => {
    const list = { ALLOWED_ORIGINS: "https://blog.example.org" };
    const form = (origin: string | null, email: string) =>
      fetchWith(
        list,
        new Request("http://127.0.0.1:8787/api/subscribe", {
          method: "POST",
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            "cf-connecting-ip": freshIp(),
            ...(origin ? { origin } : {}),
          },
          body: new URLSearchParams({ email }),
          redirect: "manual",
        }),
      );
    const evil = await form("https://evil.example", "csrf-victim@example.com");
    expect(evil.status).toBe(403);
    expect(await form("null", "csrf-victim@example.com").then((r) => r.status)).toBe(403);
    expect(await subscriberRow("csrf-victim@example.com")).toBeNull();
    expect((await form("https://blog.example.org", "csrf-ok@example.com")).status).toBe(303);
    expect((await form("http://127.0.0.1:8787", "csrf-own@example.com")).status).toBe(303); // our own /form
  });

  it("at most CONFIRM_DOMAIN_HOURLY_CAP confirmation emails go to one domain per hour", async () => {
    const e = { ...env, CONFIRM_DOMAIN_HOURLY_CAP: "3" };
    const emails = Array.from({ length: 5 }, (_, i) => `cap-${i}@flooded.example.org`);
    for (const [i, m] of emails.entries())
      expect((await subscribe(m, `198.18.2.${i + 1}`, {}, { CONFIRM_DOMAIN_HOURLY_CAP: "3" })).status).toBe(202);
    await runMailQueue(await Promise.all(emails.map(confirmJobFor)), e);
    const sent = (await Promise.all(emails.map(outboxFor))).filter((m) => m.length > 0);
    expect(sent).toHaveLength(3);
    expect((await subscribe("other-domain@example.net", "198.18.2.9")).status).toBe(202);
    await runMailQueue([await confirmJobFor("other-domain@example.net")], e);
    expect(await outboxFor("other-domain@example.net")).toHaveLength(1);
  });
});

describe("the small ones", () => {
  const auth = { authorization: `Bearer ${env.ADMIN_TOKEN}` };

  it("CSV exports neutralise spreadsheet formulas (an address may legally start with =)", async () => {
    expect((await subscribeJson("=1+2@example.org")).status).toBe(202);
    const csv = await (await call("/admin/subscribers/export", { headers: auth })).text();
    expect(csv).toContain("\n'=1+2@example.org,");
    expect(csvField("+cmd")).toBe("'+cmd");
    expect(csvField("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvField("-2")).toBe("'-2");
    expect(csvField("\tx")).toBe("'\tx");
    expect(csvField("plain@example.org")).toBe("plain@example.org");
  });

  it("a signup makes the same binding calls whether the address is new, pending, active or suppressed", async () => {
    const sends: unknown[] = [];
    const queue = { send: async (body: unknown) => void sends.push(body), sendBatch: async () => undefined };
    await env.DB.prepare(
      "INSERT INTO subscribers (email, email_key, status, source, created_at, consent_at, link_key) VALUES ('known-active@example.com', 'known-active@example.com', 'active', 'api', 0, 0, 'k')",
    ).run();
    for (const email of ["brand-new@example.com", "known-active@example.com", "brand-new@example.com"]) {
      sends.length = 0;
      const res = await fetchWith(
        { MAIL_QUEUE: queue as never },
        new Request("http://127.0.0.1:8787/api/subscribe", {
          method: "POST",
          headers: { ...json, "cf-connecting-ip": freshIp() },
          body: JSON.stringify({ email }),
        }),
      );
      expect(res.status).toBe(202);
      expect(sends, email).toHaveLength(1);
    }
  });

  it("paper text is data: control characters stripped, strings well-formed; the feed stays valid XML", async () => {
    const p = parsePaper({
      paper: {
        id: "2605.00002",
        title: "Evil\u0001title\u001b[31m with \ud800 surrogate",
        summary: "line\u0000break\u0085",
        authors: [{ name: "Eve\u0007" }],
      },
    })!;
    expect(p.title).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(p.summary).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(p.title.isWellFormed()).toBe(true);
    expect(p.authors[0]).toBe("Eve");
    // An issue stored before this (its subject carries a control character) no longer breaks the feed.
    await env.DB.prepare(
      "INSERT INTO issues (week, status, subject, papers, html, text, started_at) VALUES ('2026-W21', 'sent', ?, '[]', '', '', 0)",
    )
      .bind("Week \u0001 21 \ud800")
      .run();
    const feed = await (await call("/feed.xml")).text();
    expect(feed).toContain("Week  21");
    expect(feed).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    expect(feed.isWellFormed()).toBe(true);
  });

  it("the CSV import stops parsing at its row cap", async () => {
    expect(parseCsv(`email\n${"a@b.co\n".repeat(200)}`, 10)).toHaveLength(11);
    const body = `email\n${"x@y.io\n".repeat(60_000)}`;
    const res = await call("/admin/subscribers/import", {
      method: "POST",
      headers: { ...auth, "content-type": "text/csv" },
      body,
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: "too_many_rows" } });
  });

  it("an ADMIN_TOKEN a bearer header cannot carry is a configuration error, not a silent lock-out", async () => {
    const res = await fetchWith(
      { ADMIN_TOKEN: "correct horse battery staple!" },
      new Request("http://127.0.0.1:8787/health"),
    );
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ error: { code: "misconfigured" } });
  });

  it("consent evidence records only our own or allowed origins", async () => {
    const list = { ALLOWED_ORIGINS: "https://blog.example.org" };
    const post = (email: string, origin: string) =>
      fetchWith(
        list,
        new Request("http://127.0.0.1:8787/api/subscribe", {
          method: "POST",
          headers: { ...json, "cf-connecting-ip": freshIp(), origin },
          body: JSON.stringify({ email }),
        }),
      );
    expect((await post("consent-evil@example.com", "https://evil.example")).status).toBe(202);
    expect((await subscriberRow("consent-evil@example.com"))!.consent_origin).toBeNull();
    expect((await post("consent-ok@example.com", "https://blog.example.org")).status).toBe(202);
    expect((await subscriberRow("consent-ok@example.com"))!.consent_origin).toBe("https://blog.example.org");
  });

  it("a seen svix-id applies nothing at all, even with another payload", async () => {
    const hook = webhookSender();
    const id = "msg_replayed_with_another_payload";
    expect((await hook("email.delivered", { to: ["first@example.com"] }, id)).status).toBe(200);
    const again = await hook("email.complained", { to: ["innocent@example.com"] }, id);
    expect(await again.json()).toMatchObject({ status: "duplicate" });
    expect(
      await env.DB.prepare("SELECT count(*) AS n FROM suppressions WHERE email_hash = ?")
        .bind(await suppressionHash("innocent@example.com"))
        .first(),
    ).toEqual({ n: 0 });
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
