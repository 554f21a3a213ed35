import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  call,
  freshIp,
  outboxFor,
  sendConfirmation,
  subscribeForm,
  subscribeFrom,
  subscribeJson,
  subscriberRow,
} from "../support/helpers";

describe("POST /api/subscribe (JSON)", () => {
  it("stores a pending row with consent evidence and answers 202 pending", async () => {
    const res = await subscribeJson("  Ada@Example.COM ", {}, { headers: { origin: "https://blog.example.org" } });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: "pending" });
    const row = await subscriberRow("ada@example.com");
    expect(row).toMatchObject({
      email: "Ada@example.com",
      status: "pending",
      source: "api",
      consent_origin: "https://blog.example.org",
      confirm_count: 1,
    });
    expect(row!.consent_ip_hash).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(row!.consent_ip_hash).not.toContain("198.51");
  });

  it("answers the same body for new, pending, active and suppressed addresses", async () => {
    await env.DB.prepare(
      "INSERT INTO subscribers (email, email_key, status, source, created_at, consent_at) VALUES ('act@example.com','act@example.com','active','api',0,0), ('sup@example.com','sup@example.com','suppressed','api',0,0)",
    ).run();
    const bodies = [];
    for (const email of ["new@example.com", "new@example.com", "act@example.com", "sup@example.com"]) {
      const res = await subscribeJson(email);
      bodies.push([res.status, await res.text()]);
    }
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect((await subscriberRow("act@example.com"))!.status).toBe("active");
    expect((await subscriberRow("sup@example.com"))!.status).toBe("suppressed");
  });

  it("makes the same binding calls whether the address is new, pending, active or suppressed", async () => {
    const sends: unknown[] = [];
    const queue = { send: async (body: unknown) => void sends.push(body), sendBatch: async () => undefined };
    await env.DB.prepare(
      "INSERT INTO subscribers (email, email_key, status, source, created_at, consent_at, link_key) VALUES ('known-active@example.com', 'known-active@example.com', 'active', 'api', 0, 0, 'k')",
    ).run();
    for (const email of ["brand-new@example.com", "known-active@example.com", "brand-new@example.com"]) {
      sends.length = 0;
      const res = await subscribeFrom(email, freshIp(), { MAIL_QUEUE: queue as never });
      expect(res.status).toBe(202);
      expect(sends, email).toHaveLength(1);
    }
  });

  it("queues exactly one confirmation email with one /confirm link", async () => {
    await subscribeJson("grace@example.com");
    const result = await sendConfirmation("grace@example.com");
    expect(result.explicitAcks.length).toBe(1);
    const mails = await outboxFor("grace@example.com");
    expect(mails).toHaveLength(1);
    const links = mails[0]!.html.match(/href="[^"]+"/g) ?? [];
    expect(links).toHaveLength(1);
    expect(links[0]).toContain("/confirm/");
    expect(mails[0]!.text.match(/https?:\/\//g)).toHaveLength(1);
  });
});

describe("POST /api/subscribe (forms)", () => {
  it("answers 303 to the thank-you page", async () => {
    const res = await subscribeForm({ email: "form@example.com" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("http://127.0.0.1:8787/thanks");
    expect((await subscriberRow("form@example.com"))!.source).toBe("form");
  });

  it("refuses a redirect to a site that is not allowlisted, and stores nothing", async () => {
    const res = await subscribeForm({ email: "redir@example.com", redirect: "https://evil.example/phish" });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await subscriberRow("redir@example.com")).toBeNull();
  });

  it("shows a friendly HTML page for an invalid address", async () => {
    const res = await subscribeForm({ email: "not-an-address" });
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(body).toContain("<h1>");
    expect(body).toContain("@");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  });
});

describe("health", () => {
  it("checks D1", async () => {
    const res = await call("/health");
    expect(await res.json()).toEqual({ status: "ok" });
  });
});
