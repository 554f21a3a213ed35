/**
 * The operator API (/admin, bearer ADMIN_TOKEN): authentication, stats, CSV import and export, subscriber lookup and
 * erasure, the list of issues. Sending, pausing and cancelling digests: digest-operations.test.ts.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { ADMIN, importActive, importCsv } from "../support/admin";
import { call, subscribeJson, subscriberRow } from "../support/helpers";

const DAY = 86_400_000;

/** ISO 8601 week key (2026-W48) of a UTC instant, computed independently of the app's week helpers. */
function isoWeekKey(ms: number) {
  const d = new Date(ms);
  const day = (d.getUTCDay() + 6) % 7; // Monday = 0
  const thursday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day + 3);
  const year = new Date(thursday).getUTCFullYear();
  const week = 1 + Math.floor((thursday - Date.UTC(year, 0, 1)) / (7 * DAY)); // week 1 holds the first Thursday
  return `${year}-W${String(week).padStart(2, "0")}`;
}

type Stats = {
  subscribers: Record<"pending" | "active" | "unsubscribed" | "suppressed", number>;
  active_by_cadence: Record<"weekly" | "daily", number>;
  signups_per_week: Record<string, number>;
  unsubscribes_per_week: Record<string, number>;
  issues: {
    week: string;
    cadence: string;
    status: string;
    recipients: number;
    sent: number;
    delivered: number;
    bounced: number;
    complained: number;
  }[];
};
const stats = async () => {
  const res = await call("/admin/stats", { headers: ADMIN });
  expect(res.status).toBe(200);
  return (await res.json()) as Stats;
};

describe("admin authentication", () => {
  it("every operations endpoint is 401 without the token or with a wrong one", async () => {
    await importActive("auth-target@example.com");
    const id = (await subscriberRow("auth-target@example.com"))!.id;
    const endpoints: [string, string][] = [
      ["GET", "/admin/stats"],
      ["GET", "/admin/subscribers?email=auth-target@example.com"],
      ["DELETE", `/admin/subscribers/${id}`],
      ["GET", "/admin/digests"],
      ["GET", "/admin/digests/2026-W40"],
      ["POST", "/admin/digests/2026-W40/pause"],
      ["POST", "/admin/digests/2026-W40/resume"],
      ["POST", "/admin/digests/2026-W40/cancel"],
    ];
    for (const [method, path] of endpoints) {
      const none = await call(path, { method });
      expect(none.status, `${method} ${path}`).toBe(401);
      const wrong = await call(path, { method, headers: { authorization: "Bearer not-the-admin-token-0000" } });
      expect(wrong.status, `${method} ${path} (wrong token)`).toBe(401);
      expect(await wrong.json()).toMatchObject({ error: { code: "unauthorized" } });
    }
    // Nothing was erased by the refused DELETE.
    expect((await subscriberRow("auth-target@example.com"))!.status).toBe("active");
  });

  it("/admin does not exist when no token is configured", async () => {
    const res = await worker.fetch!(
      new Request("http://127.0.0.1:8787/admin/stats", { headers: ADMIN }) as never,
      { ...env, ADMIN_TOKEN: "" },
      {} as never,
    );
    expect(res.status).toBe(404);
  });
});

