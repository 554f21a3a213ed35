import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { sendBudget } from "../../src/mail/budget";
import { backoffSec } from "../../src/mail/deliver";
import type { MailJob } from "../../src/mail/jobs";
import { BASE, call, confirmJobFor, firstLink, freshIp, subscriberRow } from "../support/helpers";
import { resendEmulator } from "../support/resend-emulator";

// The mail queue consumer with Resend configured, talking to the Resend emulator through the real SDK. Messages the
// consumer queues (a frozen batch to try again) are caught by a stand-in queue, so each test delivers them itself.
const emu = resendEmulator();
const queued: { body: MailJob; delaySeconds?: number }[] = [];
const catchQueue = {
  send: async (body: MailJob, opts?: { delaySeconds?: number }) =>
    void queued.push({ body, delaySeconds: opts?.delaySeconds }),
  sendBatch: async (msgs: { body: MailJob; delaySeconds?: number }[]) => void queued.push(...msgs),
};
const withResend = (overrides: Partial<Env> = {}): Env => ({
  ...env,
  RESEND_API_KEY: emu.apiKey,
  RESEND_BASE_URL: env.RESEND_EMULATOR_URL,
  MAIL_QUEUE: catchQueue as never,
  ...overrides,
});

/**
 * Like runMailQueue in helpers, but also reports each retry's delay: the plugin's getQueueResult (vitest-plugin
 * 1.5) records that a message was retried, not the delaySeconds it was retried with. The messages are the
 * plugin's own; only retry() is observed on the way through.
 */
