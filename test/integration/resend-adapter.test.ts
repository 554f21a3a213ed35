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
  it("sends even a single email through POST /emails/batch, with its key, headers and tags", async () => {
    const out = await mailer().send([email("ada@example.com")], "single/1");
    expect(out.ok).toBe(true);
    const [stored, ...rest] = await emu.emails();
    expect(rest).toHaveLength(0);
    expect(out).toMatchObject({ ok: true, ids: [stored!.id], rejected: [] });
    expect(stored).toMatchObject({
      to: ["ada@example.com"],
      from: "Trending Papers <papers@example.com>",
      subject: "Confirm your subscription",
      html: "<p>Hello</p>",
      text: "Hello",
      headers: { "X-Entity-Ref-ID": "abc" },
      tags: [{ name: "kind", value: "confirm" }],
      idempotencyKey: "single/1",
    });
    expect((await emu.requests()).map((r) => r.path)).toEqual(["/emails/batch"]);
  });

  it("sends several emails as one batch through POST /emails/batch", async () => {
    const out = await mailer().send(
      [email("a@example.com"), email("b@example.com"), email("c@example.com")],
      "batch/1",
    );
    const stored = await emu.emails();
    expect(stored.map((e) => e.to[0])).toEqual(["a@example.com", "b@example.com", "c@example.com"]);
    expect(out).toMatchObject({ ok: true, ids: stored.map((e) => e.id), rejected: [] });
    expect(new Set(stored.map((e) => e.batchId)).size).toBe(1);
    expect(stored[0]!.batchId).not.toBeNull();
    expect((await emu.requests()).map((r) => [r.path, r.status])).toEqual([["/emails/batch", 200]]);
  });

  it("permissive validation: an email Resend refuses is reported by index, the others of the call go out", async () => {
    const out = await mailer().send(
      [
        email("a@example.com"),
        email("b@example.com", { tags: [{ name: "kind", value: "wel come" }] }),
        email("c@example.com"),
      ],
      "invalid/2",
    );
    expect(out).toMatchObject({ ok: true, rejected: [{ index: 1, message: expect.stringContaining("Tags") }] });
    expect(out.ok && out.ids).toHaveLength(2);
    expect((await emu.emails()).map((e) => e.to[0])).toEqual(["a@example.com", "c@example.com"]);
  });

  it("every email refused: nothing is sent and each is reported", async () => {
    const out = await mailer().send([email("ada@example.com", { from: "not an address" })], "invalid/1");
    expect(out).toMatchObject({
      ok: true,
      ids: [],
      rejected: [{ index: 0, message: expect.stringContaining("from") }],
    });
    expect(await emu.emails()).toHaveLength(0);
  });

  it("strict validation (Resend's default) still fails the whole call: the emulator keeps Resend's behaviour", async () => {
    const res = await emu.api(
      "/emails/batch",
      [email("a@example.com"), { ...email("b@example.com"), from: "nope" }].map((e) => ({ ...e, to: [e.to] })),
    );
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ name: "validation_error", message: expect.stringContaining("emails[1]") });
    expect(await emu.emails()).toHaveLength(0);
  });

  it("treats a 429 as retryable, with the delay taken from retry-after", async () => {
    await emu.configure({ faults: [{ status: 429, retryAfter: 7 }] });
    const out = await mailer().send([email("ada@example.com")], "rl/1");
    expect(out).toMatchObject({
      ok: false,
      kind: "refused",
      code: "rate_limit_exceeded",
      status: 429,
      retryAfterSec: 7,
      answer: { status: 429, retryAfterSec: 7 },
    });
    expect(await emu.emails()).toHaveLength(0);
  });

  it("hits the emulated rate limit and reads its headers", async () => {
    await emu.configure({ rateLimit: { requests: 2, windowSec: 60 } });
    const m = mailer();
    expect((await m.send([email("a@example.com")], "rl/a")).ok).toBe(true);
    expect((await m.send([email("b@example.com")], "rl/b")).ok).toBe(true);
    const third = await m.send([email("c@example.com")], "rl/c");
    expect(third).toMatchObject({
      ok: false,
      kind: "refused",
      code: "rate_limit_exceeded",
      status: 429,
      answer: { limit: 2, remaining: 0 },
    });
    const retryAfter = third.ok ? NaN : third.retryAfterSec!;
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await emu.requests()).at(-1)).toMatchObject({ status: 429, retryAfter });
    const stats = await emu.stats();
    expect(stats).toMatchObject({ requests: 3, acceptedEmails: 2, rateLimited: 1 });
  });

  it("reads the rate-limit headers of a successful answer too", async () => {
    await emu.configure({ rateLimit: { requests: 4, windowSec: 1 } });
    const out = await mailer().send([email("a@example.com")], "rl/headers");
    expect(out).toMatchObject({ ok: true, answer: { ok: true, status: 200, limit: 4, remaining: 3, resetSec: 1 } });
  });

  it("treats a 500 as ambiguous (it may have been sent) without a delay of its own", async () => {
    await emu.configure({ faults: [{ status: 500 }] });
    const out = await mailer().send([email("ada@example.com")], "5xx/1");
    expect(out).toMatchObject({ ok: false, kind: "ambiguous", status: 500, code: "internal_server_error" });
    expect(out.ok || out.retryAfterSec).toBeUndefined();
    expect(await emu.emails()).toHaveLength(0);
  });

  it("a 500 after sending (a lost answer): the retry under the same key is a replay, not a second email", async () => {
    await emu.configure({ faults: [{ status: 500, after: true }] });
    const m = mailer();
    expect(await m.send([email("ada@example.com")], "5xx/after")).toMatchObject({
      ok: false,
      kind: "ambiguous",
      status: 500,
    });
    expect(await emu.emails()).toHaveLength(1);
    expect(await m.send([email("ada@example.com")], "5xx/after")).toMatchObject({ ok: true });
    expect(await emu.emails()).toHaveLength(1);
    expect(await emu.stats()).toMatchObject({ replays: 1 });
  });

  it("treats a dropped connection as ambiguous (status null), and the retry then goes through", async () => {
    await emu.configure({ faults: [{ abort: true }] });
    const m = mailer();
    const out = await m.send([email("ada@example.com")], "net/1");
    expect(out).toMatchObject({ ok: false, kind: "ambiguous", status: null });
    expect(await emu.stats()).toMatchObject({ aborted: 1, acceptedEmails: 0 });
    expect(await m.send([email("ada@example.com")], "net/1")).toMatchObject({ ok: true });
    expect(await emu.emails()).toHaveLength(1);
  });

  it("treats an unreachable API as ambiguous", async () => {
    const out = await new ResendMailer(emu.apiKey, "http://127.0.0.1:1").send([email("ada@example.com")], "net/2");
    expect(out).toMatchObject({ ok: false, kind: "ambiguous", status: null });
  });

  it("sends once when the same key and body are sent twice: the replay returns the original ids", async () => {
    const m = mailer();
    const first = await m.send([email("ada@example.com")], "idem/1");
    const second = await m.send([email("ada@example.com")], "idem/1");
    expect(first.ok).toBe(true);
    expect(second).toEqual(first);
    expect(await emu.emails()).toHaveLength(1);
    expect(await emu.stats()).toMatchObject({
      requests: 2,
      acceptedEmails: 1,
      replays: 1,
      byIdempotencyKey: { "idem/1": { requests: 2, accepted: 1 } },
    });
  });

  it("refuses a different body under a used key as invalid_idempotent_request", async () => {
    const m = mailer();
    expect((await m.send([email("ada@example.com")], "idem/2")).ok).toBe(true);
    const out = await m.send([email("ada@example.com", { subject: "Something else" })], "idem/2");
    expect(out).toMatchObject({ ok: false, kind: "permanent", code: "invalid_idempotent_request", status: 409 });
    expect(await emu.emails()).toHaveLength(1);
  });

  it("treats a request whose key is still in flight as ambiguous (concurrent_idempotent_requests)", async () => {
    await emu.configure({ hold: true });
    const m = mailer();
    const first = m.send([email("ada@example.com")], "idem/3");
    await emu.untilInFlight(1);
    const second = await m.send([email("ada@example.com")], "idem/3");
    expect(second).toMatchObject({ ok: false, kind: "ambiguous", code: "concurrent_idempotent_requests", status: 409 });
    await emu.configure({ hold: false });
    expect(await first).toMatchObject({ ok: true });
    expect(await emu.emails()).toHaveLength(1);
  });

  it("a refused request does not burn its key: the same key goes through once the cause is gone", async () => {
    await emu.configure({ dailyQuota: 0 });
    const m = mailer();
    expect(await m.send([email("ada@example.com")], "idem/4")).toMatchObject({
      ok: false,
      code: "daily_quota_exceeded",
    });
    await emu.configure({ dailyQuota: null });
    expect(await m.send([email("ada@example.com")], "idem/4")).toMatchObject({ ok: true });
    expect(await emu.emails()).toHaveLength(1);
  });

  it("reports the daily quota as a refusal with its code (the budget turns it into a pause)", async () => {
    await emu.configure({ dailyQuota: 1 });
    const m = mailer();
    expect((await m.send([email("a@example.com")], "quota/1")).ok).toBe(true);
    const out = await m.send([email("b@example.com")], "quota/2");
    expect(out).toMatchObject({
      ok: false,
      kind: "refused",
      code: "daily_quota_exceeded",
      status: 429,
      answer: { code: "daily_quota_exceeded" },
    });
  });

  it("reports a key that is not a Resend key as permanent", async () => {
    const out = await new ResendMailer("sk_not_resend", emu.url).send([email("ada@example.com")], "auth/1");
    expect(out).toMatchObject({ ok: false, kind: "permanent", code: "invalid_api_key", status: 403 });
  });
});

