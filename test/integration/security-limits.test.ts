/**
 * Limits an attacker cannot walk around: per client IP (per /64 for IPv6), per mailbox (however the address is
 * spelled), per domain and hour; a suppressed mailbox stays suppressed under any spelling.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { suppress, suppressionHash } from "../../src/db/suppressions";
import { ipBucket } from "../../src/lib/http";
import {
  call,
  confirmJobFor,
  freshIp,
  outboxFor,
  runMailQueue,
  sendConfirmation,
  subscribeForm,
  subscribeFrom,
  subscribeJson,
  subscriberRow,
} from "../support/helpers";
import { expectHtmlError, expectJsonError } from "../support/hostile/responses";
import { expectNothingStored, subscribersNow } from "../support/hostile/state";

/**
 * Sends up to `2 * max + 1` requests from one IP. The limiter's window is aligned to the wall clock, so a burst can
 * straddle one window boundary; either way the first `max` answers are never 429 and a 429 comes by `2 * max`.
 */
async function burst(send: (ip: string) => Promise<Response>, max: number, ip: string) {
  const statuses: number[] = [];
  let limited: Response | undefined;
  for (let i = 0; i <= 2 * max && !limited; i++) {
    const res = await send(ip);
    statuses.push(res.status);
    if (res.status === 429) limited = res;
    else await res.body?.cancel();
  }
  expect(statuses.slice(0, max)).not.toContain(429);
  expect(limited, `statuses: ${statuses.join(",")}`).toBeDefined();
  expect(statuses.indexOf(429)).toBeGreaterThanOrEqual(max);
  return limited!;
}

describe("per client IP", () => {
  it("subscribe: after 10 requests from one IP, answers 429 with Retry-After (JSON and forms)", async () => {
    const before = await subscribersNow();
    const limited = await burst((ip) => subscribeJson("not-an-address", {}, { ip }), 10, "203.0.113.10");
    expect(limited.headers.get("retry-after")).toBe("60");
    await expectJsonError(limited, 429, "rate_limited");
    // Once limited, even a valid address is refused and not stored.
    const valid = await subscribeJson("limited@example.com", {}, { ip: "203.0.113.10" });
    expect(valid.status).toBe(429);
    expect(valid.headers.get("retry-after")).toBe("60");
    const page = await subscribeForm({ email: "limited@example.com" }, { ip: "203.0.113.10" });
    expect(page.status).toBe(429);
    expect(page.headers.get("retry-after")).toBe("60");
    expect(await expectHtmlError(page, 429)).toContain("Too many attempts");
    expect(await subscriberRow("limited@example.com")).toBeNull();
    // The limit is per IP: another client is unaffected.
    await expectJsonError(await subscribeJson("not-an-address", {}, { ip: "203.0.113.11" }), 422);
    await expectNothingStored(before, new Set(["limited@example.com"]));
  });

  it("answers 429 with Retry-After once an IP exceeds its budget of valid signups", async () => {
    const ip = freshIp();
    const statuses = [];
    for (let i = 0; i < 12; i++) statuses.push((await subscribeJson(`rl${i}@example.com`, {}, { ip })).status);
    expect(statuses.slice(0, 10).every((s) => s === 202)).toBe(true);
    const res = await subscribeJson("rl-last@example.com", {}, { ip });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("60");
    expect(await res.json()).toMatchObject({ error: { code: "rate_limited" } });
    expect(await subscriberRow("rl-last@example.com")).toBeNull();
  });

  it("personal links: after 30 requests from one IP, answers 429 with Retry-After", async () => {
    const limited = await burst((ip) => call("/manage/forged", { ip }), 30, "203.0.113.20");
    expect(limited.headers.get("retry-after")).toBe("60");
    expect(limited.status).toBe(429);
  });

  it("an IPv6 client is limited per /64, whatever the rest of its address", async () => {
    expect(ipBucket("2001:db8:abcd:12:1:2:3:4")).toBe("2001:db8:abcd:12::/64");
    expect(ipBucket("2001:0db8:abcd:0012::99")).toBe("2001:db8:abcd:12::/64");
    expect(ipBucket("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(ipBucket("203.0.113.7")).toBe("203.0.113.7");
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++)
      statuses.push(
        (
          await subscribeFrom(
            `v6-${i}@example.com`,
            `2001:db8:feed:1:${i.toString(16)}:${(i * 7).toString(16)}::${i + 1}`,
          )
        ).status,
      );
    expect(statuses.slice(0, 10).every((s) => s === 202)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]); // 10 per minute for the whole /64
    expect((await subscribeFrom("v6-other-net@example.com", "2001:db8:feed:2::1")).status).toBe(202);
  });
});

describe("per mailbox and per domain, not per string", () => {
  it("+tag and dotted Gmail variants reach one mailbox: one row, one throttle (not one confirmation per variant)", async () => {
    const variants = [
      "bomb.victim@gmail.com",
      "bombvictim+1@gmail.com",
      "b.o.m.b.victim+2@googlemail.com",
      "BombVictim+3@Gmail.com",
      "bomb.vic.tim+4@gmail.com",
    ];
    for (const [i, v] of variants.entries()) expect((await subscribeFrom(v, `198.18.0.${i + 1}`)).status).toBe(202);
    const { results } = await env.DB.prepare(
      "SELECT email, email_key, confirm_count FROM subscribers WHERE email_key = 'bombvictim@gmail.com'",
    ).all<{ email: string; confirm_count: number }>();
    expect(results).toHaveLength(1);
    expect(results[0]!.confirm_count).toBe(1); // the throttle held: one confirmation, the rest got 202 and nothing
    expect(results[0]!.email).toBe("bomb.victim@gmail.com"); // as the person typed it
  });

  it("a suppressed mailbox stays suppressed under any +tag or dotted spelling, including entries from before mailbox keys", async () => {
    await env.DB.prepare("INSERT INTO suppressions (email_hash, reason, created_at) VALUES (?, 'complaint', 0)")
      .bind(await suppressionHash("old.complainer+x@gmail.com"))
      .run();
    expect((await subscribeFrom("old.complainer+x@gmail.com", "198.18.1.1")).status).toBe(202);
    expect(await subscriberRow("old.complainer+x@gmail.com")).toBeNull();
    await suppress(env.DB, ["new.complainer@example.org"], "complaint");
    expect((await subscribeFrom("new.complainer+again@example.org", "198.18.1.2")).status).toBe(202);
    expect(await subscriberRow("new.complainer@example.org")).toBeNull();
  });

  it("at most CONFIRM_DOMAIN_HOURLY_CAP confirmation emails go to one domain per hour", async () => {
    const e = { ...env, CONFIRM_DOMAIN_HOURLY_CAP: "3" };
    const emails = Array.from({ length: 5 }, (_, i) => `cap-${i}@flooded.example.org`);
    for (const [i, m] of emails.entries())
      expect((await subscribeFrom(m, `198.18.2.${i + 1}`, { CONFIRM_DOMAIN_HOURLY_CAP: "3" })).status).toBe(202);
    await runMailQueue(await Promise.all(emails.map(confirmJobFor)), e);
    const sent = (await Promise.all(emails.map(outboxFor))).filter((m) => m.length > 0);
    expect(sent).toHaveLength(3);
    expect((await subscribeFrom("other-domain@example.net", "198.18.2.9")).status).toBe(202);
    await sendConfirmation("other-domain@example.net", e);
    expect(await outboxFor("other-domain@example.net")).toHaveLength(1);
  });
});
