/**
 * The seeded world of the hostile-input suites (test/integration/hostile-*.test.ts): real subscribers signed up
 * through the API and confirmed through the links in their emails (one paused, one unsubscribed, one pending), one
 * issue sent through the queues, webhook history. Each file seeds its own (storage is per test file) and sends
 * generated requests (fast-check) to the real Worker with the real local D1 and queues. For every request:
 *  - never a 5xx; the status is one the route gives for that kind of input; a 4xx is well formed (responses.ts);
 *  - nothing changed: every table (state.ts) is identical before and after each property, and at the end identical
 *    to the state right after seeding. That includes the 2xx answers given by design (pages, honeypot and bot-trap
 *    "successes", lookups, previews): no generated request is one that is meant to be accepted.
 * Files end with their controls: the genuine versions of their requests, whose changes the same comparison sees.
 */
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { expect } from "vitest";
import worker from "../../../src/index";
import { type Purpose, signToken } from "../../../src/lib/tokens";
import { formatWeek, previousWeek } from "../../../src/lib/week";
import { BASE, call, firstLink, type OutboxRow, outboxFor, subscribeJson, subscriberRow } from "../helpers";
import { waitFor } from "../poll";
import { svixHeaders, webhookSecret } from "../svix";
import { REQUIRED, totalAll } from "./runs";
import { diff, expectUnchanged, type State, settle, snapshot, TABLES } from "./state";

export const DAY = 24 * 3600 * 1000;
/** The Worker's own secret (set by vitest.config.ts), to mint genuine tokens and well-formed forgeries. */
export const SECRET = env.TOKEN_SECRET ?? "";
export const ADMIN_TOKEN = env.ADMIN_TOKEN ?? "";
export const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };
/** The week the seeded issue is sent for: the last one that has ended. */
export const WEEK = formatWeek(previousWeek(new Date()));
export const NONEXISTENT_ID = 987_654;
/** Per-test timeout of the hostile suites. */
export const T = 110_000;

/** A subscriber's link key and latest confirmation time: what their genuine links are signed with. */
export const linkOf = async (sub: number) =>
  (await env.DB.prepare("SELECT link_key, confirm_sent_at FROM subscribers WHERE id = ?")
    .bind(sub)
    .first<{ link_key: string; confirm_sent_at: number | null }>()) ?? { link_key: "", confirm_sent_at: null };

/** The token a subscriber's genuine link for `purpose` carries. */
export const genuine = async (purpose: Purpose, sub: number, now = Date.now()) => {
  const l = await linkOf(sub);
  const iat = l.confirm_sent_at ?? now;
  return signToken(
    SECRET,
    purpose,
    purpose === "confirm" ? { sub, iat, exp: iat + 7 * DAY } : { sub, iat: 0, exp: 0 },
    l.link_key,
  );
};

/** Every route, with the methods it answers (CONFIRM, UNSUBSCRIBE, MANAGE and WEEK are filled in by realPath). */
export const ROUTES: { path: string; methods: string[]; admin?: boolean }[] = [
  { path: "/", methods: ["GET"] },
  { path: "/form", methods: ["GET"] },
  { path: "/thanks", methods: ["GET"] },
  { path: "/embed.js", methods: ["GET"] },
  { path: "/health", methods: ["GET"] },
  { path: "/archive", methods: ["GET"] },
  { path: "/archive/WEEK", methods: ["GET"] },
  { path: "/feed.xml", methods: ["GET"] },
  { path: "/api/subscribe", methods: ["POST", "OPTIONS"] },
  { path: "/api/topics", methods: ["GET", "OPTIONS"] },
  { path: "/confirm/CONFIRM", methods: ["GET", "POST"] },
  { path: "/unsubscribe/UNSUBSCRIBE", methods: ["GET", "POST"] },
  { path: "/manage/MANAGE", methods: ["GET", "POST"] },
  { path: "/manage/MANAGE/data.json", methods: ["GET"] },
  { path: "/webhooks/resend", methods: ["POST"] },
  { path: "/admin", methods: ["GET"] },
  { path: "/admin/sign-in", methods: ["GET", "POST"] },
  { path: "/admin/sign-out", methods: ["POST"] },
  { path: "/admin/issues", methods: ["GET"] },
  { path: "/admin/issues/WEEK", methods: ["GET"] },
  { path: "/admin/readers", methods: ["GET"] },
  { path: "/admin/readers/imports/1", methods: ["GET"] },
  { path: "/admin/readers/imports/1/rejected.csv", methods: ["GET"] },
  { path: "/admin/stats", methods: ["GET"], admin: true },
  { path: "/admin/subscribers?email=seed-active%40example.com", methods: ["GET"], admin: true },
  { path: `/admin/subscribers/${NONEXISTENT_ID}`, methods: ["DELETE"], admin: true },
  { path: "/admin/subscribers/import", methods: ["POST"], admin: true },
  { path: "/admin/subscribers/export", methods: ["GET"], admin: true },
  { path: "/admin/digests", methods: ["GET"], admin: true },
  { path: "/admin/digests/WEEK", methods: ["GET"], admin: true },
  { path: "/admin/digests/WEEK/preview", methods: ["GET"], admin: true },
  { path: "/admin/digests/WEEK/test", methods: ["POST"], admin: true },
  { path: "/admin/digests/WEEK/send", methods: ["POST"], admin: true },
  { path: "/admin/digests/WEEK/pause", methods: ["POST"], admin: true },
  { path: "/admin/digests/WEEK/resume", methods: ["POST"], admin: true },
  { path: "/admin/digests/WEEK/cancel", methods: ["POST"], admin: true },
  { path: "/dev/outbox", methods: ["GET"] },
  { path: "/dev/outbox.json", methods: ["GET"] },
  { path: "/dev/outbox/1", methods: ["GET"] },
  { path: "/dev/outbox/1/html", methods: ["GET"] },
];

