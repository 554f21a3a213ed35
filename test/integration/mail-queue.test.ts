import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { backoffSeconds } from "../../src/mail/consumer";
import type { MailJob } from "../../src/mail/jobs";
import { call, confirmJobFor, firstLink, subscribeJson, subscriberRow } from "../support/helpers";
import { resendEmulator } from "../support/resend-emulator";

// The mail queue consumer with Resend configured, talking to the Resend emulator through the real SDK.
const emu = resendEmulator();
const withResend = (overrides: Partial<Env> = {}): Env => ({ ...env, RESEND_API_KEY: emu.apiKey, RESEND_BASE_URL: env.RESEND_EMULATOR_URL, ...overrides });

/**
 * Like runMailQueue in helpers, but also reports each retry's delay: the plugin's getQueueResult (vitest-plugin
 * 1.5) records that a message was retried, not the delaySeconds it was retried with. The messages are the
 * plugin's own; only retry() is observed on the way through.
 */
async function runMailQueue(jobs: MailJob[], e: Env) {
  const batch = createMessageBatch<MailJob>("papers-mail", jobs.map((body, i) => ({ id: `m${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body })));
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
  const observed = { queue: batch.queue, metadata: batch.metadata, messages: batch.messages.map(observe), ackAll: () => batch.ackAll(), retryAll: (o?: QueueRetryOptions) => batch.retryAll(o) };
  const ctx = createExecutionContext();
  await worker.queue!(observed as never, e, ctx);
  const result = await getQueueResult(batch, ctx);
  return { ...result, retryMessages: result.retryMessages.map((r) => ({ ...r, delaySeconds: delays.get(r.msgId) })) };
}

let n = 0;
const address = (tag: string) => `${tag}-${++n}-${crypto.randomUUID().slice(0, 8)}@example.com`;

/** A fresh pending subscriber, created through the public API, and its confirmation job. */
async function pendingSubscriber(tag: string) {
  const email = address(tag);
  expect((await subscribeJson(email)).status).toBe(202);
  return { email, job: await confirmJobFor(email) };
}

beforeEach(async () => {
  await emu.reset();
});

describe("mail queue consumer → Resend", () => {
  it("sends a confirmation once, with a deterministic Idempotency-Key, text + html and one /confirm link", async () => {
    const { email, job } = await pendingSubscriber("confirm");
    if (job.kind !== "confirm") throw new Error("expected a confirm job");
    const result = await runMailQueue([job], withResend());
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(0);

    const mails = await emu.emails(email);
    expect(mails).toHaveLength(1);
    const mail = mails[0]!;
    expect(mail.idempotencyKey).toBe(`confirm/${job.subscriberId}/${job.sentAt}`);
    expect(mail.from).toBe(env.MAIL_FROM);
    expect(mail.to).toEqual([email]);
    expect(mail.tags).toEqual([{ name: "kind", value: "confirm" }]);
    expect(mail.text).toBeTruthy();
    expect(mail.html).toBeTruthy();
    const hrefs = mail.html!.match(/href="[^"]+"/g) ?? [];
    expect(hrefs).toHaveLength(1);
    expect(hrefs[0]).toContain("/confirm/");
    expect(mail.text!.match(/https?:\/\//g)).toHaveLength(1);
    expect(firstLink(mail.text!, "/confirm/")).toBe(hrefs[0]!.slice(6, -1).replaceAll("&amp;", "&"));

    // The queue delivering the same job again (at-least-once) does not send a second email.
    expect((await runMailQueue([job], withResend())).explicitAcks).toHaveLength(1);
    expect(await emu.emails(email)).toHaveLength(1);
    expect(await emu.stats()).toMatchObject({ requests: 2, replays: 1, acceptedEmails: 1 });
  });

  it("retries a rate-limited job after the emulator's retry-after, and loses nothing", async () => {
    const { email, job } = await pendingSubscriber("ratelimited");
    await emu.configure({ rateLimit: { requests: 1, windowSec: 60 } });
    // Another send spends the team's allowance for this window.
    expect((await emu.api("/emails", { from: "a@example.com", to: "b@example.com", subject: "x", text: "x" })).status).toBe(200);

    const result = await runMailQueue([job], withResend());
    expect(result.explicitAcks).toHaveLength(0);
    expect(result.retryMessages).toHaveLength(1);
    const told = (await emu.requests()).at(-1)!;
    expect(told).toMatchObject({ status: 429, name: "rate_limit_exceeded" });
    expect(told.retryAfter).toBeGreaterThan(0);
    expect(result.retryMessages[0]!.delaySeconds).toBe(told.retryAfter);
    expect(await emu.emails(email)).toHaveLength(0);

    // Once the limit clears, the redelivered job sends exactly one email.
    await emu.configure({ rateLimit: null });
    expect((await runMailQueue([job], withResend())).explicitAcks).toHaveLength(1);
    expect(await emu.emails(email)).toHaveLength(1);
  });

  it("uses the provider's retry-after for an injected 429", async () => {
    const { email, job } = await pendingSubscriber("429");
    await emu.configure({ faults: [{ status: 429, retryAfter: 17 }] });
    const result = await runMailQueue([job], withResend());
    expect(result.retryMessages).toEqual([{ msgId: expect.any(String), delaySeconds: 17 }]);
    expect((await runMailQueue([job], withResend())).explicitAcks).toHaveLength(1);
    expect(await emu.emails(email)).toHaveLength(1);
  });

  it("retries a 500 with exponential backoff, then sends once", async () => {
    const { email, job } = await pendingSubscriber("5xx");
    await emu.configure({ faults: [{ status: 500 }] });
    const result = await runMailQueue([job], withResend());
    expect(result.explicitAcks).toHaveLength(0);
    expect(result.retryMessages).toEqual([{ msgId: expect.any(String), delaySeconds: backoffSeconds(1) }]);
    expect(await emu.emails(email)).toHaveLength(0);
    expect((await runMailQueue([job], withResend())).explicitAcks).toHaveLength(1);
    expect(await emu.emails(email)).toHaveLength(1);
  });

  it("retries when the connection drops", async () => {
    const { email, job } = await pendingSubscriber("net");
    await emu.configure({ faults: [{ abort: true }] });
    const result = await runMailQueue([job], withResend());
    expect(result.retryMessages).toEqual([{ msgId: expect.any(String), delaySeconds: backoffSeconds(1) }]);
    expect(await emu.emails(email)).toHaveLength(0);
  });

  it("acks a job Resend rejects as invalid instead of retrying it forever", async () => {
    const { email, job } = await pendingSubscriber("invalid-from");
    const result = await runMailQueue([job], withResend({ MAIL_FROM: "Trending Papers papers-at-example.com" }));
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(0);
    expect(await emu.requests()).toEqual([expect.objectContaining({ status: 422, name: "validation_error" })]);
    expect(await emu.emails(email)).toHaveLength(0);
  });

  it("handles each message on its own: one failure does not hold back the others", async () => {
    const a = await pendingSubscriber("batch-a");
    const b = await pendingSubscriber("batch-b");
    await emu.configure({ faults: [{ status: 500 }] });
    const result = await runMailQueue([a.job, b.job], withResend());
    expect(result.retryMessages).toHaveLength(1);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await emu.emails(a.email)).toHaveLength(0);
    expect(await emu.emails(b.email)).toHaveLength(1);
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
    expect((await call(confirmLink.pathname, { method: "POST" })).status).toBe(200);
    expect((await subscriberRow(email))!.status).toBe("active");

    await emu.reset();
    // A redelivered confirmation job no longer applies.
    expect((await runMailQueue([job], withResend())).explicitAcks).toHaveLength(1);
    expect(await emu.stats()).toMatchObject({ requests: 0 });

    const welcome = await runMailQueue([{ kind: "welcome", subscriberId: job.subscriberId }], withResend());
    expect(welcome.explicitAcks).toHaveLength(1);
    const mails = await emu.emails(email);
    expect(mails).toHaveLength(1);
    const mail = mails[0]!;
    expect(mail.tags).toEqual([{ name: "kind", value: "welcome" }]);
    expect(mail.idempotencyKey).toBe(`welcome/${job.subscriberId}/${(await subscriberRow(email))!.confirmed_at}`);
    expect(mail.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    const listUnsubscribe = mail.headers["List-Unsubscribe"]!;
    expect(listUnsubscribe).toMatch(/^<http:\/\/127\.0\.0\.1:8787\/unsubscribe\/[^>\s]+>$/);
    // Redelivery renders the same body under the same key: Resend replays it instead of refusing it (409) or sending twice.
    expect((await runMailQueue([{ kind: "welcome", subscriberId: job.subscriberId }], withResend())).explicitAcks).toHaveLength(1);
    expect(await emu.stats()).toMatchObject({ replays: 1, acceptedEmails: 1 });
    // The header's URL is the subscriber's working unsubscribe link: the one-click POST unsubscribes.
    const unsubscribe = new URL(listUnsubscribe.slice(1, -1));
    const res = await call(unsubscribe.pathname, { method: "POST", body: "List-Unsubscribe=One-Click", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(res.status).toBeLessThan(300);
    expect((await subscriberRow(email))!.status).toBe("unsubscribed");
  });

  it("sends no welcome email to a subscriber who has not confirmed", async () => {
    const { email, job } = await pendingSubscriber("gone");
    const result = await runMailQueue([{ kind: "welcome", subscriberId: job.subscriberId }], withResend());
    expect(result.explicitAcks).toHaveLength(1);
    expect(await emu.emails(email)).toHaveLength(0);
    expect(await emu.stats()).toMatchObject({ requests: 0 });
  });
});
