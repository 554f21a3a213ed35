import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { config } from "../../src/config";
import { startIssue } from "../../src/digest/issues";
import type { DigestJob } from "../../src/digest/jobs";
import { DIGEST_MAX_ATTEMPTS } from "../../src/digest/send";
import { manageUrl, unsubscribeUrl } from "../../src/lib/links";
import { sendBudget } from "../../src/mail/budget";
import type { StoredEmail } from "../emulators/resend";
import { call } from "../support/helpers";
import { waitFor } from "../support/poll";
import { consume, release, startHeld } from "../support/queues";
import { resendEmulator } from "../support/resend-emulator";
import { webhookSender } from "../support/svix";

// Delivery at Resend's limit, end to end: the Worker of this project sends through the Resend emulator (one team,
// shared with the other files of the project, which run one at a time), its queues run for real, and every call
// draws from the SEND_BUDGET Durable Object. Where a test needs to hold batches between their cut and their send,
// it runs the fan-out itself and delivers the batch messages with `consume` (the Worker's own queue handler).
const emu = resendEmulator(env.RESEND_API_KEY);
const auth = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
const cfg = config(env);
const run = crypto.randomUUID().slice(0, 6);

beforeEach(async () => {
  await emu.reset();
  await sendBudget(env).reset();
  // Each test starts from no subscribers (ids are reused after a delete, so departures go too).
  await env.DB.batch([env.DB.prepare("DELETE FROM subscribers"), env.DB.prepare("DELETE FROM departures")]);
});

/** A subscriber's id and link key, for minting the links their emails carry. */
const owner = async (id: number) => ({
  id,
  linkKey: (await env.DB.prepare("SELECT link_key FROM subscribers WHERE id = ?")
    .bind(id)
    .first<{ link_key: string }>())!.link_key,
});

async function importActive(emails: string[]) {
  for (let i = 0; i < emails.length; i += 10_000) {
    const res = await call("/admin/subscribers/import", {
      method: "POST",
      headers: { ...auth, "content-type": "text/csv" },
      body: ["email", ...emails.slice(i, i + 10_000)].join("\n"),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { imported: number }).imported).toBe(Math.min(10_000, emails.length - i));
  }
  const { results } = await env.DB.prepare(
    "SELECT id, email FROM subscribers WHERE status = 'active' ORDER BY id",
  ).all<{ id: number; email: string }>();
  return results;
}

async function subscribeAll(emails: string[], concurrency = 25) {
  for (let i = 0; i < emails.length; i += concurrency) {
    const answers = await Promise.all(
      emails.slice(i, i + concurrency).map((email) =>
        call("/api/subscribe", {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json" },
          body: JSON.stringify({ email }),
        }),
      ),
    );
    for (const a of answers) expect(a.status).toBe(202);
  }
}

type RunRecord = {
  status: string;
  sent: number;
  recipients: number;
  dropped: number;
  rejected: number;
  batches: number;
  batches_sent: number;
  failures: number;
  api_calls: number;
  paused_reason: string | null;
  last_error: string | null;
};
const record = async (week: string) =>
  (await (await call(`/admin/digests/${week}`, { headers: auth })).json()) as RunRecord;
const untilSettled = (week: string, timeoutMs = 60_000) =>
  waitFor(
    `issue ${week} settled`,
    () => record(week),
    (r) => ["sent", "failed", "skipped"].includes(r.status),
    timeoutMs,
  );

const tagOf = (e: StoredEmail, name: string) => e.tags.find((t) => t.name === name)?.value;
const digestEmails = async (week: string) => (await emu.emails()).filter((e) => tagOf(e, "issue") === week);
const confirmations = async () => (await emu.emails()).filter((e) => tagOf(e, "kind") === "confirm");

/** Each expected address exactly once, each email to one address, nobody else. */
function expectExactlyOnce(emails: StoredEmail[], expected: string[]) {
  const to = emails.flatMap((e) => {
    expect(e.to).toHaveLength(1);
    return e.to;
  });
  expect(to.sort()).toEqual([...expected].sort());
}

/**
 * The consumers of this project start from RESEND_MAX_RPS=0 (no ceiling until Resend states its limit): one test
 * send first teaches the budget the emulator's limit, as the first answers do in production.
 */
