import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { ADMIN, importActive, importCsv } from "../support/admin";
import { BASE, call, outboxFor, runMailQueue, subscribeJson, subscriberRow } from "../support/helpers";

// Resend's webhooks are signed the Svix way. The test signs them itself (crypto.subtle), exactly as Svix does,
// so nothing of the library under test takes part in producing the signature it checks.
const SECRET = `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(24))))}`;
const OTHER_SECRET = `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(24))))}`;

const nowSec = () => Math.floor(Date.now() / 1000);

async function svixSignature(secret: string, id: string, timestamp: string, body: string) {
  const keyBytes = Uint8Array.from(atob(secret.slice("whsec_".length)), (ch) => ch.charCodeAt(0));
  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestamp}.${body}`)),
  );
  return `v1,${btoa(String.fromCharCode(...mac))}`;
}

type HookOptions = {
  id?: string;
  timestamp?: string;
  /** Secret to sign with (default: the one the Worker is configured with). */
  signWith?: string;
  /** Replace the computed signature header. */
  signature?: string;
  omit?: ("svix-id" | "svix-timestamp" | "svix-signature")[];
  overrides?: Partial<Env>;
};

/** POSTs a Resend webhook to the Worker with RESEND_WEBHOOK_SECRET configured, signed like Svix. */
async function hook(payload: unknown, o: HookOptions = {}) {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  const id = o.id ?? `msg_${crypto.randomUUID().replaceAll("-", "")}`;
  const timestamp = o.timestamp ?? String(nowSec());
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "svix-id": id,
    "svix-timestamp": timestamp,
    "svix-signature": o.signature ?? (await svixSignature(o.signWith ?? SECRET, id, timestamp, body)),
  };
  for (const h of o.omit ?? []) delete headers[h];
  const req = new Request(new URL("/webhooks/resend", BASE), { method: "POST", headers, body });
  return worker.fetch!(
    req as never,
    { ...env, RESEND_WEBHOOK_SECRET: SECRET, ...o.overrides },
    createExecutionContext(),
  );
}

const event = (
  type: string,
  to: string | string[],
  week: string | null,
  extra: Record<string, unknown> = {},
  tags: unknown = week ? { issue: week } : undefined,
) => ({
  type,
  created_at: new Date().toISOString(),
  data: {
    email_id: crypto.randomUUID(),
    from: "Trending Papers <papers@example.com>",
    to: Array.isArray(to) ? to : [to],
    subject: "Trending Papers, week 47",
    created_at: new Date().toISOString(),
    ...(tags === undefined ? {} : { tags }),
    ...extra,
  },
});

/** The suppression list's key, computed independently: SHA-256 hex of "suppression\n" + the lower-cased address. */
async function expectedHash(email: string) {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(`suppression\n${email.trim().toLowerCase()}`),
  );
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function suppressionOf(email: string) {
  return env.DB.prepare("SELECT * FROM suppressions WHERE email_hash = ?")
    .bind(await expectedHash(email))
    .first<{ email_hash: string; reason: string; created_at: number }>();
}

/** Imports the addresses as active subscribers, each one new. */
const importNew = async (...emails: string[]) => expect((await importActive(...emails)).imported).toBe(emails.length);

async function newIssue(week: string, status = "sent", counters: { delivered?: number; complained?: number } = {}) {
  await env.DB.prepare("INSERT INTO issues (week, status, started_at, delivered, complained) VALUES (?, ?, ?, ?, ?)")
    .bind(week, status, Date.now(), counters.delivered ?? 0, counters.complained ?? 0)
    .run();
}

const issueRow = (week: string) =>
  env.DB.prepare("SELECT status, delivered, bounced, complained, paused_reason FROM issues WHERE week = ?")
    .bind(week)
    .first<{ status: string; delivered: number; bounced: number; complained: number; paused_reason: string | null }>();

const counts = async () => ({
  suppressions: (await env.DB.prepare("SELECT count(*) AS n FROM suppressions").first<{ n: number }>())!.n,
  events: (await env.DB.prepare("SELECT count(*) AS n FROM webhook_events").first<{ n: number }>())!.n,
  issues: (await env.DB.prepare(
    "SELECT sum(delivered) AS d, sum(bounced) AS b, sum(complained) AS c FROM issues",
  ).first())!,
  subscribers: (
    await env.DB.prepare("SELECT status, count(*) AS n FROM subscribers GROUP BY status ORDER BY status").all()
  ).results,
});

describe("Resend webhooks: effects", () => {
  it("a permanent bounce suppresses the address (hashed) and counts on the issue named by the tag object", async () => {
    await importNew("hard-bounce@example.com", "bystander-1@example.com");
    await newIssue("2026-W20");
    const res = await hook(
      event("email.bounced", "Hard-Bounce@Example.com", "2026-W20", {
        bounce: { type: "Permanent", subType: "General", message: "The recipient's mailbox does not exist." },
      }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "processed", type: "email.bounced" });

    expect((await subscriberRow("hard-bounce@example.com"))!.status).toBe("suppressed");
    expect((await subscriberRow("bystander-1@example.com"))!.status).toBe("active");
    const s = await suppressionOf("hard-bounce@example.com");
    expect(s).toMatchObject({ email_hash: await expectedHash("hard-bounce@example.com"), reason: "bounce" });
    expect(s!.email_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(s!.created_at).toBeGreaterThan(0);
    expect(await issueRow("2026-W20")).toMatchObject({ bounced: 1, delivered: 0, complained: 0 });
  });

  it("accepts the tags as an array of {name, value} too", async () => {
    await importNew("array-tags@example.com");
    await newIssue("2026-W21");
    const res = await hook(
      event("email.bounced", "array-tags@example.com", null, { bounce: { type: "Permanent" } }, [
        { name: "kind", value: "digest" },
        { name: "issue", value: "2026-W21" },
      ]),
    );
    expect(res.status).toBe(200);
    expect(await issueRow("2026-W21")).toMatchObject({ bounced: 1 });
    expect((await subscriberRow("array-tags@example.com"))!.status).toBe("suppressed");
  });

  it("a transient bounce counts but does not suppress", async () => {
    await importNew("mailbox-full@example.com");
    await newIssue("2026-W22");
    const res = await hook(
      event("email.bounced", "mailbox-full@example.com", "2026-W22", {
        bounce: { type: "Transient", subType: "MailboxFull", message: "Mailbox full." },
      }),
    );
    expect(res.status).toBe(200);
    expect(await issueRow("2026-W22")).toMatchObject({ bounced: 1 });
    expect((await subscriberRow("mailbox-full@example.com"))!.status).toBe("active");
    expect(await suppressionOf("mailbox-full@example.com")).toBeNull();
  });

  it("a complaint suppresses (reason complaint) and counts", async () => {
    await importNew("complainer@example.com");
    await newIssue("2026-W23");
    const res = await hook(event("email.complained", "complainer@example.com", "2026-W23"));
    expect(res.status).toBe(200);
    expect((await subscriberRow("complainer@example.com"))!.status).toBe("suppressed");
    expect(await suppressionOf("complainer@example.com")).toMatchObject({ reason: "complaint" });
    expect(await issueRow("2026-W23")).toMatchObject({ complained: 1, delivered: 0, bounced: 0 });
    // An issue that is not sending is never paused by the breaker.
    expect((await issueRow("2026-W23"))!.status).toBe("sent");
  });

  it("a delivery counts delivered and changes nothing else", async () => {
    await importNew("delivered@example.com");
    await newIssue("2026-W24");
    const res = await hook(event("email.delivered", "delivered@example.com", "2026-W24"));
    expect(res.status).toBe(200);
    expect(await issueRow("2026-W24")).toMatchObject({ delivered: 1, bounced: 0, complained: 0 });
    expect((await subscriberRow("delivered@example.com"))!.status).toBe("active");
    expect(await suppressionOf("delivered@example.com")).toBeNull();
  });

  it("email.suppressed (Resend refused the address) suppresses it", async () => {
    await importNew("resend-suppressed@example.com");
    const res = await hook(event("email.suppressed", "resend-suppressed@example.com", null));
    expect(res.status).toBe(200);
    expect((await subscriberRow("resend-suppressed@example.com"))!.status).toBe("suppressed");
    expect(await suppressionOf("resend-suppressed@example.com")).not.toBeNull();
  });

  it("an unknown event type is acknowledged with 200 and changes nothing", async () => {
    await importNew("opened@example.com");
    await newIssue("2026-W25");
    const before = await counts();
    const res = await hook(event("email.opened", "opened@example.com", "2026-W25"));
    expect(res.status).toBe(200);
    const res2 = await hook(event("contact.created", "opened@example.com", "2026-W25"));
    expect(res2.status).toBe(200);
    const after = await counts();
    expect(after.suppressions).toBe(before.suppressions);
    expect(after.issues).toEqual(before.issues);
    expect(after.subscribers).toEqual(before.subscribers);
    expect((await subscriberRow("opened@example.com"))!.status).toBe("active");
  });
});

describe("Resend webhooks: authenticity", () => {
  it("a bad signature is 401 and changes nothing", async () => {
    await importNew("forged@example.com");
    await newIssue("2026-W26");
    const before = await counts();
    const payload = event("email.complained", "forged@example.com", "2026-W26");
    // Signed with another secret.
    const wrongKey = await hook(payload, { signWith: OTHER_SECRET });
    expect(wrongKey.status).toBe(401);
    expect(await wrongKey.json()).toMatchObject({ error: { code: "invalid_signature" } });
    // Signed correctly, then the body is changed.
    const id = "msg_tampered";
    const ts = String(nowSec());
    const sig = await svixSignature(
      SECRET,
      id,
      ts,
      JSON.stringify(event("email.delivered", "forged@example.com", "2026-W26")),
    );
    expect((await hook(payload, { id, timestamp: ts, signature: sig })).status).toBe(401);
    // Signature for another svix-id.
    expect(
      (
        await hook(payload, {
          id: "msg_other",
          timestamp: ts,
          signature: await svixSignature(SECRET, "msg_first", ts, JSON.stringify(payload)),
        })
      ).status,
    ).toBe(401);
    // Garbage signature header.
    expect((await hook(payload, { signature: "v1,AAAA" })).status).toBe(401);
    expect((await subscriberRow("forged@example.com"))!.status).toBe("active");
    expect(await suppressionOf("forged@example.com")).toBeNull();
    expect(await counts()).toEqual(before);
  });

  it("missing svix headers are 401", async () => {
    await newIssue("2026-W27");
    const payload = event("email.delivered", "missing-headers@example.com", "2026-W27");
    for (const h of ["svix-id", "svix-timestamp", "svix-signature"] as const) {
      const res = await hook(payload, { omit: [h] });
      expect(res.status, h).toBe(401);
    }
    expect((await hook(payload, { omit: ["svix-id", "svix-timestamp", "svix-signature"] })).status).toBe(401);
    expect(await issueRow("2026-W27")).toMatchObject({ delivered: 0 });
  });

  it("timestamps more than 5 minutes off, either way, are 400 stale_timestamp", async () => {
    await importNew("stale@example.com");
    await newIssue("2026-W28");
    const payload = event("email.complained", "stale@example.com", "2026-W28");
    for (const offset of [-360, 360]) {
      const res = await hook(payload, { timestamp: String(nowSec() + offset) });
      expect(res.status, `offset ${offset}s`).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "stale_timestamp" } });
    }
    expect((await subscriberRow("stale@example.com"))!.status).toBe("active");
    expect(await issueRow("2026-W28")).toMatchObject({ complained: 0 });
    // Within the window (4 minutes off) it is accepted.
    expect(
      (await hook(event("email.delivered", "stale@example.com", "2026-W28"), { timestamp: String(nowSec() - 240) }))
        .status,
    ).toBe(200);
    expect(await issueRow("2026-W28")).toMatchObject({ delivered: 1 });
  });

  it("a replayed svix-id is answered 200 duplicate and counted once", async () => {
    await newIssue("2026-W29");
    const payload = event("email.delivered", "replay@example.com", "2026-W29");
    const first = await hook(payload, { id: "msg_replay_1" });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ status: "processed" });
    for (let i = 0; i < 3; i++) {
      // Resend retries with the same id (a fresh timestamp and signature each time).
      const again = await hook(payload, { id: "msg_replay_1" });
      expect(again.status).toBe(200);
      expect(await again.json()).toMatchObject({ status: "duplicate" });
    }
    expect(await issueRow("2026-W29")).toMatchObject({ delivered: 1 });
    // A different id for the same email is a different event.
    expect((await hook(payload, { id: "msg_replay_2" })).status).toBe(200);
    expect(await issueRow("2026-W29")).toMatchObject({ delivered: 2 });
  });

  it("two concurrent deliveries of the same svix-id count once", async () => {
    await newIssue("2026-W30");
    for (const [type, column] of [
      ["email.delivered", "delivered"],
      ["email.bounced", "bounced"],
      ["email.complained", "complained"],
    ] as const) {
      const payload = event(type, `concurrent-${column}@example.com`, "2026-W30", { bounce: { type: "Permanent" } });
      const id = `msg_concurrent_${column}`;
      const answers = await Promise.all([hook(payload, { id }), hook(payload, { id }), hook(payload, { id })]);
      for (const r of answers) expect(r.status).toBe(200);
      const statuses = await Promise.all(answers.map(async (r) => ((await r.json()) as { status: string }).status));
      expect(statuses.sort()).toEqual(["duplicate", "duplicate", "processed"]);
      expect((await issueRow("2026-W30"))![column]).toBe(1);
    }
  });

  it("a seen svix-id applies nothing at all, even with another payload", async () => {
    const id = "msg_replayed_with_another_payload";
    expect((await hook(event("email.delivered", "first@example.com", null), { id })).status).toBe(200);
    const before = await counts();
    const again = await hook(event("email.complained", "innocent@example.com", null), { id });
    expect(await again.json()).toMatchObject({ status: "duplicate" });
    expect(await counts()).toEqual(before);
    expect(await suppressionOf("innocent@example.com")).toBeNull();
  });

  it("a signed body that is not JSON is 400; an oversize body is 413; no secret configured is 404", async () => {
    const notJson = await hook("this is not json {");
    expect(notJson.status).toBe(400);
    const big = JSON.stringify({
      ...event("email.delivered", "big@example.com", null),
      padding: "x".repeat(300 * 1024),
    });
    const tooBig = await hook(big);
    expect(tooBig.status).toBe(413);
    // The default test environment has no RESEND_WEBHOOK_SECRET: the route does not exist.
    const id = "msg_nosecret";
    const ts = String(nowSec());
    const body = JSON.stringify(event("email.delivered", "nosecret@example.com", null));
    const res = await call("/webhooks/resend", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "svix-id": id,
        "svix-timestamp": ts,
        "svix-signature": await svixSignature(SECRET, id, ts, body),
      },
      body,
    });
    expect(res.status).toBe(404);
    expect((await hook(body, { overrides: { RESEND_WEBHOOK_SECRET: "" } })).status).toBe(404);
  });
});

describe("complaint circuit breaker (per event)", () => {
  it("pauses a sending issue only once complaints exceed 0.1 % of at least BREAKER_MIN_DELIVERIES deliveries", async () => {
    // Exactly 0.1 % is not over the limit.
    await newIssue("2026-W31", "sending", { delivered: 1000 });
    expect((await hook(event("email.complained", "breaker-a@example.com", "2026-W31"))).status).toBe(200);
    expect(await issueRow("2026-W31")).toMatchObject({ status: "sending", complained: 1, paused_reason: null });
    expect((await hook(event("email.complained", "breaker-b@example.com", "2026-W31"))).status).toBe(200);
    const paused = await issueRow("2026-W31");
    expect(paused).toMatchObject({ status: "paused", complained: 2 });
    expect(paused!.paused_reason).toContain("0.20%");
    expect(paused!.paused_reason).toContain("2 of 1000");

    // Below the minimum sample a high rate does not trip it (default minimum 1000)…
    await newIssue("2026-W32", "sending", { delivered: 999, complained: 5 });
    await hook(event("email.complained", "breaker-c@example.com", "2026-W32"));
    expect(await issueRow("2026-W32")).toMatchObject({ status: "sending", complained: 6 });
    // …but a smaller configured minimum does.
    await newIssue("2026-W33", "sending", { delivered: 50 });
    await hook(event("email.complained", "breaker-d@example.com", "2026-W33"), {
      overrides: { BREAKER_MIN_DELIVERIES: "50" },
    });
    const small = await issueRow("2026-W33");
    expect(small).toMatchObject({ status: "paused", complained: 1 });
    expect(small!.paused_reason).toContain("2.00%");
  });
});

describe("suppression outlives the subscription", () => {
  it("a new signup for a suppressed address, in any letter case, answers 202 and queues nothing", async () => {
    await importNew("later-signup@example.com");
    expect(
      (await hook(event("email.bounced", "later-signup@example.com", null, { bounce: { type: "Permanent" } }))).status,
    ).toBe(200);
    const before = await subscriberRow("later-signup@example.com");
    expect(before!.status).toBe("suppressed");

    for (const variant of ["later-signup@example.com", "Later-Signup@Example.COM", "LATER-SIGNUP@EXAMPLE.COM"]) {
      const res = await subscribeJson(variant);
      expect(res.status, variant).toBe(202);
      expect(await res.json()).toEqual({ status: "pending" });
    }
    // The row is untouched: not pending, no confirmation recorded (a queued confirmation always records one).
    expect(await subscriberRow("later-signup@example.com")).toEqual(before);

    // A signup of a fresh address at the same time is mailed; the suppressed one is not.
    expect((await subscribeJson("control-signup@example.com")).status).toBe(202);
    const control = await subscriberRow("control-signup@example.com");
    await runMailQueue([
      { kind: "confirm", subscriberId: Number(control!.id), sentAt: Number(control!.confirm_sent_at) },
    ]);
    expect(await outboxFor("control-signup@example.com")).toHaveLength(1);
    const { results } = await env.DB.prepare(
      "SELECT to_address FROM outbox WHERE lower(to_address) = 'later-signup@example.com'",
    ).all();
    expect(results).toHaveLength(0);
  });

  it("after the subscriber is erased, the suppression survives and a signup creates no row", async () => {
    await importNew("erased-suppressed@example.com");
    await hook(event("email.complained", "erased-suppressed@example.com", null));
    const row = await subscriberRow("erased-suppressed@example.com");
    expect(row!.status).toBe("suppressed");
    expect((await call(`/admin/subscribers/${row!.id}`, { method: "DELETE", headers: ADMIN })).status).toBe(204);
    expect(await subscriberRow("erased-suppressed@example.com")).toBeNull();
    expect(await suppressionOf("erased-suppressed@example.com")).toMatchObject({ reason: "complaint" });

    for (const variant of ["erased-suppressed@example.com", "Erased-Suppressed@EXAMPLE.com"]) {
      const res = await subscribeJson(variant);
      expect(res.status).toBe(202);
    }
    expect(await subscriberRow("erased-suppressed@example.com")).toBeNull();
  });

  it("an operator re-importing an erased, suppressed address does not make it active again", async () => {
    await importNew("reimported@example.com");
    await hook(event("email.bounced", "reimported@example.com", null, { bounce: { type: "Permanent" } }));
    const row = await subscriberRow("reimported@example.com");
    expect(row!.status).toBe("suppressed");
    expect((await call(`/admin/subscribers/${row!.id}`, { method: "DELETE", headers: ADMIN })).status).toBe(204);
    expect(await suppressionOf("reimported@example.com")).not.toBeNull();

    // The old CSV is imported again: the suppression list must still win, or the next digest mails a hard bounce.
    const res = await importCsv("email\nReimported@example.com\n");
    expect(res.status).toBe(200);
    const report = (await res.json()) as { imported: number };
    expect((await subscriberRow("reimported@example.com"))?.status ?? null).not.toBe("active");
    expect(report.imported).toBe(0);
  });

  it("an address suppressed before it ever subscribed cannot sign up", async () => {
    expect((await hook(event("email.suppressed", "Never-Subscribed@example.com", null))).status).toBe(200);
    expect(await suppressionOf("never-subscribed@example.com")).not.toBeNull();
    expect((await subscribeJson("never-subscribed@example.com")).status).toBe(202);
    expect(await subscriberRow("never-subscribed@example.com")).toBeNull();
  });
});
