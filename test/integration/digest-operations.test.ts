import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { DigestJob } from "../../src/digest/jobs";
import { sendBudget } from "../../src/mail/budget";
import type { StoredEmail } from "../emulators/resend";
import {
  ADMIN,
  activeEmails,
  expectExactlyOnce,
  importActive,
  issueEmails,
  type RunRecord,
  record,
} from "../support/digests";
import { BASE, call, fetchWith } from "../support/helpers";
import { waitFor } from "../support/poll";
import { consume, holdingQueue, release, startHeld } from "../support/queues";
import { resendEmulator } from "../support/resend-emulator";
import { webhookSender } from "../support/svix";

// The operator's side of a digest: preview, test send, pause, resume, cancel, and the complaint breaker that pauses
// on its own. The Worker of this project sends through the Resend emulator and its digest queue runs for real; the
// tests hold an issue's batch messages and release them when they want, so it stays "sending" as long as needed.
// Sending itself, end to end: digest-sending.test.ts.
const resend = resendEmulator(env.RESEND_API_KEY);

// ---- Resend webhooks, signed the Svix way; the breaker's minimum sample is lowered to 200 deliveries for this file ----
const sendWebhook = webhookSender({ BREAKER_MIN_DELIVERIES: "200" });
async function hook(type: string, email: StoredEmail) {
  const week = email.tags.find((t) => t.name === "issue")!.value;
  const res = await sendWebhook(type, {
    email_id: email.id,
    from: email.from,
    to: email.to,
    subject: email.subject,
    tags: { issue: week },
  });
  expect(res.status).toBe(200);
  return res;
}

const control = (week: string, action: "pause" | "resume" | "cancel" | "send") =>
  call(`/admin/digests/${week}/${action}`, { method: "POST", headers: ADMIN });
const emailsOf = (week: string) => issueEmails(resend, week);

/** Delivers messages to the digest consumer the way the queue would; each is done with (acked), not retried. */
async function consumeAcked(jobs: DigestJob[]) {
  const result = await consume("papers-digest", jobs);
  expect(result.explicitAcks).toHaveLength(jobs.length);
  return result;
}

/** Starts a week through the admin "send" endpoint and runs its fan-out, holding its batch messages back. */
async function startHeldBatches(week: string) {
  const { jobs, fanout } = await startHeld(week);
  expect(fanout).toEqual({ kind: "fanout", week, requeue: false });
  expect(jobs.every((j) => j.kind === "batch" && j.week === week)).toBe(true);
  return jobs;
}

/** Resumes a paused issue and waits until it is sent: every expected reader has it exactly once. */
async function resumeToTheEnd(week: string, expected: string[], batches: number) {
  const resumed = await control(week, "resume");
  expect(resumed.status).toBe(202);
  expect(await resumed.json()).toMatchObject({ status: "sending", paused_reason: null });
  const done = await waitFor(
    "the issue to be sent",
    () => record(week),
    (r) => r.status === "sent",
    50_000,
  );
  expect(done).toMatchObject({ sent: expected.length, batches_sent: batches, failures: 0 });
  expectExactlyOnce(await emailsOf(week), expected);
}

const batchStatuses = async (week: string) =>
  Object.fromEntries(
    (
      await env.DB.prepare("SELECT status, count(*) AS n FROM issue_batches WHERE week = ? GROUP BY status")
        .bind(week)
        .all<{ status: string; n: number }>()
    ).results.map((r) => [r.status, r.n]),
  );

describe("admin digest tools", () => {
  it("previews without sending, test-sends to one address, validates weeks", async () => {
    const preview = await call("/admin/digests/2026-W40/preview", { headers: ADMIN });
    expect(preview.status).toBe(200);
    expect(await preview.text()).toContain("most upvoted papers");
    expect((await call("/admin/digests/2026-W40", { headers: ADMIN })).status).toBe(404); // preview stored nothing

    await resend.reset();
    const test = await call("/admin/digests/2026-W40/test", {
      method: "POST",
      headers: { ...ADMIN, "content-type": "application/json" },
      body: JSON.stringify({ email: "editor@example.com" }),
    });
    expect(test.status).toBe(200);
    const sent = await resend.emails();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.to).toEqual(["editor@example.com"]);
    expect(sent[0]!.subject).toMatch(/^\[Test\] /);
    expect(sent[0]!.html).toContain("most upvoted papers"); // the issue itself, as the preview shows it

    expect((await call("/admin/digests/2026-47", { headers: ADMIN })).status).toBe(400);
    expect((await call("/admin/digests/2099-W01/send", { method: "POST", headers: ADMIN })).status).toBe(422);
    expect((await call("/admin/digests/2026-W40/send", { method: "POST" })).status).toBe(401);
  });
});

