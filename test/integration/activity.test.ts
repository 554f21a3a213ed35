import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { weeklyActivity } from "../../src/db/activity";
import { database } from "../../src/db/subscribers";
import { formatWeek, isoWeekOf } from "../../src/lib/week";

const DAY = 86_400_000;
const db = database(env.DB);
const weekOf = (t: number) => formatWeek(isoWeekOf(new Date(t)));

async function insert(created: number, confirmed: number | null = null, unsubscribed: number | null = null) {
  const email = `activity-${crypto.randomUUID()}@example.com`;
  await env.DB.prepare(
    "INSERT INTO subscribers (email, email_key, status, source, created_at, consent_at, confirmed_at, unsubscribed_at, link_key) VALUES (?, ?, ?, 'api', ?, ?, ?, ?, 'k')",
  )
    .bind(
      email,
      email,
      unsubscribed ? "unsubscribed" : confirmed ? "active" : "pending",
      created,
      created,
      confirmed,
      unsubscribed,
    )
    .run();
}

/** Row counts per week key, to compare before and after (other tests share the database). */
const byWeek = async (now: number) => new Map((await weeklyActivity(db, now)).map((r) => [r.week, r]));

describe("weeklyActivity", () => {
  // Wednesday 2 December 2026, noon UTC: ISO week 2026-W49. Its first week of 26 is 2026-W24 (from Monday 8 June).
  const now = Date.UTC(2026, 11, 2, 12);
  const firstMonday = Date.UTC(2026, 5, 8);

  it("returns 26 weeks, oldest first, ending with the week of now, zero-filled", async () => {
    const rows = await weeklyActivity(db, now);
    expect(rows).toHaveLength(26);
    expect(rows[0]!.week).toBe("2026-W24");
    expect(rows[25]!.week).toBe("2026-W49");
    expect(new Set(rows.map((r) => r.week)).size).toBe(26);
    const w30 = rows.find((r) => r.week === "2026-W30")!;
    expect(w30).toEqual({ week: "2026-W30", signups: 0, confirmations: 0, unsubscribes: 0 });
    expect(await weeklyActivity(db, now, 4)).toHaveLength(4);
  });

  it("counts signups, confirmations and unsubscribes in the weeks they happened, and nothing older", async () => {
    const before = await byWeek(now);
    const mon40 = Date.UTC(2026, 8, 28); // Monday of 2026-W40
    const sun41 = Date.UTC(2026, 9, 11, 23, 59, 59, 999); // the last millisecond of 2026-W41
    await insert(mon40, mon40 + DAY, sun41);
    await insert(mon40 + 3 * DAY, sun41);
    await insert(sun41);
    await insert(firstMonday); // the first millisecond of the window
    await insert(firstMonday - 1, firstMonday + DAY); // signed up the week before the window, confirmed inside it
    await insert(Date.UTC(2025, 0, 6), Date.UTC(2025, 0, 7), Date.UTC(2025, 1, 1)); // long before
    const after = await byWeek(now);

    const delta = (week: string) => {
      const a = after.get(week)!;
      const b = before.get(week)!;
      return [a.signups - b.signups, a.confirmations - b.confirmations, a.unsubscribes - b.unsubscribes];
    };
    expect(weekOf(mon40)).toBe("2026-W40");
    expect(delta("2026-W40")).toEqual([2, 1, 0]);
    expect(delta("2026-W41")).toEqual([1, 1, 1]);
    expect(delta("2026-W24")).toEqual([1, 1, 0]);
    const total = (m: Map<string, { signups: number; confirmations: number; unsubscribes: number }>) =>
      [...m.values()].reduce((s, r) => s + r.signups + r.confirmations + r.unsubscribes, 0);
    expect(total(after) - total(before)).toBe(8);
    expect(after.has("2025-W02")).toBe(false);
  });

  it("counts the week of now", async () => {
    const before = (await weeklyActivity(db, now)).at(-1)!;
    await insert(now - DAY, now);
    const after = (await weeklyActivity(db, now)).at(-1)!;
    expect(after.week).toBe("2026-W49");
    expect([after.signups - before.signups, after.confirmations - before.confirmations]).toEqual([1, 1]);
  });
});