async function warmUp(week: string, limit: number) {
  const warm = await call(`/admin/digests/${week}/test`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ email: "editor@example.com" }),
  });
  expect(warm.status).toBe(200);
  expect(await sendBudget(env).state()).toMatchObject({ rate: limit, rateSource: "resend" });
}

/** Accepted emails per emulator rate-limit window (fixed windows of 1 s from the first request after the last one ended). */
function emailsPerWindow(
  log: { status: number; at: number; idempotencyKey: string | null }[],
  accepted: Map<string | null, number>,
) {
  const windows: number[] = [];
  let start = -Infinity;
  for (const r of log) {
    if (r.at - start >= 1000) {
      start = r.at;
      windows.push(0);
    }
    if (r.status === 200) windows[windows.length - 1]! += accepted.get(r.idempotencyKey) ?? 0;
  }
  return windows;
}

describe("transactional mail in batches", () => {
  it("1,000 signups get their confirmations in at most 2 × ⌈1,000/100⌉ Resend calls, each exactly once", async () => {
    await emu.configure({ keepBodies: false });
    const emails = Array.from({ length: 1000 }, (_, i) => `signup-${run}-${i}@example.com`);
    await subscribeAll(emails);
    await waitFor(
      "1,000 confirmations",
      () => emu.stats(),
      (s) => s.acceptedEmails >= 1000,
      90_000,
    );
    expectExactlyOnce(await confirmations(), emails);
    const calls = (await emu.requests()).filter((r) => r.idempotencyKey?.startsWith("mail/"));
    expect(calls.length).toBeLessThanOrEqual(20);
    expect(calls.every((r) => r.path === "/emails/batch" && r.status === 200)).toBe(true);
  });

  it("a lone signup's confirmation does not wait for a batch to fill: it goes out as a batch of one", async () => {
    const email = `alone-${run}@example.com`;
    await subscribeAll([email]);
    const [mail] = await waitFor(
      "the confirmation",
      () => confirmations(),
      (c) => c.length === 1,
      30_000,
    );
    expect(mail!.to).toEqual([email]);
    const batch = await env.DB.prepare(
      "SELECT items, sent FROM mail_batches WHERE status = 'sent' ORDER BY id DESC LIMIT 1",
    ).first<{ items: string; sent: number }>();
    expect(batch!.sent).toBe(1);
    expect(JSON.parse(batch!.items)).toEqual([expect.objectContaining({ kind: "confirm", email })]);
  });

  it("exactly once when Resend answers 30 % 429 and 10 % 500, half of those after sending", async () => {
    // The first calls meet one of each fault for certain, then the seeded random mix applies.
    await emu.configure({
      keepBodies: false,
      faults: [{ status: 429, retryAfter: 1 }, { status: 500, after: true }, { status: 500 }],
      random: { p429: 0.3, p500: 0.05, p500After: 0.05, seed: 7 },
    });
    const emails = Array.from({ length: 300 }, (_, i) => `faulty-${run}-${i}@example.com`);
    await subscribeAll(emails);
    await waitFor(
      "300 confirmations",
      () => emu.stats(),
      (s) => s.acceptedEmails >= 300,
      120_000,
    );
    // Every mail batch settled: nothing is left that could call Resend again, so a duplicate would be in the log now.
    await waitFor(
      "every mail batch settled",
      () => env.DB.prepare("SELECT count(*) AS n FROM mail_batches WHERE status = 'queued'").first<{ n: number }>(),
      (r) => r!.n === 0,
      60_000,
    );
    const log = await emu.requests();
    expect(log.some((r) => r.status === 429)).toBe(true);
    expect(log.some((r) => r.status === 500)).toBe(true);
    expectExactlyOnce(await confirmations(), emails);
    expect((await emu.stats()).replays, JSON.stringify(log.map((r) => [r.status, r.idempotencyKey]))).toBeGreaterThan(
      0,
    ); // a lost answer was resent under its key, not sent twice
  });
});