describe("GET /admin/stats", () => {
  it("counts subscribers by status", async () => {
    const before = await stats();
    await importActive(
      "stats-active-1@example.com",
      "stats-active-2@example.com",
      "stats-unsub@example.com",
      "stats-supp@example.com",
    );
    expect((await subscribeJson("stats-pending@example.com")).status).toBe(202);
    await env.DB.prepare(
      "UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = ? WHERE email_key = 'stats-unsub@example.com'",
    )
      .bind(Date.now())
      .run();
    await env.DB.prepare(
      "UPDATE subscribers SET status = 'suppressed' WHERE email_key = 'stats-supp@example.com'",
    ).run();
    const after = await stats();
    expect(Object.keys(after.subscribers).sort()).toEqual(["active", "pending", "suppressed", "unsubscribed"]);
    expect(after.subscribers.active - before.subscribers.active).toBe(2);
    expect(after.subscribers.pending - before.subscribers.pending).toBe(1);
    expect(after.subscribers.unsubscribed - before.subscribers.unsubscribed).toBe(1);
    expect(after.subscribers.suppressed - before.subscribers.suppressed).toBe(1);
    const { results } = await env.DB.prepare("SELECT status, count(*) AS n FROM subscribers GROUP BY status").all<{
      status: string;
      n: number;
    }>();
    for (const r of results) expect(after.subscribers[r.status as keyof Stats["subscribers"]]).toBe(r.n);
    // Active readers split by cadence: the two imported readers are weekly, the default.
    expect(after.active_by_cadence.weekly - before.active_by_cadence.weekly).toBe(2);
    expect(after.active_by_cadence.weekly + after.active_by_cadence.daily).toBe(after.subscribers.active);
  });

  it("buckets signups and unsubscribes by ISO week over the last 12 weeks", async () => {
    const twoWeeksAgo = Date.now() - 14 * DAY;
    const fiveWeeksAgo = Date.now() - 35 * DAY;
    const longAgo = Date.now() - 20 * 7 * DAY;
    const before = await stats();
    await importActive(
      "weekly-a@example.com",
      "weekly-b@example.com",
      "weekly-c@example.com",
      "weekly-old@example.com",
    );
    await env.DB.prepare(
      "UPDATE subscribers SET created_at = ? WHERE email_key IN ('weekly-a@example.com', 'weekly-b@example.com')",
    )
      .bind(twoWeeksAgo)
      .run();
    await env.DB.prepare(
      "UPDATE subscribers SET created_at = ?, status = 'unsubscribed', unsubscribed_at = ? WHERE email_key = 'weekly-c@example.com'",
    )
      .bind(fiveWeeksAgo, twoWeeksAgo)
      .run();
    await env.DB.prepare(
      "UPDATE subscribers SET created_at = ?, status = 'unsubscribed', unsubscribed_at = ? WHERE email_key = 'weekly-old@example.com'",
    )
      .bind(longAgo, longAgo)
      .run();
    const after = await stats();

    const wk2 = isoWeekKey(twoWeeksAgo);
    const wk5 = isoWeekKey(fiveWeeksAgo);
    expect(wk2).toMatch(/^\d{4}-W\d{2}$/);
    for (const key of Object.keys(after.signups_per_week)) expect(key).toMatch(/^\d{4}-W\d{2}$/);
    expect((after.signups_per_week[wk2] ?? 0) - (before.signups_per_week[wk2] ?? 0)).toBe(2);
    expect((after.signups_per_week[wk5] ?? 0) - (before.signups_per_week[wk5] ?? 0)).toBe(1);
    expect((after.unsubscribes_per_week[wk2] ?? 0) - (before.unsubscribes_per_week[wk2] ?? 0)).toBe(1);
    // Older than 12 weeks: not reported.
    expect(after.signups_per_week[isoWeekKey(longAgo)]).toBeUndefined();
    expect(after.unsubscribes_per_week[isoWeekKey(longAgo)]).toBeUndefined();
  });

  it("lists recent issues with their delivery, bounce and complaint counts", async () => {
    await env.DB.prepare(
      "INSERT INTO issues (week, status, started_at, recipients, sent, delivered, bounced, complained) VALUES ('2026-W41', 'sent', ?, 500, 500, 480, 7, 2)",
    )
      .bind(Date.now())
      .run();
    const s = await stats();
    expect(s.issues.find((i) => i.week === "2026-W41")).toMatchObject({
      status: "sent",
      recipients: 500,
      sent: 500,
      delivered: 480,
      bounced: 7,
      complained: 2,
    });
  });
});

