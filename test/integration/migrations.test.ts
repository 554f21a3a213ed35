import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { signToken, verifyToken } from "../../src/lib/tokens";

// The migrations that rebuild `subscribers` (ids never reused, link keys, mailbox keys) run on a database that already
// holds data, the way they run on a deployed one: nothing is lost, links already sent keep working, the departures
// triggers come back, and the id sequence moves past every id a batch list still names.
it("existing subscribers, batches and links survive migrations 0005–0009", async () => {
  const db = env.MIGRATION_TEST_DB;
  const all = env.TEST_MIGRATIONS;
  const upTo = all.findIndex((m) => m.name.startsWith("0005"));
  expect(upTo).toBeGreaterThan(0);
  await applyD1Migrations(db, all.slice(0, upTo));

  // Data as the previous release left it: ids 1–4, id 9 erased but still named by a sent batch's list.
  await db.batch([
    db.prepare(
      "INSERT INTO subscribers (id, email, email_key, status, source, created_at, consent_at, confirmed_at) VALUES (1, 'Ada.Lovelace+news@Gmail.com', 'ada.lovelace+news@gmail.com', 'active', 'form', 1, 1, 2)",
    ),
    db.prepare(
      "INSERT INTO subscribers (id, email, email_key, status, source, created_at, consent_at) VALUES (2, 'grace@example.com', 'grace@example.com', 'pending', 'api', 1, 1)",
    ),
    db.prepare(
      "INSERT INTO subscribers (id, email, email_key, status, source, created_at, consent_at) VALUES (3, 'adalovelace@gmail.com', 'adalovelace@gmail.com', 'unsubscribed', 'api', 1, 1)",
    ),
    db.prepare(
      "INSERT INTO subscribers (id, email, email_key, status, source, created_at, consent_at) VALUES (4, 'Bob+x@Example.com', 'bob+x@example.com', 'active', 'api', 1, 1)",
    ),
    db.prepare(
      `INSERT INTO issue_batches (week, batch_no, recipients, status) VALUES ('2026-W40', 1, '[{"id":1,"email":"x"},{"id":9,"email":"gone@example.com"}]', 'sent')`,
    ),
  ]);
  const before = await db
    .prepare("SELECT id, email, status, created_at, confirmed_at FROM subscribers ORDER BY id")
    .all();
  const secret = "migration-test-secret-0123456789abcdef0123";
  const oldLink = await signToken(secret, "manage", { sub: 1, iat: 0, exp: 0 }); // as sent before link keys

  await applyD1Migrations(db, all);

  const after = await db
    .prepare("SELECT id, email, status, created_at, confirmed_at FROM subscribers ORDER BY id")
    .all();
  expect(after.results).toEqual(before.results); // nothing lost or changed
  const keys = await db
    .prepare("SELECT id, email_key, link_key FROM subscribers ORDER BY id")
    .all<{ id: number; email_key: string; link_key: string }>();
  // Mailbox keys where no two rows collide: row 1 reaches the mailbox row 3 already holds, so it keeps its old key.
  expect(keys.results.map((r) => r.email_key)).toEqual([
    "ada.lovelace+news@gmail.com",
    "grace@example.com",
    "adalovelace@gmail.com",
    "bob@example.com",
  ]);
  // Links already sent verify against the row's (empty) link key.
  expect(keys.results.every((r) => r.link_key === "")).toBe(true);
  expect(await verifyToken(secret, "manage", oldLink, Date.now(), keys.results[0]!.link_key)).toMatchObject({
    ok: true,
  });
  // The next id is past every id ever named (9), and never a reused one.
  const next = await db
    .prepare(
      "INSERT INTO subscribers (email, email_key, status, source, created_at, consent_at) VALUES ('new@example.com', 'new@example.com', 'active', 'api', 0, 0) RETURNING id",
    )
    .first<{ id: number }>();
  expect(next!.id).toBe(10);
  await db.prepare("DELETE FROM subscribers WHERE id = 10").run();
  const again = await db
    .prepare(
      "INSERT INTO subscribers (email, email_key, status, source, created_at, consent_at) VALUES ('newer@example.com', 'newer@example.com', 'active', 'api', 0, 0) RETURNING id",
    )
    .first<{ id: number }>();
  expect(again!.id).toBe(11);
  // The departures triggers are back: the erased active row 10 was recorded.
  expect(await db.prepare("SELECT subscriber_id FROM departures").all()).toMatchObject({
    results: [{ subscriber_id: 10 }],
  });
});