describe("frozen digest batches re-check their recipients", () => {
  it("people who unsubscribe, complain, are erased or pause after the cut get nothing; the rest get it once", async () => {
    const week = "2026-W30";
    const people = await importActive(Array.from({ length: 250 }, (_, i) => `cut-${run}-${i}@example.com`));
    const { jobs } = await startHeld(week);
    expect(jobs).toHaveLength(3);
    expect((await record(week)).recipients).toBe(250);
    const [unsub, complainer, erased, paused] = [people[5]!, people[120]!, people[121]!, people[230]!];

    // After the cut, before any send: one-click unsubscribe, a complaint, "erase my data", a pause.
    const oneClick = new URL(await unsubscribeUrl(cfg, await owner(unsub.id))).pathname;
    expect(
      (
        await call(oneClick, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: "List-Unsubscribe=One-Click",
        })
      ).status,
    ).toBe(200);
    expect(
      (await webhookSender()("email.complained", { to: [complainer.email], tags: { issue: "2026-W29" } })).status,
    ).toBe(200);
    const manageErased = new URL(await manageUrl(cfg, await owner(erased.id))).pathname;
    expect(
      (
        await call(manageErased, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: "action=erase&confirm=yes",
        })
      ).status,
    ).toBe(200);
    const managePaused = new URL(await manageUrl(cfg, await owner(paused.id))).pathname;
    expect(
      (
        await call(managePaused, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: "action=pause&weeks=2",
        })
      ).status,
    ).toBe(200);

    const result = await consume("papers-digest", jobs);
    expect(result.explicitAcks).toHaveLength(3);
    const gone = new Set([unsub.email, complainer.email, erased.email, paused.email]);
    const emails = await digestEmails(week);
    expectExactlyOnce(
      emails,
      people.map((p) => p.email).filter((e) => !gone.has(e)),
    );
    expect(await record(week)).toMatchObject({
      status: "sent",
      recipients: 250,
      dropped: 4,
      sent: 246,
      batches_sent: 3,
    });
    // The changed lists went out under keys of their own; the untouched batch under its first key.
    expect([...new Set(emails.map((e) => e.idempotencyKey))].sort()).toEqual([
      `digest/${week}/1/v1`,
      `digest/${week}/2/v1`,
      `digest/${week}/3/v1`,
    ]);
    // The erased address is nowhere in the batch lists.
    const { results } = await env.DB.prepare("SELECT recipients FROM issue_batches WHERE week = ?")
      .bind(week)
      .all<{ recipients: string }>();
    expect(results.some((r) => r.recipients.includes(erased.email))).toBe(false);
  });

  it("someone who leaves while the first attempts are refused (429) gets nothing; after a lost answer the same body goes again", async () => {
    const week = "2026-W31";
    const people = await importActive(Array.from({ length: 300 }, (_, i) => `refused-${run}-${i}@example.com`));
    const { jobs } = await startHeld(week);
    await emu.configure({ faults: [{ status: 429, retryAfter: 1, times: 3 }] });
    const first = await consume("papers-digest", jobs);
    expect(first.retryMessages).toHaveLength(3); // all three refused, to be tried again
    expect(await digestEmails(week)).toHaveLength(0);

    const leaver = people[150]!;
    await env.DB.prepare("UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = ? WHERE id = ?")
      .bind(Date.now(), leaver.id)
      .run();
    // The next attempt of one batch answers 500 after sending: it must go again exactly as it was.
    await emu.configure({ faults: [{ status: 500, after: true }] });
    const second = await consume("papers-digest", jobs, env, 2);
    expect(second.retryMessages).toHaveLength(1);
    const ambiguous = (await env.DB.prepare(
      "SELECT id, recipients, version FROM issue_batches WHERE week = ? AND status = 'queued'",
    )
      .bind(week)
      .first<{ id: number; recipients: string; version: number }>())!;
    // Someone of that batch leaves now: their email may already be in their inbox, so nothing changes the body.
    const late = (JSON.parse(ambiguous.recipients) as { id: number; email: string }[]).find((r) => r.id !== leaver.id)!;
    await env.DB.prepare("UPDATE subscribers SET status = 'unsubscribed' WHERE id = ?").bind(late.id).run();
    const third = await consume(
      "papers-digest",
      jobs.filter((j) => j.batchId === ambiguous.id),
      env,
      3,
    );
    expect(third.explicitAcks).toHaveLength(1);

    expectExactlyOnce(
      await digestEmails(week),
      people.map((p) => p.email).filter((e) => e !== leaver.email),
    );
    expect((await emu.stats()).replays).toBe(1);
    expect(await record(week)).toMatchObject({ status: "sent", dropped: 1, sent: 299 });
  });

  it("one address Resend refuses does not fail the other 99 of its batch", async () => {
    const week = "2026-W32";
    const people = await importActive(Array.from({ length: 150 }, (_, i) => `permissive-${run}-${i}@example.com`));
    // An address from before today's validation (an old import, say) that Resend will not take.
    await env.DB.prepare(
      "INSERT INTO subscribers (email, email_key, status, source, created_at, consent_at) VALUES ('legacy import@example.com', 'legacy import@example.com', 'active', 'import', 0, 0)",
    ).run();
    const { jobs } = await startHeld(week);
    await consume("papers-digest", jobs);
    expectExactlyOnce(
      await digestEmails(week),
      people.map((p) => p.email),
    );
    expect(await record(week)).toMatchObject({ status: "sent", recipients: 151, rejected: 1, sent: 150, failures: 0 });
    const batch = await env.DB.prepare(
      "SELECT status, rejected, error FROM issue_batches WHERE week = ? AND rejected > 0",
    )
      .bind(week)
      .first();
    expect(batch).toMatchObject({
      status: "sent",
      rejected: 1,
      error: expect.stringContaining("Resend refused 1 address"),
    });
  });
});

