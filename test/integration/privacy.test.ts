import { createExecutionContext, createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createImport, getImport } from "../../src/db/imports";
import worker from "../../src/index";
import { BASE, call, outboxFor, subscribeJson, subscriberRow } from "../support/helpers";
import { confirmed, confirmLink, postForm, signup } from "../support/subscribers";

const DAY = 86_400_000;

/** Every signup here comes from a known IP and origin: the consent evidence an export shows. */
const CONSENT = { ip: "203.0.113.77", headers: { origin: "https://blog.example.org" } };

async function insertBatch(
  week: string,
  batchNo: number,
  status: string,
  recipients: { id: number; email: string }[],
  sentAt: number | null,
) {
  const r = await env.DB.prepare(
    "INSERT INTO issue_batches (week, batch_no, recipients, status, sent_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
  )
    .bind(week, batchNo, JSON.stringify(recipients), status, sentAt)
    .first<{ id: number }>();
  return r!.id;
}

const batchRecipients = async (id: number) =>
  JSON.parse(
    (await env.DB.prepare("SELECT recipients FROM issue_batches WHERE id = ?")
      .bind(id)
      .first<{ recipients: string }>())!.recipients,
  ) as { id: number; email: string }[];

/** Where (table.column#rowid) an address still appears, in any letter case, across every table of the app. */
async function whereStored(address: string) {
  const { results: tables } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
  ).all<{ name: string }>();
  expect(tables.map((t) => t.name)).toEqual(
    expect.arrayContaining(["subscribers", "outbox", "issues", "issue_batches", "suppressions", "webhook_events"]),
  );
  const found: string[] = [];
  for (const { name } of tables) {
    const { results } = await env.DB.prepare(`SELECT rowid AS _rowid, * FROM "${name}"`).all<Record<string, unknown>>();
    for (const row of results)
      for (const [col, v] of Object.entries(row))
        if (typeof v === "string" && v.toLowerCase().includes(address.toLowerCase()))
          found.push(`${name}.${col}#${row._rowid}`);
  }
  return found;
}

