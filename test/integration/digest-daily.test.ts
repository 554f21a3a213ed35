import { createExecutionContext, createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { prune } from "../../src/db/privacy";
import { database, setCadence } from "../../src/db/subscribers";
import { receivesSql } from "../../src/digest/cadence";
import type { DigestJob } from "../../src/digest/jobs";
import { CRONS, runSchedule } from "../../src/digest/schedule";
import worker from "../../src/index";
import { sendBudget } from "../../src/mail/budget";
import { importActive } from "../support/admin";
import { ADMIN, issueEmails, record } from "../support/digests";
import { BASE, call } from "../support/helpers";
import { consume, holdingQueue, startHeld } from "../support/queues";
import { resendEmulator } from "../support/resend-emulator";

// Issue 11: daily editions beside the weekly issue, end to end through the queues and the Resend emulator (delivery
// project). The sample source has papers Monday to Friday and lists one paper again the next day.
const resend = resendEmulator(env.RESEND_API_KEY);
const run = crypto.randomUUID().slice(0, 6);

beforeEach(async () => {
  await resend.reset();
  await sendBudget(env).reset();
  await env.DB.batch([env.DB.prepare("DELETE FROM subscribers"), env.DB.prepare("DELETE FROM departures")]);
});

const addr = (who: string) => `dl-${run}-${who}@example.com`;

/** Imports active readers and gives the named ones a daily cadence from the start (as a signup choosing it would). */
async function readers(weekly: string[], daily: string[]) {
  await importActive(...weekly.map(addr), ...daily.map(addr));
  for (const who of daily)
    await env.DB.prepare("UPDATE subscribers SET cadence = 'daily' WHERE email = ?").bind(addr(who)).run();
}

const idOf = async (who: string) =>
  (await env.DB.prepare("SELECT id FROM subscribers WHERE email = ?").bind(addr(who)).first<{ id: number }>())!.id;

/** Sends an edition through the admin "send" and the digest consumer; returns who got it. */
async function send(key: string) {
  const { jobs } = await startHeld(key);
  if (jobs.length) await consume("papers-digest", jobs);
  const emails = await issueEmails(resend, key);
  return { emails, to: emails.flatMap((e) => e.to).sort(), rec: await record(key) };
}

/** The admin "send" again, with the queue held: what it would queue. */
async function resend_(key: string) {
  const hold = holdingQueue<DigestJob>();
  const res = await worker.fetch!(
    new Request(new URL(`/admin/digests/${key}/send`, BASE), { method: "POST", headers: ADMIN }) as never,
    { ...env, DIGEST_QUEUE: hold.queue },
    createExecutionContext(),
  );
  return { status: res.status, held: hold.held };
}

const paperIds = (html = "") => [
  ...new Set([...html.matchAll(/huggingface\.co\/papers\/([\w.]+)/g)].map((m) => m[1]!)),
];

describe("daily editions", () => {
  it("daily readers get the daily edition and not the weekly issue, and the other way round; pausing holds for both", async () => {
    await readers(["w0", "w1", "wp"], ["d0", "d1", "dp"]);
    const pausedUntil = Date.now() + 7 * 86_400_000;
    await env.DB.prepare("UPDATE subscribers SET paused_until = ? WHERE email IN (?, ?)")
      .bind(pausedUntil, addr("wp"), addr("dp"))
      .run();

    const weekly = await send("2025-W10");
    expect(weekly.to).toEqual(["w0", "w1"].map(addr).sort());
    expect(weekly.rec).toMatchObject({ status: "sent", recipients: 2 });

    const daily = await send("2025-03-04");
    expect(daily.to).toEqual(["d0", "d1"].map(addr).sort());
    expect(daily.rec).toMatchObject({ week: "2025-03-04", status: "sent", recipients: 2 });
    const e = daily.emails[0]!;
    expect(e.subject).toMatch(/, Tuesday 4 March: /);
    expect(e.html).toContain("The day's");
    expect(e.html).toContain("the daily digest of trending machine-learning papers");
    // Only that day's papers: every paper in the daily edition is among the week's, and there are fewer of them.
    const week = paperIds(weekly.emails[0]!.html);
    const day = paperIds(e.html);
    expect(day.length).toBeGreaterThan(0);
    expect(day.length).toBeLessThan(week.length + 1);

    // The operator's controls take a day as they take a week: paused, nothing goes out; cancelled, it ends.
    const { jobs } = await startHeld("2025-03-05");
    const control = (action: string) => call(`/admin/digests/2025-03-05/${action}`, { method: "POST", headers: ADMIN });
    const paused = await control("pause");
    expect(paused.status).toBe(200);
    expect(await paused.json()).toMatchObject({ week: "2025-03-05", status: "paused" });
    await consume("papers-digest", jobs);
    expect(await issueEmails(resend, "2025-03-05")).toHaveLength(0);
    expect((await control("cancel")).status).toBe(200);
    expect((await record("2025-03-05")).status).toBe("cancelled");

    // The run records and the list name both.
    const list = (await (await call("/admin/digests", { headers: ADMIN })).json()) as { issues: { week: string }[] };
    expect(list.issues.map((i) => i.week)).toEqual(expect.arrayContaining(["2025-W10", "2025-03-04"]));
  });

  it("the daily fan-out walks the daily readers' own index", async () => {
    const plan = await env.DB.prepare(
      `EXPLAIN QUERY PLAN SELECT id, email FROM subscribers WHERE ${receivesSql("daily")} AND id > ? AND (paused_until IS NULL OR paused_until <= ?) ORDER BY id LIMIT ?`,
    )
      .bind("2025-W10", 0, 0, 500)
      .all<{ detail: string }>();
    expect(plan.results.map((r) => r.detail).join(" ")).toMatch(/USING INDEX subscribers_daily_id/);
    const weeklyPlan = await env.DB.prepare(
      `EXPLAIN QUERY PLAN SELECT id FROM subscribers WHERE ${receivesSql("weekly")} AND id > ? ORDER BY id LIMIT ?`,
    )
      .bind("2025-W10", 0, 500)
      .all<{ detail: string }>();
    expect(weeklyPlan.results.map((r) => r.detail).join(" ")).toMatch(/USING INDEX subscribers_weekly_id/);
  });

  it("seven daily editions: no paper twice, quiet days skipped, a re-triggered day sends nothing new", async () => {
    await readers([], ["a", "b"]);
    const days = ["2025-03-10", "2025-03-11", "2025-03-12", "2025-03-13", "2025-03-14", "2025-03-15", "2025-03-16"];
    const got = new Map<string, string[]>();
    const papersOf = new Map<string, string[]>();
    for (const d of days) {
      const { emails, rec } = await send(d);
      papersOf.set(
        d,
        (rec.papers as { id: string }[]).map((p) => p.id),
      );
      if (d >= "2025-03-15") {
        // Saturday and Sunday have no papers: skipped, nothing sent.
        expect(rec.status, d).toBe("skipped");
        expect(emails).toHaveLength(0);
        continue;
      }
      expect(rec.status, d).toBe("sent");
      expect(emails.map((e) => e.to[0]).sort()).toEqual([addr("a"), addr("b")].sort());
      for (const m of emails) got.set(m.to[0]!, [...(got.get(m.to[0]!) ?? []), ...paperIds(m.html)]);
    }
    for (const [who, ids] of got) {
      expect(ids.length, who).toBeGreaterThan(20);
      expect(new Set(ids).size, `${who} got a paper twice`).toBe(ids.length);
    }
    // The paper listed on Wednesday and again on Thursday went out on Wednesday only.
    const wed = papersOf.get("2025-03-12")!;
    const again = papersOf.get("2025-03-13")!;
    expect(wed.filter((id) => again.includes(id))).toEqual([]);

    // Re-triggering a sent day and a skipped day queues nothing and sends nothing.
    const before = (await resend.emails()).length;
    for (const d of ["2025-03-12", "2025-03-15"]) {
      const r = await resend_(d);
      expect(r.status, d).toBeLessThan(500);
      expect(r.held, d).toEqual([]);
    }
    expect((await resend.emails()).length).toBe(before);

    // Weekly readers would still get the week's best, whatever the daily stream sent.
    await readers(["w"], []);
    const weekly = await send("2025-W11");
    expect(weekly.to).toEqual([addr("w")]);
    const weekIds = paperIds(weekly.emails[0]!.html);
    expect(weekIds.some((id) => wed.includes(id))).toBe(true);
  });

  it("switching cadence applies from the next ISO week: no paper twice, no day skipped; switching back cancels", async () => {
    await readers(["toDaily", "back"], ["toWeekly"]);
    const wednesday = Date.parse("2025-03-19T12:00:00Z"); // in 2025-W12
    const db = database(env.DB);
    expect(await setCadence(db, await idOf("toDaily"), "daily", wednesday)).toBe(true);
    expect(await setCadence(db, await idOf("toWeekly"), "weekly", wednesday)).toBe(true);
    expect(await setCadence(db, await idOf("back"), "daily", wednesday)).toBe(true);
    expect(await setCadence(db, await idOf("back"), "weekly", wednesday + 3_600_000)).toBe(true);
    expect(await setCadence(db, await idOf("back"), "weekly", wednesday)).toBe(false); // nothing to change
    const rows = await env.DB.prepare(
      "SELECT email, cadence, cadence_from FROM subscribers WHERE email LIKE ? ORDER BY email",
    )
      .bind(`dl-${run}-%`)
      .all<{ email: string; cadence: string; cadence_from: string | null }>();
    expect(Object.fromEntries(rows.results.map((r) => [r.email, [r.cadence, r.cadence_from]]))).toEqual({
      [addr("toDaily")]: ["daily", "2025-W13"],
      [addr("toWeekly")]: ["weekly", "2025-W13"],
      [addr("back")]: ["weekly", null],
    });

    // Week 12's papers: the weekly issue for those who were weekly then; daily editions for who was daily then.
    expect((await send("2025-W12")).to).toEqual([addr("back"), addr("toDaily")].sort());
    expect((await send("2025-03-20")).to).toEqual([addr("toWeekly")]);
    // Week 13's papers: the new cadences.
    expect((await send("2025-W13")).to).toEqual([addr("back"), addr("toWeekly")].sort());
    expect((await send("2025-03-24")).to).toEqual([addr("toDaily")]);

    // Housekeeping folds a switch two weeks old; the cadence stays what the reader chose.
    const folded = await prune(env.DB, Date.parse("2025-04-15T03:00:00Z"));
    expect(folded.cadenceSwitchesFolded).toBe(2);
    const after = await env.DB.prepare("SELECT COUNT(*) AS n FROM subscribers WHERE cadence_from IS NOT NULL").first();
    expect(after).toEqual({ n: 0 });
    expect((await send("2025-04-14")).to).toEqual([addr("toDaily")]);
  });

  it("the daily cron starts yesterday's edition only when someone reads daily", async () => {
    const cron = (at: string) => {
      const hold = holdingQueue<DigestJob>();
      const controller = createScheduledController({ cron: CRONS.daily, scheduledTime: Date.parse(at) });
      return { hold, done: runSchedule(controller, { ...env, DIGEST_QUEUE: hold.queue }) };
    };
    await readers(["w"], []);
    const none = cron("2025-03-26T08:00:00Z");
    await none.done;
    expect(none.hold.held).toEqual([]);
    expect((await call("/admin/digests/2025-03-25", { headers: ADMIN })).status).toBe(404);

    await readers([], ["d"]);
    const one = cron("2025-03-27T08:00:00Z");
    await one.done;
    expect(one.hold.held).toEqual([{ kind: "fanout", week: "2025-03-26", requeue: false }]);
    expect(await record("2025-03-26")).toMatchObject({ week: "2025-03-26", status: "building" });
  });

  it("the archive and the feeds list both cadences, each filterable", async () => {
    await readers(["w"], ["d"]);
    await send("2025-W14");
    await send("2025-04-01");
    const all = await (await call("/archive")).text();
    expect(all).toContain('href="/archive/2025-W14"');
    expect(all).toContain('href="/archive/2025-04-01"');
    const daily = await (await call("/archive?cadence=daily")).text();
    expect(daily).toContain('href="/archive/2025-04-01"');
    expect(daily).not.toContain('href="/archive/2025-W14"');
    const weekly = await (await call("/archive?cadence=weekly")).text();
    expect(weekly).not.toContain('href="/archive/2025-04-01"');
    const bad = await call("/archive?cadence=hourly");
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("weekly");

    const page = await call("/archive/2025-04-01");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Tuesday 1 April 2025");
    expect((await call("/archive/2025-02-30")).status).toBe(404);

    const dailyFeed = await (await call("/feed/daily.xml")).text();
    expect(dailyFeed).toContain("/archive/2025-04-01");
    expect(dailyFeed).not.toContain("/archive/2025-W14");
    for (const path of ["/feed.xml", "/feed/weekly.xml"]) {
      const f = await call(path);
      expect(f.headers.get("content-type")).toContain("application/atom+xml");
      const xml = await f.text();
      expect(xml).toContain("/archive/2025-W14");
      expect(xml).not.toContain("/archive/2025-04-01");
    }
  });
});