describe("queue messages stay small, whatever the data", () => {
  it("2,000 subscribers with 250-character addresses each get the issue once; every queue send is within Cloudflare's limits", async () => {
    const week = "2026-W33";
    // 64-character local part, 185-character domain: 250 characters, within RFC 5321's 254.
    const long = (i: number) =>
      `${String(i).padStart(6, "0")}${"l".repeat(58)}@${"d".repeat(63)}.${"e".repeat(63)}.${"f".repeat(53)}.com`;
    expect(long(1)).toHaveLength(250);
    await emu.configure({ keepBodies: false });
    const people = await importActive(Array.from({ length: 2000 }, (_, i) => long(i)));
    expect(people).toHaveLength(2000);
    const { jobs, sizes } = await startHeld(week);
    expect(jobs).toHaveLength(20);
    for (const s of sizes) {
      expect(s.messages).toBeLessThanOrEqual(100);
      expect(s.bytes).toBeLessThan(256 * 1024);
      expect(s.largest).toBeLessThan(128 * 1024);
    }
    expect(Math.max(...sizes.map((s) => s.largest))).toBeLessThan(200); // ids only
    await release(jobs);
    expect(await untilSettled(week)).toMatchObject({ status: "sent", sent: 2000, failures: 0 });
    expectExactlyOnce(
      await digestEmails(week),
      people.map((p) => p.email),
    );
  });
});