describe("download my data", () => {
  it("GET /manage/<token>/data.json returns the subscription and its consent evidence, and changes nothing", async () => {
    const { id, manage } = await confirmed("export-me@example.com", CONSENT);
    const sentBatch = await insertBatch("2026-W10", 1, "sent", [{ id, email: "export-me@example.com" }], Date.now());
    await insertBatch("2026-W11", 1, "queued", [{ id, email: "export-me@example.com" }], null);
    expect(sentBatch).toBeGreaterThan(0);
    const before = await subscriberRow("export-me@example.com");

    const res = await call(`${manage}/data.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("content-disposition")).toContain("attachment");
    const data = (await res.json()) as { consent: Record<string, string>; subscribed_at: string };
    expect(data).toMatchObject({
      email: "export-me@example.com",
      status: "active",
      source: "api",
      issues_received: ["2026-W10"],
    });
    expect(data.consent.given_at).toBe(new Date(Number(before!.consent_at)).toISOString());
    expect(data.consent.confirmed_at).toBe(new Date(Number(before!.confirmed_at)).toISOString());
    expect(data.consent.source_origin).toBe("https://blog.example.org");
    expect(data.consent.ip_hash).toBe(before!.consent_ip_hash);
    expect(data.consent.ip_hash).toMatch(/^[\w-]{16,}$/);
    expect(JSON.stringify(data)).not.toContain("203.0.113.77");
    expect(data.subscribed_at).toMatch(/^\d{4}-\d\d-\d\dT/);

    expect(await subscriberRow("export-me@example.com")).toEqual(before);
  });

  it("a tampered token is 400 and reveals nothing", async () => {
    const { manage } = await confirmed("export-tamper@example.com", CONSENT);
    const token = manage.split("/manage/")[1]!;
    const flipped = token.slice(0, -2) + (token.at(-2) === "A" ? "B" : "A") + token.at(-1);
    const res = await call(`/manage/${flipped}/data.json`);
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain("export-tamper@example.com");
  });
});

describe("erase my data", () => {
  it("without confirm=yes it is 422 and nothing is erased", async () => {
    const { manage } = await confirmed("erase-unconfirmed@example.com", CONSENT);
    const before = await subscriberRow("erase-unconfirmed@example.com");
    const outboxBefore = await outboxFor("erase-unconfirmed@example.com");
    for (const fields of [
      { action: "erase" },
      { action: "erase", confirm: "no" },
      { action: "erase", confirm: "" },
    ] as Record<string, string>[]) {
      const res = await postForm(manage, fields);
      expect(res.status, JSON.stringify(fields)).toBe(422);
    }
    expect(await subscriberRow("erase-unconfirmed@example.com")).toEqual(before);
    expect(await outboxFor("erase-unconfirmed@example.com")).toEqual(outboxBefore);
  });

  it("with confirm=yes it removes the row, its mail and its place in finished batch lists, and shows the erased page", async () => {
    const { id, manage } = await confirmed("erase-me@example.com", CONSENT);
    const { id: otherId } = await confirmed("erase-bystander@example.com", CONSENT);
    expect((await outboxFor("erase-me@example.com")).length).toBeGreaterThanOrEqual(2);
    const me = { id, email: "erase-me@example.com" };
    const other = { id: otherId, email: "erase-bystander@example.com" };
    const sent = await insertBatch("2026-W12", 1, "sent", [other, me], Date.now() - DAY);
    const failed = await insertBatch("2026-W12", 2, "failed", [me], null);
    const cancelled = await insertBatch("2026-W13", 1, "cancelled", [me, other], null);

    const res = await postForm(manage, { action: "erase", confirm: "yes" });
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain("Your data is erased");
    expect(page).not.toContain("erase-me@example.com");

    expect(await subscriberRow("erase-me@example.com")).toBeNull();
    expect(await outboxFor("erase-me@example.com")).toHaveLength(0);
    expect(await batchRecipients(sent)).toEqual([other]);
    expect(await batchRecipients(failed)).toEqual([]);
    expect(await batchRecipients(cancelled)).toEqual([other]);
    // The bystander keeps everything.
    expect((await subscriberRow("erase-bystander@example.com"))!.status).toBe("active");
    expect((await outboxFor("erase-bystander@example.com")).length).toBeGreaterThanOrEqual(2);
    expect(await whereStored("erase-me@example.com")).toEqual([]);

    // The links now lead nowhere (the row and its link key are gone: the same answer as a tampered link); erasing
    // again is harmless.
    expect((await call(manage)).status).toBe(400);
    expect((await call(`${manage}/data.json`)).status).toBe(400);
    expect((await postForm(manage, { action: "erase", confirm: "yes" })).status).toBe(400);
  });

  it("erases mail sent under an earlier spelling of the address too", async () => {
    // Signed up as "Case-Erase@…", then (after the throttle interval) again as "case-erase@…": the row now holds
    // the new spelling, but the first confirmation email went to the old one.
    await signup("Case-Erase@example.com", CONSENT);
    await env.DB.prepare(
      "UPDATE subscribers SET confirm_sent_at = confirm_sent_at - 11 * 60 * 1000 WHERE email_key = 'case-erase@example.com'",
    ).run();
    const { manage } = await confirmLink(await signup("case-erase@example.com", CONSENT), "case-erase@example.com");
    expect(await outboxFor("Case-Erase@example.com")).toHaveLength(1);

    const res = await postForm(manage, { action: "erase", confirm: "yes" });
    expect(res.status).toBe(200);
    expect(await subscriberRow("case-erase@example.com")).toBeNull();
    expect(await whereStored("case-erase@example.com")).toEqual([]);
  });

  it("a suppressed subscriber erased keeps only the hashed suppression entry", async () => {
    const { id, manage } = await confirmed("Suppressed-Erase@example.com", CONSENT);
    // Suppressed the way production does it: the address complained.
    await env.DB.prepare("INSERT INTO suppressions (email_hash, reason, created_at) VALUES (?, 'complaint', ?)")
      .bind(await suppressionKey("suppressed-erase@example.com"), Date.now())
      .run();
    await env.DB.prepare("UPDATE subscribers SET status = 'suppressed' WHERE id = ?").bind(id).run();
    await insertBatch("2026-W14", 1, "sent", [{ id, email: "Suppressed-Erase@example.com" }], Date.now());

    const res = await postForm(manage, { action: "erase", confirm: "yes" });
    expect(res.status).toBe(200);
    expect(await subscriberRow("suppressed-erase@example.com")).toBeNull();
    expect(
      await env.DB.prepare("SELECT reason FROM suppressions WHERE email_hash = ?")
        .bind(await suppressionKey("suppressed-erase@example.com"))
        .first(),
    ).toMatchObject({ reason: "complaint" });
    expect(await whereStored("suppressed-erase@example.com")).toEqual([]);

    // Still never mailed again: a new signup is silently ignored.
    expect((await subscribeJson("suppressed-erase@example.com")).status).toBe(202);
    expect(await subscriberRow("suppressed-erase@example.com")).toBeNull();
  });

  it("an erased subscriber that was suppressed without a list entry gets one (hashed)", async () => {
    const { manage, id } = await confirmed("suppressed-nolist@example.com", CONSENT);
    await env.DB.prepare("UPDATE subscribers SET status = 'suppressed' WHERE id = ?").bind(id).run();
    expect((await postForm(manage, { action: "erase", confirm: "yes" })).status).toBe(200);
    expect(
      await env.DB.prepare("SELECT reason FROM suppressions WHERE email_hash = ?")
        .bind(await suppressionKey("suppressed-nolist@example.com"))
        .first(),
    ).toMatchObject({ reason: "manual" });
    expect(await whereStored("suppressed-nolist@example.com")).toEqual([]);
  });
});

async function suppressionKey(email: string) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`suppression\n${email.toLowerCase()}`));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("daily housekeeping cron", () => {
  it("deletes stale pending signups and webhook ids, and clears old batch recipient lists", async () => {
    const now = Date.now();
    for (const e of [
      "prune-old-pending@example.com",
      "prune-young-pending@example.com",
      "prune-old-active@example.com",
      "prune-old-unsub@example.com",
    ])
      expect((await subscribeJson(e)).status).toBe(202);
    await env.DB.prepare(
      "UPDATE subscribers SET consent_at = ?, created_at = ? WHERE email_key = 'prune-old-pending@example.com'",
    )
      .bind(now - 8 * DAY, now - 8 * DAY)
      .run();
    await env.DB.prepare(
      "UPDATE subscribers SET consent_at = ?, created_at = ? WHERE email_key = 'prune-young-pending@example.com'",
    )
      .bind(now - 6 * DAY, now - 6 * DAY)
      .run();
    await env.DB.prepare(
      "UPDATE subscribers SET status = 'active', confirmed_at = ?, consent_at = ? WHERE email_key = 'prune-old-active@example.com'",
    )
      .bind(now - 90 * DAY, now - 90 * DAY)
      .run();
    await env.DB.prepare(
      "UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = ?, consent_at = ? WHERE email_key = 'prune-old-unsub@example.com'",
    )
      .bind(now - 20 * DAY, now - 90 * DAY)
      .run();

    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO webhook_events (svix_id, type, received_at) VALUES ('msg_prune_old', 'email.delivered', ?)",
      ).bind(now - 8 * DAY),
      env.DB.prepare(
        "INSERT INTO webhook_events (svix_id, type, received_at) VALUES ('msg_prune_young', 'email.delivered', ?)",
      ).bind(now - 6 * DAY),
    ]);
    const r = [{ id: 999_001, email: "prune-batch@example.com" }];
    const oldSent = await insertBatch("2026-W01", 1, "sent", r, now - 31 * DAY);
    const youngSent = await insertBatch("2026-W02", 1, "sent", r, now - 29 * DAY);
    const oldQueued = await insertBatch("2026-W03", 1, "queued", r, null);
    // Dashboard imports (with their rejected rows) are kept 30 days, their chunks with them.
    const list = {
      rows: 1,
      valid: [{ email: "prune-import@example.com", key: "prune-import@example.com" }],
      repeated: 0,
      invalid: 0,
      errors: [],
    };
    const oldImport = (await createImport(env.DB, "old.csv", list, now - 31 * DAY)).id;
    const youngImport = (await createImport(env.DB, "young.csv", list, now - 29 * DAY)).id;

    await worker.scheduled!(
      createScheduledController({ cron: "0 3 * * *", scheduledTime: now }),
      env,
      createExecutionContext(),
    );

    expect(await subscriberRow("prune-old-pending@example.com")).toBeNull();
    expect((await subscriberRow("prune-young-pending@example.com"))!.status).toBe("pending");
    expect((await subscriberRow("prune-old-active@example.com"))!.status).toBe("active");
    expect((await subscriberRow("prune-old-unsub@example.com"))!.status).toBe("unsubscribed");
    const ids = (
      await env.DB.prepare("SELECT svix_id FROM webhook_events WHERE svix_id LIKE 'msg_prune_%' ORDER BY svix_id").all<{
        svix_id: string;
      }>()
    ).results.map((x) => x.svix_id);
    expect(ids).toEqual(["msg_prune_young"]);
    expect(await batchRecipients(oldSent)).toEqual([]);
    expect(await batchRecipients(youngSent)).toEqual(r);
    expect(await batchRecipients(oldQueued)).toEqual(r); // still to be sent: its frozen list is kept
    expect(await getImport(env.DB, oldImport)).toBeUndefined();
    expect(await getImport(env.DB, youngImport)).toMatchObject({ fileName: "young.csv" });
    const chunks = await env.DB.prepare("SELECT import_id FROM import_chunks WHERE import_id IN (?, ?)")
      .bind(oldImport, youngImport)
      .all<{ import_id: number }>();
    expect(chunks.results).toEqual([{ import_id: youngImport }]);

    // The weekly cron does not run the housekeeping (and the daily one starts no issue).
    expect((await env.DB.prepare("SELECT count(*) AS n FROM issues").first<{ n: number }>())!.n).toBe(0);
  });
});

// Keep BASE referenced for readers: every link above is absolute on it.
void BASE;