describe("complaint circuit breaker, end to end", () => {
  it("pauses a sending issue when complaints pass 0.1 % of deliveries; resume then sends everyone exactly once", async () => {
    const week = "2026-W35";
    await importActive("brk-", 1050);
    const expected = await activeEmails();
    expect(expected.length).toBeGreaterThanOrEqual(1050);

    const jobs = await startHeldBatches(week);
    expect(jobs).toHaveLength(Math.ceil(expected.length / 100));
    expect(await record(week)).toMatchObject({
      status: "sending",
      recipients: expected.length,
      batches: jobs.length,
      fanout_done: true,
      batches_sent: 0,
    });

    // The first two batches go out.
    await release(jobs.slice(0, 2));
    await waitFor(
      "two batches sent",
      () => record(week),
      (r) => r.batches_sent === 2,
    );
    const firstWave = await emailsOf(week);
    expect(firstWave).toHaveLength(200);

    // A complaint before enough deliveries are known: counted, the address suppressed, but no pause yet.
    await hook("email.complained", firstWave[0]!);
    expect(await record(week)).toMatchObject({ status: "sending", complained: 1, delivered: 0 });
    const complainer = (await env.DB.prepare("SELECT status FROM subscribers WHERE email_key = ?")
      .bind(firstWave[0]!.to[0]!.toLowerCase())
      .first<{ status: string }>())!;
    expect(complainer.status).toBe("suppressed");

    // Resend reports the 200 deliveries.
    for (let i = 0; i < firstWave.length; i += 25)
      await Promise.all(firstWave.slice(i, i + 25).map((e) => hook("email.delivered", e)));
    expect(await record(week)).toMatchObject({ status: "sending", delivered: 200, complained: 1 });

    // A second complaint: 2 of 200 = 1 % > 0.1 % → the breaker trips.
    await hook("email.complained", firstWave[1]!);
    const paused = await record(week);
    expect(paused).toMatchObject({ status: "paused", complained: 2, batches_sent: 2 });
    expect(paused.paused_reason).toMatch(/complaint rate 1\.00% \(2 of 200 delivered\)/);

    // The remaining batch messages reach the consumer while paused: none is sent, all stay queued.
    await consumeAcked(jobs.slice(2));
    expect(await emailsOf(week)).toHaveLength(200);
    expect(await record(week)).toMatchObject({ status: "paused", batches_sent: 2, sent: 200 });
    expect(await batchStatuses(week)).toEqual({ sent: 2, queued: jobs.length - 2 });

    // The operator resumes: the rest goes out, and everyone has the issue exactly once.
    await resumeToTheEnd(week, expected, jobs.length);
    expect(await batchStatuses(week)).toEqual({ sent: jobs.length });

    // Nothing to pause or resume any more.
    expect((await control(week, "pause")).status).toBe(409);
    expect((await control(week, "resume")).status).toBe(409);
  });
});