describe("one rate budget for the whole deployment", () => {
  it("a digest and 1,000 signups at once: both complete exactly once, no 429, and confirmations never wait behind the digest", async () => {
    const week = "2026-W34";
    await emu.configure({ keepBodies: false, rateLimit: { requests: 5, windowSec: 1 } });
    await warmUp(week, 5);

    const readers = await importActive(Array.from({ length: 2000 }, (_, i) => `fair-${run}-${i}@example.com`));
    const signups = Array.from({ length: 1000 }, (_, i) => `fair-signup-${run}-${i}@example.com`);
    await startIssue(env, week);
    await subscribeAll(signups);
    expect(await untilSettled(week, 90_000)).toMatchObject({ status: "sent", sent: 2000 });
    await waitFor(
      "1,000 confirmations",
      () => confirmations(),
      (c) => c.length >= 1000,
      90_000,
    );

    expectExactlyOnce(
      await digestEmails(week),
      readers.map((r) => r.email),
    );
    expectExactlyOnce(await confirmations(), signups);
    const log = await emu.requests();
    expect(log.filter((r) => r.status === 429)).toEqual([]);
    // Transactional mail goes first: a mail batch frozen while the digest was sending waited for at most a few digest
    // calls (those in flight and one per alternation), not for the digest's backlog.
    const digestCalls = log.filter((r) => r.idempotencyKey?.startsWith("digest/")).map((r) => r.at);
    const lastDigest = Math.max(...digestCalls);
    const { results: mailBatches } = await env.DB.prepare(
      "SELECT id, created_at, sent_at FROM mail_batches WHERE status = 'sent' AND created_at < ?",
    )
      .bind(lastDigest)
      .all<{ id: number; created_at: number; sent_at: number }>();
    expect(mailBatches.length).toBeGreaterThan(0);
    for (const b of mailBatches)
      expect(
        digestCalls.filter((t) => t > b.created_at && t < b.sent_at).length,
        `mail batch ${b.id}`,
      ).toBeLessThanOrEqual(6);
  });

  it("three digest consumers and the mail consumer at once never exceed the budget (0 × 429)", async () => {
    const week = "2026-W35";
    await emu.configure({ keepBodies: false, rateLimit: { requests: 4, windowSec: 1 } });
    const readers = await importActive(Array.from({ length: 3000 }, (_, i) => `parallel-${run}-${i}@example.com`));
    const { jobs } = await startHeld(week);
    expect(jobs).toHaveLength(30);
    const signups = Array.from({ length: 200 }, (_, i) => `parallel-signup-${run}-${i}@example.com`);
    await warmUp(week, 4);
    const results = await Promise.all([
      consume("papers-digest", jobs.slice(0, 10)),
      consume("papers-digest", jobs.slice(10, 20)),
      consume("papers-digest", jobs.slice(20)),
      subscribeAll(signups),
    ]);
    for (const r of results.slice(0, 3)) expect((r as { explicitAcks: string[] }).explicitAcks).toHaveLength(10);
    await waitFor(
      "200 confirmations",
      () => confirmations(),
      (c) => c.length >= 200,
      60_000,
    );
    expect((await emu.requests()).filter((r) => r.status === 429)).toEqual([]);
    expectExactlyOnce(
      await digestEmails(week),
      readers.map((r) => r.email),
    );
    expectExactlyOnce(await confirmations(), signups);
  });

  it("follows the limit Resend states: from RESEND_MAX_RPS=2 to ratelimit-limit 4, at least 0.9 × 400 emails per second-window", async () => {
    const week = "2026-W36";
    await emu.configure({ keepBodies: false, rateLimit: { requests: 4, windowSec: 1 } });
    await importActive(Array.from({ length: 2400 }, (_, i) => `adaptive-${run}-${i}@example.com`));
    const { jobs } = await startHeld(week);
    const e = { ...env, RESEND_MAX_RPS: "2" };
    const result = await consume("papers-digest", jobs, e);
    expect(result.explicitAcks).toHaveLength(24);
    expect(await sendBudget(env).state()).toMatchObject({ rate: 4, rateSource: "resend" });
    const log = await emu.requests();
    expect(log.filter((r) => r.status === 429)).toEqual([]);
    const accepted = new Map(
      (await digestEmails(week)).reduce(
        (m, em) => m.set(em.idempotencyKey, (m.get(em.idempotencyKey) ?? 0) + 1),
        new Map<string | null, number>(),
      ),
    );
    const windows = emailsPerWindow(log, accepted);
    // The first window runs at the configured 2/s (the limit is learned from its answers), the last may be partial.
    const steady = windows.slice(1, -1);
    expect(steady.length).toBeGreaterThanOrEqual(3);
    const mean = steady.reduce((a, b) => a + b, 0) / steady.length;
    expect(mean).toBeGreaterThanOrEqual(0.9 * 400);
  });
});