describe("import", () => {
  it("imports 10,000 rows in one request as active, source import", async () => {
    const imported = async () =>
      (await env.DB.prepare(
        "SELECT count(*) AS n FROM subscribers WHERE status = 'active' AND source = 'import'",
      ).first<{ n: number }>())!.n;
    const before = await imported();
    const lines = ["name,email"];
    for (let i = 0; i < 10_000; i++) lines.push(`Person ${i},reader${i}@example.com`);
    const res = await importCsv(lines.join("\n"));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ rows: 10_000, imported: 10_000, skipped_duplicates: 0, invalid: 0 });
    expect((await imported()) - before).toBe(10_000);
  });

  it("skips duplicates (in the file and already known) and reports invalid rows without failing", async () => {
    await subscribeJson("known@example.com");
    const csv =
      'email\nnew1@example.com\nNEW1@example.com\nknown@example.com\nnot an address\n"bad@x"\nnew2@example.com\n';
    const body = await (await importCsv(csv)).json<Record<string, unknown>>();
    expect(body).toMatchObject({ rows: 6, imported: 2, skipped_duplicates: 2, invalid: 2 });
    expect(body.errors).toEqual([
      { line: 5, value: "not an address", error: expect.any(String) },
      { line: 6, value: "bad@x", error: expect.any(String) },
    ]);
    expect((await subscriberRow("known@example.com"))!.status).toBe("pending");
  });

  it("needs an email column and text/csv", async () => {
    expect((await importCsv("name\nBob\n")).status).toBe(422);
    const json = await call("/admin/subscribers/import", {
      method: "POST",
      headers: { ...ADMIN, "content-type": "application/json" },
      body: "{}",
    });
    expect(json.status).toBe(415);
  });
});

describe("export", () => {
  it("streams every subscriber as CSV", async () => {
    await subscribeJson("exp1@example.com");
    await subscribeJson("exp2@example.com", { cadence: "daily" });
    const res = await call("/admin/subscribers/export", { headers: ADMIN });
    expect(res.headers.get("content-type")).toContain("text/csv");
    const lines = (await res.text()).trim().split("\n");
    expect(lines[0]).toBe(
      "email,status,source,created_at,confirmed_at,unsubscribed_at,paused_until,consent_origin,cadence",
    );
    const total = await env.DB.prepare("SELECT count(*) AS n FROM subscribers").first<{ n: number }>();
    expect(lines).toHaveLength(total!.n + 1);
    expect(lines.filter((l: string) => l.startsWith("exp1@example.com,"))).toEqual([
      expect.stringMatching(/^exp1@example\.com,pending,api,\d{4}-.*,weekly$/),
    ]);
    expect(lines.filter((l: string) => l.startsWith("exp2@example.com,"))).toEqual([expect.stringMatching(/,daily$/)]);
  });
});