async function runMailQueue(jobs: MailJob[], e: Env, attempts = 1) {
  const batch = createMessageBatch<MailJob>(
    "papers-mail",
    jobs.map((body, i) => ({ id: `m${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts, body })),
  );
  const delays = new Map<string, number | undefined>();
  const observe = (m: Message<MailJob>) =>
    new Proxy(m, {
      get(target, prop) {
        if (prop === "retry")
          return (opts?: QueueRetryOptions) => {
            delays.set(target.id, opts?.delaySeconds);
            target.retry(opts);
          };
        const v = Reflect.get(target, prop, target);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
  const observed = {
    queue: batch.queue,
    metadata: batch.metadata,
    messages: batch.messages.map(observe),
    ackAll: () => batch.ackAll(),
    retryAll: (o?: QueueRetryOptions) => batch.retryAll(o),
  };
  const ctx = createExecutionContext();
  await worker.queue!(observed as never, e, ctx);
  const result = await getQueueResult(batch, ctx);
  return { ...result, retryMessages: result.retryMessages.map((r) => ({ ...r, delaySeconds: delays.get(r.msgId) })) };
}

/** Delivers what the consumer queued (a mail batch to try again), as the queue would after the delay. */
const redeliverQueued = async (e = withResend()) =>
  runMailQueue(
    queued.splice(0).map((q) => q.body),
    e,
    2,
  );

let n = 0;
const address = (tag: string) => `${tag}-${++n}-${crypto.randomUUID().slice(0, 8)}@example.com`;

/**
 * A fresh pending subscriber, created through the public API, and its confirmation job. The signup's own queue
 * message is caught (and dropped): the test delivers the job itself, so no background consumer races it.
 */
async function pendingSubscriber(tag: string) {
  const email = address(tag);
  const req = new Request(`${BASE}/api/subscribe`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", "cf-connecting-ip": freshIp() },
    body: JSON.stringify({ email }),
  });
  expect((await worker.fetch!(req as never, withResend(), createExecutionContext())).status).toBe(202);
  queued.length = 0;
  return { email, job: await confirmJobFor(email) };
}

const mailBatch = (id: number) =>
  env.DB.prepare("SELECT * FROM mail_batches WHERE id = ?")
    .bind(id)
    .first<{ status: string; version: number; state: string; sent: number; rejected: number; items: string }>();
const batchIdOf = (key: string | null) => Number(/^mail\/(\d+)\/v\d+$/.exec(key ?? "")?.[1]);

beforeEach(async () => {
  await emu.reset();
  await sendBudget(env).reset();
  queued.length = 0;
});

describe("mail queue consumer → Resend", () => {
  it("sends a confirmation once, frozen in a mail batch under its key, with text + html and one /confirm link", async () => {
    const { email, job } = await pendingSubscriber("confirm");
    if (job.kind !== "confirm") throw new Error("expected a confirm job");
    const result = await runMailQueue([job], withResend());
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(0);

    const mails = await emu.emails(email);
    expect(mails).toHaveLength(1);
    const mail = mails[0]!;
    expect(mail.idempotencyKey).toMatch(/^mail\/\d+\/v0$/);
    expect(await mailBatch(batchIdOf(mail.idempotencyKey))).toMatchObject({
      status: "sent",
      sent: 1,
      state: "attempted",
    });
    expect(mail.from).toBe(env.MAIL_FROM);
    expect(mail.to).toEqual([email]);
    expect(mail.tags).toEqual([{ name: "kind", value: "confirm" }]);
    expect(mail.text).toContain("/confirm/");
    expect(mail.html).toContain("Confirm your subscription");
    const hrefs = mail.html!.match(/href="[^"]+"/g) ?? [];
    expect(hrefs).toHaveLength(1);
    expect(hrefs[0]).toContain("/confirm/");
    expect(mail.text!.match(/https?:\/\//g)).toHaveLength(1);
    expect(firstLink(mail.text!, "/confirm/")).toBe(hrefs[0]!.slice(6, -1).replaceAll("&amp;", "&"));

    // The queue delivering the same job again (at-least-once) finds its batch already sent: no call at all.
    expect((await runMailQueue([job], withResend())).explicitAcks).toHaveLength(1);
    expect(await emu.emails(email)).toHaveLength(1);
    expect(await emu.stats()).toMatchObject({ requests: 1, acceptedEmails: 1 });
  });

  it("a delivery of many jobs is one Resend call, each email with its own content", async () => {
    const people = [];
    for (let i = 0; i < 60; i++) people.push(await pendingSubscriber("many"));
    const result = await runMailQueue(
      people.map((p) => p.job),
      withResend(),
    );
    expect(result.explicitAcks).toHaveLength(60);
    expect(await emu.stats()).toMatchObject({ requests: 1, acceptedEmails: 60 });
    const mails = await emu.emails();
    for (const p of people) expect(mails.find((m) => m.to[0] === p.email)!.text).toContain(p.email);
    expect(new Set(mails.map((m) => firstLink(m.text!, "/confirm/"))).size).toBe(60);
  });

  it("a refused call (429) is retried as its batch, after Resend's retry-after, and loses nothing", async () => {
    const { email, job } = await pendingSubscriber("429");
    await emu.configure({ faults: [{ status: 429, retryAfter: 2 }] });
    const result = await runMailQueue([job], withResend());
    // The job is done with: its frozen batch carries on as one message, delayed as Resend asked.
    expect(result.explicitAcks).toHaveLength(1);
    expect(queued).toEqual([{ body: { kind: "batch", batchId: expect.any(Number) }, delaySeconds: 2 }]);
    expect(await emu.emails(email)).toHaveLength(0);
    const id = (queued[0]!.body as { batchId: number }).batchId;
    expect(await mailBatch(id)).toMatchObject({ status: "queued", state: "ready" });

    expect((await redeliverQueued()).explicitAcks).toHaveLength(1);
    expect(await emu.emails(email)).toHaveLength(1);
    expect(await mailBatch(id)).toMatchObject({ status: "sent" });
  });

  it("someone who leaves while their confirmation is being refused gets nothing; the rest go under a new key", async () => {
    const a = await pendingSubscriber("leave-a");
    const b = await pendingSubscriber("leave-b");
    await emu.configure({ faults: [{ status: 429, retryAfter: 1 }] });
    await runMailQueue([a.job, b.job], withResend());
    const [first] = await emu.requests();
    // a erases everything while the call waits.
    const erased = await env.DB.prepare("DELETE FROM subscribers WHERE email = ?").bind(a.email).run();
    expect(erased.meta.changes).toBe(1);
    await redeliverQueued();
    expect(await emu.emails(a.email)).toHaveLength(0);
    const [mail] = await emu.emails(b.email);
    expect(mail!.idempotencyKey).toMatch(/\/v1$/);
    expect(mail!.idempotencyKey).not.toBe(first!.idempotencyKey);
  });

  it("a 500 before sending: the same body goes again under the same key, once", async () => {
    const { email, job } = await pendingSubscriber("5xx");
    await emu.configure({ faults: [{ status: 500 }] });
    const result = await runMailQueue([job], withResend());
    expect(result.explicitAcks).toHaveLength(1);
    expect(queued[0]!.delaySeconds).toBe(backoffSec(1));
    expect(await emu.emails(email)).toHaveLength(0);
    await redeliverQueued();
    const mails = await emu.emails(email);
    expect(mails).toHaveLength(1);
    expect(new Set((await emu.requests()).map((r) => r.idempotencyKey)).size).toBe(1);
  });

  it("a 500 after sending (lost answer): the retry is answered by Resend's replay, not a second email", async () => {
    const { email, job } = await pendingSubscriber("lost");
    await emu.configure({ faults: [{ status: 500, after: true }] });
    await runMailQueue([job], withResend());
    expect(await emu.emails(email)).toHaveLength(1);
    // Even if the person leaves meanwhile, nothing changes the body: it may already be in their inbox.
    await env.DB.prepare("UPDATE subscribers SET status = 'unsubscribed' WHERE email = ?").bind(email).run();
    await redeliverQueued();
    expect(await emu.emails(email)).toHaveLength(1);
    expect(await emu.stats()).toMatchObject({ replays: 1, acceptedEmails: 1 });
  });

  it("a dropped connection is retried like a 500", async () => {
    const { email, job } = await pendingSubscriber("net");
    await emu.configure({ faults: [{ abort: true }] });
    await runMailQueue([job], withResend());
    expect(queued[0]!.delaySeconds).toBe(backoffSec(1));
    expect(await emu.emails(email)).toHaveLength(0);
    await redeliverQueued();
    expect(await emu.emails(email)).toHaveLength(1);
  });

  it("acks jobs Resend rejects as a whole instead of retrying them forever; the batch is recorded as failed", async () => {
    const { email, job } = await pendingSubscriber("invalid-key");
    const result = await runMailQueue([job], withResend({ RESEND_API_KEY: "sk_not_a_resend_key" }));
    expect(result.explicitAcks).toHaveLength(1);
    expect(queued).toHaveLength(0);
    expect(await emu.emails(email)).toHaveLength(0);
    const row = await env.DB.prepare("SELECT status, error FROM mail_batches ORDER BY id DESC LIMIT 1").first<{
      status: string;
      error: string;
    }>();
    expect(row).toMatchObject({ status: "failed", error: expect.stringContaining("invalid_api_key") });
  });

  it("one address Resend refuses does not fail the other emails of its call", async () => {
    const a = await pendingSubscriber("good-a");
    const b = await pendingSubscriber("good-b");
    // An address from before today's validation (an old import, say) that Resend will not take.
    const now = Date.now();
    const bad = await env.DB.prepare(
      "INSERT INTO subscribers (email, email_key, status, source, created_at, consent_at, confirm_sent_at, confirm_count) VALUES ('old import@example.com', 'old import@example.com', 'pending', 'api', ?1, ?1, ?1, 1) RETURNING id",
    )
      .bind(now)
      .first<{ id: number }>();
    const result = await runMailQueue(
      [a.job, { kind: "confirm", subscriberId: bad!.id, sentAt: now }, b.job],
      withResend(),
    );
    expect(result.explicitAcks).toHaveLength(3);
    expect(queued).toHaveLength(0);
    expect(await emu.emails(a.email)).toHaveLength(1);
    expect(await emu.emails(b.email)).toHaveLength(1);
    const row = await env.DB.prepare(
      "SELECT status, sent, rejected, error FROM mail_batches ORDER BY id DESC LIMIT 1",
    ).first();
    expect(row).toMatchObject({ status: "sent", sent: 2, rejected: 1, error: expect.stringContaining("#1:") });
  });

  it("sends nothing for a confirm job superseded by a newer confirmation request", async () => {
    const { email, job } = await pendingSubscriber("superseded");
    if (job.kind !== "confirm") throw new Error("expected a confirm job");
    const older = { ...job, sentAt: job.sentAt - 60_000 };
    const result = await runMailQueue([older], withResend());
    expect(result.explicitAcks).toHaveLength(1);
    expect(await emu.stats()).toMatchObject({ requests: 0 });
    expect(await emu.emails(email)).toHaveLength(0);
  });

  it("after confirming: a late confirm job sends nothing; the welcome email carries one-click unsubscribe", async () => {
    const { email, job } = await pendingSubscriber("welcome");
    await runMailQueue([job], withResend());
    const [confirmation] = await emu.emails(email);
    const confirmLink = new URL(firstLink(confirmation!.text!, "/confirm/"));
    // Confirm the way a person does: GET shows the page, its form POSTs to the same URL.
    expect((await call(confirmLink.pathname)).status).toBe(200);
    expect((await subscriberRow(email))!.status).toBe("pending");
    // Through the Worker with the stand-in queue: the welcome job it queues is delivered by this test, below.
    const post = new Request(`${BASE}${confirmLink.pathname}`, {
      method: "POST",
      headers: { "cf-connecting-ip": freshIp() },
    });
    expect((await worker.fetch!(post as never, withResend(), createExecutionContext())).status).toBe(200);
    expect(queued.map((q) => q.body.kind)).toEqual(["welcome"]);
    queued.length = 0;
    expect((await subscriberRow(email))!.status).toBe("active");

    await emu.reset();
    // A redelivered confirmation job no longer applies.
    expect((await runMailQueue([job], withResend())).explicitAcks).toHaveLength(1);
    expect(await emu.stats()).toMatchObject({ requests: 0 });

    if (job.kind !== "confirm") throw new Error("expected a confirm job");
    const welcome = await runMailQueue([{ kind: "welcome", subscriberId: job.subscriberId }], withResend());
    expect(welcome.explicitAcks).toHaveLength(1);
    const mails = await emu.emails(email);
    expect(mails).toHaveLength(1);
    const mail = mails[0]!;
    expect(mail.tags).toEqual([{ name: "kind", value: "welcome" }]);
    expect(mail.idempotencyKey).toMatch(/^mail\/\d+\/v0$/);
    expect(mail.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    const listUnsubscribe = mail.headers["List-Unsubscribe"]!;
    expect(listUnsubscribe).toMatch(/^<http:\/\/127\.0\.0\.1:8787\/unsubscribe\/[^>\s]+>$/);
    // A redelivered welcome job lands in the batch that already sent it: nothing is sent again.
    expect(
      (await runMailQueue([{ kind: "welcome", subscriberId: job.subscriberId }], withResend())).explicitAcks,
    ).toHaveLength(1);
    expect(await emu.stats()).toMatchObject({ requests: 1, acceptedEmails: 1 });
    // The header's URL is the subscriber's working unsubscribe link: the one-click POST unsubscribes.
    const unsubscribe = new URL(listUnsubscribe.slice(1, -1));
    const res = await call(unsubscribe.pathname, {
      method: "POST",
      body: "List-Unsubscribe=One-Click",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(res.status).toBeLessThan(300);
    expect((await subscriberRow(email))!.status).toBe("unsubscribed");
  });

  it("sends no welcome email to a subscriber who has not confirmed", async () => {
    const { email, job } = await pendingSubscriber("gone");
    if (job.kind !== "confirm") throw new Error("expected a confirm job");
    const result = await runMailQueue([{ kind: "welcome", subscriberId: job.subscriberId }], withResend());
    expect(result.explicitAcks).toHaveLength(1);
    expect(await emu.emails(email)).toHaveLength(0);
    expect(await emu.stats()).toMatchObject({ requests: 0 });
  });

  it("a malformed message is dropped, not retried", async () => {
    const result = await runMailQueue([{ kind: "nonsense" } as never], withResend());
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(0);
  });
});
