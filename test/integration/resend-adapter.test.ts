import { beforeEach, describe, expect, it } from "vitest";
import type { Email } from "../../src/mail/mailer";
import { classify, ResendMailer } from "../../src/mail/resend";
import { resendEmulator } from "../support/resend-emulator";

// The real `resend` SDK, over real HTTP, against the local Resend emulator. One API key (team) per file.
const emu = resendEmulator();
const mailer = () => new ResendMailer(emu.apiKey, emu.url);

const email = (to: string, extra: Partial<Email> = {}): Email => ({
  from: "Trending Papers <papers@example.com>",
  to,
  subject: "Confirm your subscription",
  html: "<p>Hello</p>",
  text: "Hello",
  headers: { "X-Entity-Ref-ID": "abc" },
  tags: [{ name: "kind", value: "confirm" }],
  ...extra,
});

beforeEach(async () => {
  await emu.reset();
});

describe("ResendMailer against the Resend emulator", () => {
  it("sends a single email through POST /emails with its key, headers and tags", async () => {
    const out = await mailer().send([email("ada@example.com")], "single/1");
    expect(out.ok).toBe(true);
    const [stored, ...rest] = await emu.emails();
    expect(rest).toHaveLength(0);
    expect(out).toEqual({ ok: true, ids: [stored!.id] });
    expect(stored).toMatchObject({
      to: ["ada@example.com"],
      from: "Trending Papers <papers@example.com>",
      subject: "Confirm your subscription",
      html: "<p>Hello</p>",
      text: "Hello",
      headers: { "X-Entity-Ref-ID": "abc" },
      tags: [{ name: "kind", value: "confirm" }],
      idempotencyKey: "single/1",
      batchId: null,
    });
  });

  it("sends several emails as one batch through POST /emails/batch", async () => {
    const out = await mailer().send([email("a@example.com"), email("b@example.com"), email("c@example.com")], "batch/1");
    const stored = await emu.emails();
    expect(stored.map((e) => e.to[0])).toEqual(["a@example.com", "b@example.com", "c@example.com"]);
    expect(out).toEqual({ ok: true, ids: stored.map((e) => e.id) });
    expect(new Set(stored.map((e) => e.batchId)).size).toBe(1);
    expect(stored[0]!.batchId).not.toBeNull();
    expect((await emu.requests()).map((r) => [r.path, r.status])).toEqual([["/emails/batch", 200]]);
  });

  it("reports a validation error as permanent and stores nothing", async () => {
    const out = await mailer().send([email("ada@example.com", { from: "not an address" })], "invalid/1");
    expect(out).toMatchObject({ ok: false, retryable: false, code: "validation_error", status: 422 });
    expect(await emu.emails()).toHaveLength(0);
  });

  it("reports an invalid tag in a batch as permanent, storing none of the batch", async () => {
    const out = await mailer().send([email("a@example.com"), email("b@example.com", { tags: [{ name: "kind", value: "wel come" }] })], "invalid/2");
    expect(out).toMatchObject({ ok: false, retryable: false, code: "validation_error" });
    expect(out.ok || out.message).toContain("emails[1]");
    expect(await emu.emails()).toHaveLength(0);
  });

  it("treats a 429 as retryable, with the delay taken from retry-after", async () => {
    await emu.configure({ faults: [{ status: 429, retryAfter: 7 }] });
    const out = await mailer().send([email("ada@example.com")], "rl/1");
    expect(out).toMatchObject({ ok: false, retryable: true, code: "rate_limit_exceeded", status: 429, retryAfterSec: 7 });
    expect(await emu.emails()).toHaveLength(0);
  });

  it("hits the emulated rate limit and reads its headers", async () => {
    await emu.configure({ rateLimit: { requests: 2, windowSec: 60 } });
    const m = mailer();
    expect((await m.send([email("a@example.com")], "rl/a")).ok).toBe(true);
    expect((await m.send([email("b@example.com")], "rl/b")).ok).toBe(true);
    const third = await m.send([email("c@example.com")], "rl/c");
    expect(third).toMatchObject({ ok: false, retryable: true, code: "rate_limit_exceeded", status: 429 });
    const retryAfter = third.ok ? NaN : third.retryAfterSec!;
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await emu.requests()).at(-1)).toMatchObject({ status: 429, retryAfter });
    const stats = await emu.stats();
    expect(stats).toMatchObject({ requests: 3, acceptedEmails: 2, rateLimited: 1 });
  });

  it("treats a 500 as retryable without a delay of its own", async () => {
    await emu.configure({ faults: [{ status: 500 }] });
    const out = await mailer().send([email("ada@example.com")], "5xx/1");
    expect(out).toMatchObject({ ok: false, retryable: true, status: 500, code: "internal_server_error" });
    expect(out.ok || out.retryAfterSec).toBeUndefined();
    expect(await emu.emails()).toHaveLength(0);
  });

  it("treats a dropped connection as retryable (status null), and the retry then goes through", async () => {
    await emu.configure({ faults: [{ abort: true }] });
    const m = mailer();
    const out = await m.send([email("ada@example.com")], "net/1");
    expect(out).toMatchObject({ ok: false, retryable: true, status: null });
    expect(await emu.stats()).toMatchObject({ aborted: 1, acceptedEmails: 0 });
    expect(await m.send([email("ada@example.com")], "net/1")).toMatchObject({ ok: true });
    expect(await emu.emails()).toHaveLength(1);
  });

  it("treats an unreachable API as retryable", async () => {
    const out = await new ResendMailer(emu.apiKey, "http://127.0.0.1:1").send([email("ada@example.com")], "net/2");
    expect(out).toMatchObject({ ok: false, retryable: true, status: null });
  });

  it("sends once when the same key and body are sent twice: the replay returns the original ids", async () => {
    const m = mailer();
    const first = await m.send([email("ada@example.com")], "idem/1");
    const second = await m.send([email("ada@example.com")], "idem/1");
    expect(first.ok).toBe(true);
    expect(second).toEqual(first);
    expect(await emu.emails()).toHaveLength(1);
    expect(await emu.stats()).toMatchObject({ requests: 2, acceptedEmails: 1, replays: 1, byIdempotencyKey: { "idem/1": { requests: 2, accepted: 1 } } });
  });

  it("refuses a different body under a used key as a permanent invalid_idempotent_request", async () => {
    const m = mailer();
    expect((await m.send([email("ada@example.com")], "idem/2")).ok).toBe(true);
    const out = await m.send([email("ada@example.com", { subject: "Something else" })], "idem/2");
    expect(out).toMatchObject({ ok: false, retryable: false, code: "invalid_idempotent_request", status: 409 });
    expect(await emu.emails()).toHaveLength(1);
  });

  it("treats a request whose key is still in flight as retryable (concurrent_idempotent_requests)", async () => {
    await emu.configure({ hold: true });
    const m = mailer();
    const first = m.send([email("ada@example.com")], "idem/3");
    await emu.untilInFlight(1);
    const second = await m.send([email("ada@example.com")], "idem/3");
    expect(second).toMatchObject({ ok: false, retryable: true, code: "concurrent_idempotent_requests", status: 409 });
    await emu.configure({ hold: false });
    expect(await first).toMatchObject({ ok: true });
    expect(await emu.emails()).toHaveLength(1);
  });

  it("a refused request does not burn its key: the same key goes through once the cause is gone", async () => {
    await emu.configure({ dailyQuota: 0 });
    const m = mailer();
    expect(await m.send([email("ada@example.com")], "idem/4")).toMatchObject({ ok: false, code: "daily_quota_exceeded" });
    await emu.configure({ dailyQuota: null });
    expect(await m.send([email("ada@example.com")], "idem/4")).toMatchObject({ ok: true });
    expect(await emu.emails()).toHaveLength(1);
  });

  it("treats the daily quota as retryable, but only after a long wait", async () => {
    await emu.configure({ dailyQuota: 1 });
    const m = mailer();
    expect((await m.send([email("a@example.com")], "quota/1")).ok).toBe(true);
    const out = await m.send([email("b@example.com")], "quota/2");
    expect(out).toMatchObject({ ok: false, retryable: true, code: "daily_quota_exceeded", status: 429 });
    expect(out.ok ? 0 : out.retryAfterSec!).toBeGreaterThanOrEqual(3600);
  });

  it("reports a key that is not a Resend key as permanent", async () => {
    const out = await new ResendMailer("sk_not_resend", emu.url).send([email("ada@example.com")], "auth/1");
    expect(out).toMatchObject({ ok: false, retryable: false, code: "invalid_api_key", status: 403 });
  });
});