describe("subscriber lookup and deletion", () => {
  it("GET /admin/subscribers?email= finds an address in any letter case; unknown is 404", async () => {
    await importActive("Lookup.Me@example.com");
    const row = await subscriberRow("lookup.me@example.com");
    for (const q of [
      "lookup.me@example.com",
      "LOOKUP.ME@EXAMPLE.COM",
      "Lookup.Me@Example.Com",
      "  lookup.me@example.com ",
    ]) {
      const res = await call(`/admin/subscribers?email=${encodeURIComponent(q)}`, { headers: ADMIN });
      expect(res.status, q).toBe(200);
      const body = (await res.json()) as { id: number; subscriber: Record<string, unknown>; suppression: unknown };
      expect(body.id).toBe(row!.id);
      expect(body.subscriber).toMatchObject({ email: "Lookup.Me@example.com", status: "active", source: "import" });
      expect(body.suppression).toBeNull();
    }
    const unknown = await call(`/admin/subscribers?email=${encodeURIComponent("nobody-here@example.com")}`, {
      headers: ADMIN,
    });
    expect(unknown.status).toBe(404);
    expect((await call("/admin/subscribers", { headers: ADMIN })).status).toBe(400);
  });

  it("finds an address with an internationalized domain as the subscriber wrote it", async () => {
    await importActive("reader@bücher.example");
    const row = await env.DB.prepare("SELECT id, email_key FROM subscribers WHERE email_key LIKE 'reader@%'").first<{
      id: number;
      email_key: string;
    }>();
    expect(row!.email_key).toBe("reader@xn--bcher-kva.example"); // stored in ASCII (punycode) form
    for (const q of ["reader@xn--bcher-kva.example", "reader@bücher.example", "Reader@BÜCHER.example"]) {
      const res = await call(`/admin/subscribers?email=${encodeURIComponent(q)}`, { headers: ADMIN });
      expect(res.status, q).toBe(200);
      expect(((await res.json()) as { id: number }).id).toBe(row!.id);
    }
  });

  it("shows a suppression, also once the subscriber is gone", async () => {
    await importActive("lookup-supp@example.com");
    const digest = await crypto.subtle.digest(
      "SHA-256",
      new TextEncoder().encode("suppression\nlookup-supp@example.com"),
    );
    const hash = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    const at = Date.parse("2026-11-02T10:00:00Z");
    await env.DB.prepare("INSERT INTO suppressions (email_hash, reason, created_at) VALUES (?, 'bounce', ?)")
      .bind(hash, at)
      .run();
    await env.DB.prepare(
      "UPDATE subscribers SET status = 'suppressed' WHERE email_key = 'lookup-supp@example.com'",
    ).run();

    const res = await call("/admin/subscribers?email=Lookup-Supp@Example.com", { headers: ADMIN });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: number; subscriber: { status: string }; suppression: unknown };
    expect(body.subscriber.status).toBe("suppressed");
    expect(body.suppression).toEqual({ reason: "bounce", since: "2026-11-02T10:00:00.000Z" });

    expect((await call(`/admin/subscribers/${body.id}`, { method: "DELETE", headers: ADMIN })).status).toBe(204);
    const gone = await call("/admin/subscribers?email=lookup-supp@example.com", { headers: ADMIN });
    expect(gone.status).toBe(200);
    expect(await gone.json()).toEqual({
      subscriber: null,
      suppression: { reason: "bounce", since: "2026-11-02T10:00:00.000Z" },
    });
  });

  it("DELETE /admin/subscribers/<id> erases (204), then 404", async () => {
    await importActive("delete-me@example.com", "delete-bystander@example.com");
    const row = await subscriberRow("delete-me@example.com");
    const res = await call(`/admin/subscribers/${row!.id}`, { method: "DELETE", headers: ADMIN });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect(await subscriberRow("delete-me@example.com")).toBeNull();
    expect(await subscriberRow("delete-bystander@example.com")).not.toBeNull();
    expect((await call(`/admin/subscribers/${row!.id}`, { method: "DELETE", headers: ADMIN })).status).toBe(404);
    expect((await call("/admin/subscribers?email=delete-me@example.com", { headers: ADMIN })).status).toBe(404);
    expect((await call("/admin/subscribers/999999999", { method: "DELETE", headers: ADMIN })).status).toBe(404);
  });
});

describe("GET /admin/digests", () => {
  it("lists issues, newest first, with their run records", async () => {
    const started = Date.parse("2026-10-19T08:00:00Z");
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO issues (week, status, subject, papers, started_at, finished_at, recipients, batches, batches_sent, sent, api_calls, delivered, bounced, complained) VALUES ('2026-W42', 'sent', 'Trending Papers, week 42', ?, ?, ?, 250, 3, 3, 250, 3, 240, 3, 1)",
      ).bind(
        JSON.stringify([{ id: "2610.00001", title: "A paper", upvotes: 12, summary: "not listed" }]),
        started,
        started + 60_000,
      ),
      env.DB.prepare(
        "INSERT INTO issues (week, status, started_at, paused_reason, delivered, complained) VALUES ('2026-W43', 'paused', ?, 'paused by an operator', 10, 0)",
      ).bind(started + 7 * DAY),
    ]);
    const res = await call("/admin/digests", { headers: ADMIN });
    expect(res.status).toBe(200);
    const { issues } = (await res.json()) as { issues: Record<string, unknown>[] };
    const weeks = issues.map((i) => i.week as string);
    expect(weeks).toEqual([...weeks].sort().reverse());
    expect(weeks).toEqual(expect.arrayContaining(["2026-W42", "2026-W43"]));
    expect(issues.find((i) => i.week === "2026-W42")).toMatchObject({
      status: "sent",
      subject: "Trending Papers, week 42",
      papers: [{ id: "2610.00001", title: "A paper", upvotes: 12 }],
      recipients: 250,
      batches: 3,
      batches_sent: 3,
      sent: 250,
      api_calls: 3,
      delivered: 240,
      bounced: 3,
      complained: 1,
      started_at: "2026-10-19T08:00:00.000Z",
      finished_at: "2026-10-19T08:01:00.000Z",
    });
    expect(issues.find((i) => i.week === "2026-W43")).toMatchObject({
      status: "paused",
      paused_reason: "paused by an operator",
      finished_at: null,
    });
  });
});
