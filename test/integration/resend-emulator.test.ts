import { beforeEach, describe, expect, it } from "vitest";
import { resendEmulator } from "../support/resend-emulator";

// The emulator's own contract, over raw HTTP: the rules the adapter tests rely on it to enforce.
const emu = resendEmulator();
const ok = { from: "Papers <papers@example.com>", to: "ada@example.com", subject: "Hi", text: "Hello" };

beforeEach(async () => {
  await emu.reset();
});

async function expectError(res: Response, status: number, name: string) {
  expect(res.status).toBe(status);
  expect(await res.json()).toEqual({ statusCode: status, name, message: expect.any(String) });
}

describe("Resend emulator", () => {
  it("requires a Bearer re_ key: 401 missing_api_key, 403 invalid_api_key", async () => {
    await expectError(
      await fetch(`${emu.url}/emails`, { method: "POST", body: JSON.stringify(ok) }),
      401,
      "missing_api_key",
    );
    await expectError(
      await fetch(`${emu.url}/emails`, {
        method: "POST",
        body: JSON.stringify(ok),
        headers: { authorization: "Bearer sk_live_x" },
      }),
      403,
      "invalid_api_key",
    );
    expect(await emu.emails()).toHaveLength(0);
  });

  it("validates each email like SendEmailRequest", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...ok, from: undefined }, "missing_required_field"],
      [{ ...ok, to: undefined }, "missing_required_field"],
      [{ ...ok, subject: undefined }, "missing_required_field"],
      [{ ...ok, from: "papers@" }, "validation_error"],
      [{ ...ok, to: [] }, "validation_error"],
      [{ ...ok, to: Array.from({ length: 51 }, (_, i) => `r${i}@example.com`) }, "validation_error"],
      [{ ...ok, text: undefined }, "validation_error"],
      [{ ...ok, headers: { "X-N": 1 } }, "validation_error"],
      [{ ...ok, tags: [{ name: "kind", value: "a b" }] }, "validation_error"],
      [{ ...ok, tags: [{ name: "x".repeat(257), value: "v" }] }, "validation_error"],
    ];
    for (const [body, name] of cases) await expectError(await emu.api("/emails", body), 422, name);
    const accepted = await emu.api("/emails", {
      ...ok,
      from: "ops@example.com",
      to: Array.from({ length: 50 }, (_, i) => `r${i}@example.com`),
      html: "<p>x</p>",
      tags: [{ name: "kind_1", value: "x-2" }],
    });
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toEqual({ id: expect.any(String) });
    expect(await emu.emails()).toHaveLength(1);
  });

  it("takes 1–100 emails per batch, without attachments or scheduling", async () => {
    await expectError(await emu.api("/emails/batch", []), 422, "validation_error");
    await expectError(
      await emu.api(
        "/emails/batch",
        Array.from({ length: 101 }, () => ok),
      ),
      422,
      "validation_error",
    );
    await expectError(
      await emu.api("/emails/batch", [ok, { ...ok, attachments: [{ filename: "a.txt", content: "eA==" }] }]),
      422,
      "validation_error",
    );
    await expectError(await emu.api("/emails/batch", [{ ...ok, scheduled_at: "in 1 hour" }]), 422, "validation_error");
    expect(await emu.emails()).toHaveLength(0);
    const res = await emu.api(
      "/emails/batch",
      Array.from({ length: 100 }, () => ok),
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: unknown[] }).data).toHaveLength(100);
  });

  it("checks Idempotency-Key length and replays the original response", async () => {
    await expectError(
      await emu.api("/emails", ok, { "idempotency-key": "k".repeat(257) }),
      400,
      "invalid_idempotency_key",
    );
    const first = await (await emu.api("/emails", ok, { "idempotency-key": "k1" })).json();
    const again = await emu.api("/emails", ok, { "idempotency-key": "k1" });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(first);
    await expectError(
      await emu.api("/emails/batch", [ok], { "idempotency-key": "k1" }),
      409,
      "invalid_idempotent_request",
    );
    expect(await emu.emails()).toHaveLength(1);
  });

  it("sends ratelimit-* headers, then 429 with retry-after once the window is spent", async () => {
    await emu.configure({ rateLimit: { requests: 2, windowSec: 60 } });
    const first = await emu.api("/emails", ok);
    expect(first.headers.get("ratelimit-limit")).toBe("2");
    expect(first.headers.get("ratelimit-remaining")).toBe("1");
    expect(Number(first.headers.get("ratelimit-reset"))).toBeGreaterThan(0);
    expect((await emu.api("/emails", ok)).headers.get("ratelimit-remaining")).toBe("0");
    const limited = await emu.api("/emails", ok);
    expect(limited.headers.get("retry-after")).toBe(limited.headers.get("ratelimit-reset"));
    await expectError(limited, 429, "rate_limit_exceeded");
    expect(await emu.stats()).toMatchObject({ requests: 3, acceptedEmails: 2, rateLimited: 1 });
  });

  it("plays queued faults in order, storing nothing for them", async () => {
    await emu.configure({
      faults: [
        { status: 500, times: 2 },
        { status: 429, name: "daily_quota_exceeded" },
      ],
    });
    await expectError(await emu.api("/emails", ok), 500, "internal_server_error");
    await expectError(await emu.api("/emails", ok), 500, "internal_server_error");
    const quota = await emu.api("/emails", ok);
    expect(quota.headers.get("retry-after")).toBeNull();
    await expectError(quota, 429, "daily_quota_exceeded");
    expect((await emu.api("/emails", ok)).status).toBe(200);
    expect(await emu.stats()).toMatchObject({ requests: 4, serverErrors: 2, rateLimited: 1, acceptedEmails: 1 });
  });

  it("fails a seeded share of requests, the same way for the same seed", async () => {
    const run = async () => {
      await emu.reset();
      await emu.configure({ random: { p429: 0.3, p500: 0.2, seed: 42 } });
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await emu.api("/emails", ok)).status);
      return statuses;
    };
    const a = await run();
    expect(await run()).toEqual(a);
    expect(a).toContain(429);
    expect(a).toContain(500);
    expect(a).toContain(200);
    expect((await emu.emails()).length).toBe(a.filter((s) => s === 200).length);
  });

  it("keeps each API key's emails and settings apart", async () => {
    const other = resendEmulator();
    await other.configure({ faults: [{ status: 500 }] });
    expect((await emu.api("/emails", ok)).status).toBe(200);
    expect(await other.emails()).toHaveLength(0);
    expect((await other.api("/emails", ok)).status).toBe(500);
    await other.reset();
  });
});