describe("quota, failures and recovery", () => {
  it("Resend's daily quota pauses sending (run record, /admin/stats) instead of retrying; resuming finishes exactly once", async () => {
    const week = "2026-W37";
    await emu.configure({ dailyQuota: 150 });
    const readers = await importActive(Array.from({ length: 300 }, (_, i) => `quota-${run}-${i}@example.com`));
    const { jobs } = await startHeld(week);
    const first = await consume("papers-digest", jobs);
    expect(first.retryMessages).toHaveLength(0); // parked, not retried every few seconds
    const paused = await record(week);
    expect(paused).toMatchObject({ status: "paused", batches_sent: 1, sent: 100 });
    expect(paused.paused_reason).toContain("daily_quota_exceeded");
    const stats = (await (await call("/admin/stats", { headers: auth })).json()) as {
      sending: { quota: { code: string } | null };
    };
    expect(stats.sending.quota?.code).toBe("daily_quota_exceeded");

    // A signup meanwhile: its confirmation waits for the quota too.
    const signup = `quota-signup-${run}@example.com`;
    await subscribeAll([signup]);
    await waitFor(
      "the confirmation parked",
      () => env.DB.prepare("SELECT count(*) AS n FROM mail_batches WHERE parked_at IS NOT NULL").first<{ n: number }>(),
      (r) => r!.n === 1,
      30_000,
    );
    const calls = (await emu.stats()).requests;
    // A negative check needs a wait: a queue retry would come within a second or two; parked work makes none.
    await new Promise((r) => setTimeout(r, 3000));
    expect((await emu.stats()).requests).toBe(calls);

    // The quota is back (a plan upgrade, say): the operator resumes; everything parked goes out, once.
    await emu.configure({ dailyQuota: null });
    const resumed = await call("/admin/sending/resume", { method: "POST", headers: auth });
    expect(resumed.status).toBe(200);
    expect(((await resumed.json()) as { sending: { quota: unknown } }).sending.quota).toBeNull();
    expect(await untilSettled(week)).toMatchObject({ status: "sent", sent: 300, paused_reason: null });
    await waitFor(
      "the parked confirmation",
      () => confirmations(),
      (c) => c.length === 1,
    );
    expectExactlyOnce(
      await digestEmails(week),
      readers.map((r) => r.email),
    );
    expectExactlyOnce(await confirmations(), [signup]);
  });

  it("a batch that failed for good is retried from the admin API, exactly once; a second call finds nothing to retry", async () => {
    const week = "2026-W38";
    const readers = await importActive(Array.from({ length: 300 }, (_, i) => `retry-${run}-${i}@example.com`));
    const { jobs } = await startHeld(week);
    await emu.configure({ faults: [{ status: 422, name: "invalid_from_address", message: "Invalid `from` field." }] });
    await consume("papers-digest", jobs);
    const failed = await record(week);
    expect(failed).toMatchObject({ status: "sent", failures: 1, batches_sent: 2, sent: 200 });
    expect(failed.last_error).toContain("invalid_from_address");

    const retry = await call(`/admin/digests/${week}/retry-failed`, { method: "POST", headers: auth });
    expect(retry.status).toBe(202);
    expect(await retry.json()).toMatchObject({ status: "sending", failures: 0, requeued_batches: 1 });
    const again = await call(`/admin/digests/${week}/retry-failed`, { method: "POST", headers: auth });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: "nothing_to_retry" } });
    expect(await untilSettled(week)).toMatchObject({ status: "sent", failures: 0, batches_sent: 3, sent: 300 });
    expectExactlyOnce(
      await digestEmails(week),
      readers.map((r) => r.email),
    );
  });

  it("a batch still failing at the queue's last delivery is recorded as failed (not lost), and retry-failed resends its very body", async () => {
    const week = "2026-W39";
    const readers = await importActive(Array.from({ length: 100 }, (_, i) => `lasttry-${run}-${i}@example.com`));
    const { jobs } = await startHeld(week);
    await emu.configure({ faults: [{ status: 500, after: true }] });
    const last = await consume("papers-digest", jobs, env, DIGEST_MAX_ATTEMPTS);
    expect(last.explicitAcks).toHaveLength(1);
    const failed = await record(week);
    expect(failed).toMatchObject({ status: "failed", failures: 1 });
    expect(failed.last_error).toContain(`gave up after ${DIGEST_MAX_ATTEMPTS} attempts`);
    // The lost answer's emails did go out; the retry is answered by Resend's replay of the same key.
    expect(await (await call(`/admin/digests/${week}/retry-failed`, { method: "POST", headers: auth })).status).toBe(
      202,
    );
    expect(await untilSettled(week)).toMatchObject({ status: "sent", failures: 0, sent: 100 });
    expectExactlyOnce(
      await digestEmails(week),
      readers.map((r) => r.email),
    );
    expect((await emu.stats()).replays).toBe(1);
  });
});

describe("per-invocation metering", () => {
  it("LOG_INVOCATIONS=1 logs what a queue invocation asked of the platform", async () => {
    const week = "2026-W40";
    await importActive(Array.from({ length: 200 }, (_, i) => `meter-${run}-${i}@example.com`));
    const { jobs } = await startHeld(week);
    const lines: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
    try {
      await consume("papers-digest", jobs as DigestJob[], { ...env, LOG_INVOCATIONS: "1" });
    } finally {
      spy.mockRestore();
    }
    const logged = lines
      .filter((l) => l.startsWith("invocation "))
      .map((l) => JSON.parse(l.slice("invocation ".length)));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ consumer: "papers-digest", messages: 2, resend: 2, budget: 4 });
    expect(logged[0].d1).toBeGreaterThan(0);
    expect(logged[0].subrequests).toBe(logged[0].d1 + logged[0].queue + logged[0].budget + logged[0].resend);
  });
});