describe("operator controls", () => {
  it("pause stops a sending issue (409 when it is not sending); cancel ends it and nothing more is sent", async () => {
    const week = "2026-W36";
    await importActive("ops-", 300);
    const jobs = await startHeldBatches(week);
    expect(jobs.length).toBeGreaterThanOrEqual(3);

    await release(jobs.slice(0, 1));
    await waitFor(
      "one batch sent",
      () => record(week),
      (r) => r.batches_sent === 1,
    );
    expect(await emailsOf(week)).toHaveLength(100);

    const pause = await control(week, "pause");
    expect(pause.status).toBe(200);
    expect(await pause.json()).toMatchObject({ status: "paused", paused_reason: "paused by an operator" });
    const again = await control(week, "pause");
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: "invalid_state" } });

    // A batch consumed while paused is not sent.
    await consumeAcked(jobs.slice(1, 2));
    expect(await emailsOf(week)).toHaveLength(100);

    // Cancel: the issue ends, its queued batches are cancelled.
    const cancel = await control(week, "cancel");
    expect(cancel.status).toBe(200);
    const cancelled = (await cancel.json()) as RunRecord;
    expect(cancelled).toMatchObject({ status: "cancelled", batches_sent: 1, sent: 100 });
    expect(cancelled.finished_at).toMatch(/^\d{4}-/);
    expect(await batchStatuses(week)).toEqual({ sent: 1, cancelled: jobs.length - 1 });

    // The rest of the messages reach the consumer: nothing is sent.
    await consumeAcked(jobs.slice(2));
    expect(await emailsOf(week)).toHaveLength(100);

    // A cancelled issue cannot be paused, resumed or cancelled again, and "send" does not bring it back.
    for (const action of ["pause", "resume", "cancel"] as const)
      expect((await control(week, action)).status, action).toBe(409);
    // (Its fan-out message is held, then delivered to the consumer by the test, so it knows when it was consumed.)
    const hold = holdingQueue<DigestJob>();
    const send = await fetchWith(
      { DIGEST_QUEUE: hold.queue },
      new Request(new URL(`/admin/digests/${week}/send`, BASE), { method: "POST", headers: ADMIN }),
    );
    expect(send.status).toBe(202);
    expect(await send.json()).toMatchObject({ status: "cancelled" });
    expect(hold.held).toEqual([{ kind: "fanout", week, requeue: true }]);
    await consumeAcked(hold.held);
    expect(await record(week)).toMatchObject({ status: "cancelled", batches_sent: 1, sent: 100 });
    expect(await batchStatuses(week)).toEqual({ sent: 1, cancelled: jobs.length - 1 });
    expect(await emailsOf(week)).toHaveLength(100);
  });

  it("a pause holds back the batches of a delivery still waiting for their send slot; resume sends them once", async () => {
    const week = "2026-W34";
    await sendBudget(env).reset(); // the pace below is RESEND_MAX_RPS's, not a rate learned by an earlier test
    await importActive("wait-", 250);
    const expected = await activeEmails();
    const jobs = await startHeldBatches(week);
    expect(jobs.length).toBeGreaterThanOrEqual(3);

    // One delivery of three batches, paced at 1 Resend call a second: the first goes out at once, the others wait.
    const delivery = consume("papers-digest", jobs.slice(0, 3), { ...env, RESEND_MAX_RPS: "1" });
    await waitFor(
      "the first batch sent",
      () => record(week),
      (r) => r.batches_sent === 1,
      10_000,
      20,
    );
    expect((await control(week, "pause")).status).toBe(200);
    const result = await delivery;
    expect(result.explicitAcks).toHaveLength(3); // done with: a resume re-queues what is left
    expect(await emailsOf(week)).toHaveLength(100);
    expect(await record(week)).toMatchObject({ status: "paused", batches_sent: 1, sent: 100, failures: 0 });
    // The two held back are as before their claim: queued, not attempted, no lease.
    const held = await env.DB.prepare(
      "SELECT state, lease_until FROM issue_batches WHERE week = ? AND status = 'queued' ORDER BY batch_no",
    )
      .bind(week)
      .all();
    expect(held.results.slice(0, 2)).toEqual([
      { state: "ready", lease_until: null },
      { state: "ready", lease_until: null },
    ]);

    await resumeToTheEnd(week, expected, jobs.length);
  });

  it("pause and resume answer 404 for an unknown week and 409 in the wrong state", async () => {
    expect((await control("2026-W37", "pause")).status).toBe(404);
    expect((await control("2026-W37", "resume")).status).toBe(404);
    expect((await control("2026-W37", "cancel")).status).toBe(404);
    await env.DB.prepare("INSERT INTO issues (week, status, started_at) VALUES ('2026-W38', 'sent', ?)")
      .bind(Date.now())
      .run();
    expect((await control("2026-W38", "pause")).status).toBe(409);
    expect((await control("2026-W38", "resume")).status).toBe(409);
    expect((await control("2026-W38", "cancel")).status).toBe(409);
    expect((await record("2026-W38")).status).toBe("sent");
  });
});