describe("classify()", () => {
  const err = (name: string, statusCode: number | null) => ({ name, statusCode, message: name });

  it("reads retry-after in seconds and ignores garbage", () => {
    expect(classify(err("rate_limit_exceeded", 429), { "retry-after": "3" })).toMatchObject({
      kind: "refused",
      retryAfterSec: 3,
    });
    expect(classify(err("rate_limit_exceeded", 429), { "retry-after": "soon" }).retryAfterSec).toBeUndefined();
    expect(classify(err("rate_limit_exceeded", 429), null).retryAfterSec).toBeUndefined();
  });

  it("errors answered before sending that waiting will not fix are permanent", () => {
    for (const name of [
      "validation_error",
      "missing_required_field",
      "invalid_idempotent_request",
      "invalid_idempotency_key",
      "missing_api_key",
      "invalid_api_key",
      "invalid_from_address",
      "not_found",
    ])
      expect(classify(err(name, name === "not_found" ? 404 : 422), { "retry-after": "1" }), name).toMatchObject({
        kind: "permanent",
      });
  });

  it("429s (rate limit and quotas) are refusals: nothing was sent", () => {
    for (const name of ["rate_limit_exceeded", "daily_quota_exceeded", "monthly_quota_exceeded", "something_new"])
      expect(classify(err(name, 429), null), name).toMatchObject({ kind: "refused" });
  });

  it("network failures, 5xx and a key still in flight are ambiguous: the emails may have gone out", () => {
    expect(classify(err("application_error", null), null)).toMatchObject({ kind: "ambiguous", status: null });
    expect(classify(err("application_error", 503), null)).toMatchObject({ kind: "ambiguous" });
    expect(classify(err("internal_server_error", 500), { "retry-after": "4" })).toMatchObject({
      kind: "ambiguous",
      retryAfterSec: 4,
    });
    expect(classify(err("concurrent_idempotent_requests", 409), null)).toMatchObject({ kind: "ambiguous" });
  });
});
