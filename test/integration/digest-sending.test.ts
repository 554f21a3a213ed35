import { createExecutionContext, createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { config } from "../../src/config";
import { handleDigestJob } from "../../src/digest/consume";
import { startIssue } from "../../src/digest/issues";
import type { DigestJob } from "../../src/digest/jobs";
import worker from "../../src/index";
import {
  ADMIN,
  activeEmails,
  expectExactlyOnce,
  importActive,
  issueEmails,
  record,
  untilSettled,
} from "../support/digests";
import { BASE, call } from "../support/helpers";
import { consume, holdingQueue } from "../support/queues";
import { resendEmulator } from "../support/resend-emulator";

// The weekly digest end to end. This project's Worker sends through the Resend emulator (see vitest.config.ts), so
// the queues run for real: scheduled handler → fan-out message → batch messages → Resend batch endpoint.
// The operator's controls (preview, test send, pause, resume, cancel, the complaint breaker): digest-operations.test.ts.
const resend = resendEmulator(env.RESEND_API_KEY);

describe("weekly digest, end to end", () => {
  it("the Monday cron sends the week just ended to every active subscriber exactly once", async () => {
    await resend.reset();
    await importActive("w47-", 250);
    // Not mailed: unsubscribed, suppressed, paused, pending.
    await env.DB.prepare("UPDATE subscribers SET status = 'unsubscribed' WHERE email = 'w47-0@example.com'").run();
    await env.DB.prepare("UPDATE subscribers SET status = 'suppressed' WHERE email = 'w47-1@example.com'").run();
    await env.DB.prepare("UPDATE subscribers SET paused_until = ? WHERE email = 'w47-2@example.com'")
      .bind(Date.now() + 86_400_000)
      .run();
    await call("/api/subscribe", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "w47-pending@example.com" }),
    });
    const expected = await activeEmails();
    expect(expected).toHaveLength(247);

    await worker.scheduled!(
      createScheduledController({ cron: "0 8 * * 1", scheduledTime: Date.parse("2026-11-23T08:00:00Z") }),
      env,
      createExecutionContext(),
    );
    const rec = await untilSettled("2026-W47");
    expect(rec).toMatchObject({
      week: "2026-W47",
      status: "sent",
      recipients: 247,
      batches: 3,
      sent: 247,
      api_calls: 3,
      retries: 0,
      failures: 0,
    });
    expect(rec.rows_read).toBeGreaterThan(0);
    expect(rec.rows_written).toBeGreaterThan(0);
    expect(rec.started_at).toMatch(/^\d{4}-/);
    expect(rec.finished_at).toMatch(/^\d{4}-/);

    const emails = await issueEmails(resend, "2026-W47");
    expectExactlyOnce(emails, expected);
    const keys = new Set(emails.map((e) => e.idempotencyKey));
    expect([...keys].sort()).toEqual(["digest/2026-W47/1", "digest/2026-W47/2", "digest/2026-W47/3"]);
    const one = emails[0]!;
    expect(one.headers["List-Unsubscribe"]).toMatch(/^<http:\/\/127\.0\.0\.1:8787\/unsubscribe\/[\w-]+\.[\w-]+>$/);
    expect(one.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    expect(one.html).toContain(one.headers["List-Unsubscribe"]!.slice(1, -1));
    expect(one.html).not.toContain("{{");
    expect(one.subject).toMatch(/^Trending Papers, week 47: /);

    // The unsubscribe link in the digest works with a one-click POST.
    const unsub = one.headers["List-Unsubscribe"]!.slice(1, -1);
    const res = await call(unsub, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(res.status).toBe(200);

    // The archive shows the issue without personal links.
    const page = await (await call("/archive/2026-W47")).text();
    expect(page).not.toContain("/unsubscribe/");
    expect(page).toContain(JSON.parse(JSON.stringify(rec.papers))[0].title.slice(0, 20));
    const feed = await (await call("/feed.xml")).text();
    expect(feed).toContain("<id>http://127.0.0.1:8787/archive/2026-W47</id>");
  });

  it("triggering the same week again sends nothing new", async () => {
    const before = await issueEmails(resend, "2026-W47");
    // Whatever a re-trigger queues is caught here: a sent week must queue nothing at all.
    const hold = holdingQueue<DigestJob>();
    const rec = await startIssue({ ...env, DIGEST_QUEUE: hold.queue }, "2026-W47");
    expect(rec.status).toBe("sent");
    const again = await worker.fetch!(
      new Request(`${BASE}/admin/digests/2026-W47/send`, { method: "POST", headers: ADMIN }) as never,
      { ...env, DIGEST_QUEUE: hold.queue },
      createExecutionContext(),
    );
    expect(again.status).toBe(202);
    expect(hold.held).toEqual([]);
    // And a fan-out message delivered anyway (a stray duplicate) cuts and sends nothing.
    await consume("papers-digest", [{ kind: "fanout", week: "2026-W47", requeue: true }]);
    expect((await issueEmails(resend, "2026-W47")).length).toBe(before.length);
    expect((await record("2026-W47")).api_calls).toBe(3);
  });

  it("skips papers already sent and records a week with nothing new as skipped", async () => {
    // The bundled sample gives each week its own papers; a week whose papers all went out earlier is skipped.
    await env.DB.prepare("UPDATE issues SET papers = ? WHERE week = '2026-W47'")
      .bind(
        JSON.stringify(
          (await import("../../src/papers/sample"))
            .sampleItems({ year: 2026, week: 46 })
            .map((i) => ({ id: (i as { paper: { id: string } }).paper.id })),
        ),
      )
      .run();
    await startIssue(env, "2026-W46");
    const rec = await untilSettled("2026-W46");
    expect(rec.status).toBe("skipped");
    expect(rec.sent).toBe(0);
    expect(await issueEmails(resend, "2026-W46")).toHaveLength(0);
  });

  it("Resend answering 30 % 429 and 10 % 500 (half of them after sending): every subscriber still gets it exactly once", async () => {
    await resend.reset();
    await importActive("w45-", 1000);
    // One of each fault for certain first (a 500 after sending: a lost answer), then the seeded mix.
    await resend.configure({
      faults: [{ status: 500, after: true }, { status: 429, retryAfter: 1 }, { status: 500 }],
      random: { p429: 0.3, p500: 0.05, p500After: 0.05, seed: 45 },
    });
    const expected = await activeEmails();
    await startIssue(env, "2026-W45");
    const rec = await untilSettled("2026-W45", 55_000);
    await resend.configure({ random: null });
    expect(rec.status).toBe("sent");
    expect(rec.failures).toBe(0);
    expect(rec.retries).toBeGreaterThan(0);
    expect(rec.sent).toBe(expected.length);
    expectExactlyOnce(await issueEmails(resend, "2026-W45"), expected);
    expect((await resend.stats()).replays).toBeGreaterThan(0); // the lost answer was resent under its key, not sent twice
  });

  it("a Worker killed mid fan-out and re-triggered finishes without resending", async () => {
    await resend.reset();
    const expected = await activeEmails();
    const cfg = config(env);
    // A queue that dies after queuing two batch messages: the first fan-out invocation is cut off mid-way,
    // after recording batches whose messages never left.
    let sends = 0;
    const dying = {
      send: () => Promise.reject(new Error("worker killed")),
      sendBatch: async (msgs: { body: unknown }[]) => {
        for (const m of msgs) {
          if (++sends > 2) throw new Error("worker killed");
          await env.DIGEST_QUEUE.send(m.body as never);
        }
      },
    };
    await env.DB.prepare("INSERT INTO issues (week, status, started_at) VALUES ('2026-W44', 'building', ?)")
      .bind(Date.now())
      .run();
    await expect(
      handleDigestJob({ kind: "fanout", week: "2026-W44" }, 1, { ...env, DIGEST_QUEUE: dying as never }, cfg),
    ).rejects.toThrow("worker killed");
    const mid = await record("2026-W44");
    expect(mid.status).toBe("sending");
    expect(mid.batches).toBeGreaterThan(2);

    // Re-trigger (what the operator or the queue's own retry does).
    await startIssue(env, "2026-W44");
    const rec = await untilSettled("2026-W44");
    expect(rec).toMatchObject({ status: "sent", failures: 0, sent: expected.length });
    expectExactlyOnce(await issueEmails(resend, "2026-W44"), expected);
    const stats = await resend.stats();
    for (const [key, s] of Object.entries(stats.byIdempotencyKey))
      if (key.startsWith("digest/2026-W44/")) expect(s.accepted).toBeLessThanOrEqual(100);
  });

  it("a permanent Resend error is recorded and not retried forever", async () => {
    await resend.reset();
    await resend.configure({ faults: [{ status: 422, name: "validation_error", message: "Invalid `from` field." }] });
    await startIssue(env, "2026-W43");
    const rec = await untilSettled("2026-W43");
    expect(rec.failures).toBe(1);
    expect(rec.last_error).toContain("validation_error");
    expect(rec.api_calls).toBe(rec.batches);
  });
});