describe("classify()", () => {
  const err = (name: string, statusCode: number | null) => ({ name, statusCode, message: name });

  it("reads retry-after in seconds and ignores garbage", () => {
    expect(classify(err("rate_limit_exceeded", 429), { "retry-after": "3" })).toMatchObject({ retryable: true, retryAfterSec: 3 });
    expect(classify(err("rate_limit_exceeded", 429), { "retry-after": "soon" }).retryAfterSec).toBeUndefined();
    expect(classify(err("rate_limit_exceeded", 429), null).retryAfterSec).toBeUndefined();
  });

  it("never retries errors that waiting will not fix", () => {
    for (const name of ["validation_error", "missing_required_field", "invalid_idempotent_request", "invalid_idempotency_key", "missing_api_key", "invalid_api_key", "invalid_from_address", "monthly_quota_exceeded"])
      expect(classify(err(name, name === "monthly_quota_exceeded" ? 429 : 422), { "retry-after": "1" }), name).toMatchObject({ retryable: false });
  });

  it("retries network failures, 5xx and unknown 429s; waits at least an hour on the daily quota", () => {
    expect(classify(err("application_error", null), null)).toMatchObject({ retryable: true, status: null });
    expect(classify(err("application_error", 503), null)).toMatchObject({ retryable: true });
    expect(classify(err("something_new", 429), null)).toMatchObject({ retryable: true });
    expect(classify(err("daily_quota_exceeded", 429), { "retry-after": "60" })).toMatchObject({ retryable: true, retryAfterSec: 3600 });
    expect(classify(err("daily_quota_exceeded", 429), { "retry-after": "7200" })).toMatchObject({ retryable: true, retryAfterSec: 7200 });
    expect(classify(err("not_found", 404), null)).toMatchObject({ retryable: false });
  });
});