export type SeedName = "active" | "active2" | "paused" | "pending" | "unsubscribed";
export type Seed = { id: number; email: string; status: string };
export const SEED_NAMES: SeedName[] = ["active", "active2", "paused", "pending", "unsubscribed"];

/** Waits until an email to `to` whose text carries `path` is in the local outbox. */
export const mailOf = (to: string, path: string) =>
  waitFor(
    `${path} mail to ${to}`,
    async () => (await outboxFor(to)).find((m) => m.text.includes(path)),
    Boolean,
    45_000,
  ) as Promise<OutboxRow>;

/** One file's world: seed it in beforeAll, run properties against it, end with `expectComplete`. */
export function hostileWorld() {
  /** The Resend webhook secret of this world (the default test env has none: the route is then a 404). */
  const secret = webhookSecret();
  const hookEnv = { ...env, RESEND_WEBHOOK_SECRET: secret } as Env;
  let seeds: Record<SeedName, Seed> | undefined;
  let baseline: State | undefined;
  const counts: Record<string, number> = {};

  /** Posts a webhook to the Worker configured with this world's secret. */
  const hook = (req: Request) => worker.fetch!(req as never, hookEnv, createExecutionContext());
  /** Svix headers for `payload`, signed with this world's secret (or another). */
  const signed = (id: string, payload: string, when = new Date(), withSecret = secret) =>
    svixHeaders(withSecret, id, payload, when);
  const postHook = async (id: string, payload: string) =>
    hook(new Request(`${BASE}/webhooks/resend`, { method: "POST", body: payload, headers: await signed(id, payload) }));

  async function seed() {
    expect(SECRET.length).toBeGreaterThanOrEqual(32);
    expect(ADMIN_TOKEN.length).toBeGreaterThanOrEqual(16);
    for (const n of SEED_NAMES) expect((await subscribeJson(`seed-${n}@example.com`)).status).toBe(202);
    for (const n of SEED_NAMES.filter((n) => n !== "pending")) {
      const mail = await mailOf(`seed-${n}@example.com`, "/confirm/");
      const res = await call(new URL(firstLink(mail.text, "/confirm/")).pathname, { method: "POST" });
      expect(res.status).toBe(200);
      const page = await res.text();
      if (n === "paused") {
        const manage = new URL(firstLink(page, "/manage/")).pathname;
        const paused = await call(manage, {
          method: "POST",
          body: new URLSearchParams({ action: "pause", weeks: "3" }),
          headers: { "content-type": "application/x-www-form-urlencoded" },
        });
        expect(paused.status).toBe(200);
      }
      if (n === "unsubscribed") {
        const welcome = await mailOf(`seed-${n}@example.com`, "/unsubscribe/");
        const res = await call(new URL(firstLink(welcome.text, "/unsubscribe/")).pathname, {
          method: "POST",
          body: "List-Unsubscribe=One-Click",
          headers: { "content-type": "application/x-www-form-urlencoded" },
        });
        expect(res.status).toBe(200);
      }
    }
    // One issue, sent through the queues to the active subscribers.
    const send = await call(`/admin/digests/${WEEK}/send`, { method: "POST", headers: ADMIN });
    expect(send.status).toBe(202);
    await waitFor(`issue ${WEEK} sent`, async () => {
      const r = await call(`/admin/digests/${WEEK}`, { headers: ADMIN });
      return r.status === 200 && ((await r.json()) as { status: string }).status === "sent";
    });
    // Webhook history: a delivery of that issue and a hard bounce of an address that is not a subscriber.
    const delivered = JSON.stringify({
      type: "email.delivered",
      created_at: new Date().toISOString(),
      data: { to: ["seed-active@example.com"], tags: { issue: WEEK } },
    });
    expect((await postHook("msg_seed_delivered", delivered)).status).toBe(200);
    const bounced = JSON.stringify({
      type: "email.bounced",
      created_at: new Date().toISOString(),
      data: { to: ["seed-bounced@example.org"], bounce: { type: "Permanent" } },
    });
    expect((await postHook("msg_seed_bounced", bounced)).status).toBe(200);
    // Every email the seeding queued has landed (welcome for each confirmed address, the digest for the active ones).
    for (const n of ["active", "active2", "paused", "unsubscribed"]) await mailOf(`seed-${n}@example.com`, "/manage/");
    await settle(500);

    const rows = {} as Record<SeedName, Seed>;
    for (const n of SEED_NAMES) {
      const row = (await subscriberRow(`seed-${n}@example.com`))!;
      rows[n] = { id: Number(row.id), email: String(row.email), status: String(row.status) };
    }
    expect(rows.active.status).toBe("active");
    expect(rows.paused.status).toBe("active");
    expect(rows.pending.status).toBe("pending");
    expect(rows.unsubscribed.status).toBe("unsubscribed");
    const state = await snapshot();
    for (const t of TABLES) expect(state[t].length, `seeded rows in ${t}`).toBeGreaterThan(0);
    expect(state.issues.find((r) => r.week === WEEK)?.status).toBe("sent");
    seeds = rows;
    baseline = state;
  }

  const atBaseline = async () => {
    const now = await snapshot();
    expect(diff(baseline!, now), "state before the property").toEqual([]);
    return now;
  };

  return {
    seed,
    hook,
    signed,
    postHook,
    get seeds(): Record<SeedName, Seed> {
      if (!seeds) throw new Error("the world is not seeded (beforeAll(world.seed))");
      return seeds;
    },
    /** A route of ROUTES with its placeholders filled in: genuine links of `who`, the seeded week. */
    async realPath(p: string, who = seeds!.active.id) {
      return p
        .replace("CONFIRM", await genuine("confirm", who))
        .replace("UNSUBSCRIBE", await genuine("unsubscribe", who))
        .replace("MANAGE", await genuine("manage", who))
        .replace("WEEK", WEEK);
    },

    /** Runs one property, counting its cases, with the state compared before and after. */
    async property<T>(name: string, arb: fc.Arbitrary<T>, runs: number, run: (v: T) => Promise<void>) {
      const before = await atBaseline();
      await fc.assert(
        fc.asyncProperty(arb, async (v) => {
          counts[name] = (counts[name] ?? 0) + 1;
          try {
            await run(v);
          } catch (err) {
            // A case skipped by fc.pre (not a hostile one after all) sent nothing: it does not count.
            if (fc.PreconditionFailure.isFailure(err)) counts[name]!--;
            throw err;
          }
        }),
        { numRuns: runs },
      );
      await expectUnchanged(before);
    },

    /** Fixed cases: `fn` sends them; the state must not change. */
    async unchanged(fn: () => Promise<void>) {
      const before = await atBaseline();
      await fn();
      await expectUnchanged(before);
    },

    /**
     * A deliberate change (a control, or a real signup to compare answers with): runs `fn`, lets the queues
     * settle, and takes the state it leaves as the new baseline. Returns the changes and what `fn` returned.
     */
    async changes<R>(fn: () => Promise<R>) {
      const before = await atBaseline();
      const result = await fn();
      // Mail it queued may wait up to the mail queue's max_batch_timeout (2 s) before its consumer runs.
      await settle(2_500);
      const after = await snapshot();
      baseline = after;
      return { changes: diff(before, after), result };
    },

    /** Every property of the file ran at least its cases, and the state is the one the seeding (and changes) left. */
    async expectComplete(runs: Record<string, number>) {
      console.log(`hostile: generated cases`, counts);
      for (const [name, n] of Object.entries(runs)) expect(counts[name] ?? 0, name).toBeGreaterThanOrEqual(n);
      expect(totalAll()).toBeGreaterThanOrEqual(REQUIRED);
      await settle();
      expect(diff(baseline!, await snapshot())).toEqual([]);
    },
  };
}
