import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { Answer, Grant, Lane } from "../../src/mail/budget";

// The send budget Durable Object on its own (an instance of its own, so other test files' sends do not mix in).
// Timing checks here are lower bounds only ("not before"): a slow machine can make a wait longer, never shorter.
const budget = () => env.SEND_BUDGET.get(env.SEND_BUDGET.idFromName(`budget-unit-${crypto.randomUUID()}`));
type Budget = ReturnType<typeof budget>;

const ok: Answer = { ok: true, status: 200 };
async function granted(b: Budget, lane: Lane, rps = 0) {
  const g = (await b.acquire(lane, rps)) as Grant;
  if (!g.ok) throw new Error(`not granted: ${JSON.stringify(g)}`);
  return g.lease;
}

let b: Budget;
beforeEach(() => {
  b = budget();
});

describe("send budget", () => {
  it("without a ceiling grants at once; at RESEND_MAX_RPS=1 a second call waits a window after the first answer", async () => {
    await granted(b, "mail");
    await granted(b, "digest");
    const c = budget();
    const first = await granted(c, "mail", 1);
    const second = c.acquire("digest", 1);
    await new Promise((r) => setTimeout(r, 200));
    const answeredAt = Date.now();
    await c.release(first, ok);
    const g = await second;
    expect(g.ok).toBe(true);
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(950);
    expect(await c.state()).toMatchObject({ rate: 1, rateSource: "config", granted: { mail: 1, digest: 1 } });
  });

  it("when both lanes wait, grants alternate: transactional first, then the digest, neither starves", async () => {
    const fill = await Promise.all([1, 2, 3, 4].map(() => granted(b, "digest", 4)));
    const order: string[] = [];
    const wait = (lane: Lane, name: string) =>
      b.acquire(lane, 4).then((g) => {
        order.push(name);
        return g;
      });
    const pending = [
      wait("digest", "d1"),
      wait("digest", "d2"),
      wait("digest", "d3"),
      wait("mail", "m1"),
      wait("mail", "m2"),
    ];
    for (const lease of fill) await b.release(lease, ok);
    // Four slots free together after the window: m1, d1, m2, d2 (not d1, d2, d3, m1 in arrival order).
    const grants = await Promise.all([pending[0]!, pending[1]!, pending[3]!, pending[4]!]);
    expect(grants.every((g) => g.ok)).toBe(true);
    expect(order).toEqual(["m1", "d1", "m2", "d2"]);
    for (const g of grants) if (g.ok) await b.release(g.lease, ok);
    expect((await pending[2]!).ok).toBe(true);
    expect(order).toEqual(["m1", "d1", "m2", "d2", "d3"]);
  });

  it("follows Resend's ratelimit-limit, and its retry-after blocks every caller", async () => {
    const lease = await granted(b, "mail", 2);
    await b.release(lease, {
      ok: false,
      status: 429,
      code: "rate_limit_exceeded",
      limit: 5,
      remaining: 0,
      resetSec: 1,
      retryAfterSec: 2,
    });
    expect(await b.state()).toMatchObject({ rate: 5, rateSource: "resend", rateLimited: 1 });
    const blocked = Date.now();
    await granted(b, "digest", 2); // RESEND_MAX_RPS no longer applies: Resend said 5
    expect(Date.now() - blocked).toBeGreaterThanOrEqual(1900);
    expect((await b.state()).rate).toBe(5);
  });

  it("ratelimit-remaining 0 holds further calls until ratelimit-reset", async () => {
    const lease = await granted(b, "mail");
    await b.release(lease, { ...ok, limit: 10, remaining: 0, resetSec: 1 });
    const t = Date.now();
    await granted(b, "mail");
    expect(Date.now() - t).toBeGreaterThanOrEqual(950);
  });

  it("a quota error pauses sending: callers are told to park until a probe, which clears it when it goes through", async () => {
    const lease = await granted(b, "digest");
    await b.release(lease, { ok: false, status: 429, code: "daily_quota_exceeded", retryAfterSec: 1 });
    const refused = await b.acquire("mail", 0);
    expect(refused).toMatchObject({ ok: false, reason: "quota", quota: { code: "daily_quota_exceeded" } });
    expect((await b.state()).quota).toMatchObject({ code: "daily_quota_exceeded" });
    await new Promise((r) => setTimeout(r, 1100));
    // One probe goes through; while it is out, others are still told to park.
    const probe = await granted(b, "mail");
    expect(await b.acquire("digest", 0)).toMatchObject({ ok: false, reason: "quota" });
    await b.release(probe, ok);
    expect((await b.state()).quota).toBeNull();
    await granted(b, "digest");
  });

  it("a monthly quota that comes back as a quota error again stays paused", async () => {
    const lease = await granted(b, "digest");
    await b.release(lease, { ok: false, status: 429, code: "monthly_quota_exceeded", retryAfterSec: 1 });
    await new Promise((r) => setTimeout(r, 1100));
    const probe = await granted(b, "digest");
    await b.release(probe, { ok: false, status: 429, code: "monthly_quota_exceeded", retryAfterSec: 60 });
    expect(await b.acquire("mail", 0)).toMatchObject({
      ok: false,
      reason: "quota",
      quota: { code: "monthly_quota_exceeded" },
    });
    // An operator's resume clears it at once.
    expect((await b.resume()).quota).toBeNull();
    await granted(b, "mail");
  });

  it("an unused slot frees at once; reset forgets what was learned", async () => {
    const c = budget();
    const lease = await granted(c, "mail", 1);
    await c.release(lease, { unused: true, ok: false, status: null });
    const t = Date.now();
    const again = await granted(c, "mail", 1);
    expect(Date.now() - t).toBeLessThan(900); // not held for a window: nothing was sent
    await c.release(again, { ...ok, limit: 7 });
    expect((await c.state()).rate).toBe(7);
    expect(await c.reset()).toMatchObject({ rate: null, rateSource: "config", answers: 0 });
  });
});
