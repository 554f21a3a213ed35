/**
 * Rating links (issue 10): /rate/<token>?w=<week>&p=<paper>&d=more|less. The GET shows one button and changes nothing;
 * the POST records the rating (the last one counts) into the reader's taste; export and erasure cover ratings, topics
 * and taste. Readers and issues are written straight into D1; every request goes through the real Worker.
 */
import { createExecutionContext, createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { config } from "../../src/config";
import { RATE_ATTEMPTS, recordRating } from "../../src/digest/ratings";
import { parseTaste, pickForYou, score, type Taste } from "../../src/digest/taste";
import worker from "../../src/index";
import { manageUrl, rateBase, rateUrl, unsubscribeUrl } from "../../src/lib/links";
import { call } from "../support/helpers";

const cfg = config(env);
const WEEK = "2026-W40";
const OLD_WEEK = "2026-W20";
const BUILDING_WEEK = "2026-W41";
const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}` };

const paper = (id: string, topics: string[], keywords: string[], upvotes = 10) => ({
  id,
  title: `Paper ${id}: <b>${topics.join("+")}</b>`,
  summary: "An abstract.",
  authors: ["A. Author"],
  upvotes,
  numComments: 0,
  publishedAt: null,
  submittedOnDailyAt: null,
  withdrawn: false,
  githubRepo: null,
  githubStars: null,
  projectPage: null,
  keywords,
  tldr: null,
  topics,
});

const DIFFUSION = ["2609.00001", "2609.00002", "2609.00003"].map((id) =>
  paper(id, ["generation"], ["diffusion models", "image synthesis"], 90),
);
const ROBOTICS = ["2609.00011", "2609.00012"].map((id) => paper(id, ["robotics"], ["manipulation", "sim-to-real"], 5));
const TOP = [...DIFFUSION, ROBOTICS[0]!];
const POOL = [ROBOTICS[1]!, paper("2609.00021", ["language-models"], ["reasoning"]), paper("2609.00099", [], [])];
// Next week's candidates: a diffusion paper far more upvoted than a robotics one.
const NEXT_DIFFUSION = paper("2610.00001", ["generation"], ["diffusion models", "video generation"], 400);
const NEXT_ROBOTICS = paper("2610.00002", ["robotics"], ["manipulation", "grasping"], 3);

let nextReader = 0;

/** An active reader written straight into D1, with the links their digest would carry. */
async function reader(opts: { status?: string; topics?: string[]; pausedUntil?: number } = {}) {
  const n = ++nextReader;
  const email = `rater${n}@example.com`;
  const linkKey = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
  const now = Date.now();
  const row = await env.DB.prepare(
    `INSERT INTO subscribers (email, email_key, status, source, created_at, consent_at, confirmed_at, link_key, topics, paused_until)
     VALUES (?1, ?1, ?2, 'api', ?3, ?3, ?3, ?4, ?5, ?6) RETURNING id`,
  )
    .bind(
      email,
      opts.status ?? "active",
      now,
      linkKey,
      opts.topics ? JSON.stringify(opts.topics) : null,
      opts.pausedUntil ?? null,
    )
    .first<{ id: number }>();
  const who = { id: row!.id, linkKey };
  const base = await rateBase(cfg, who);
  return {
    ...who,
    email,
    base,
    link: (paperId: string, d: "more" | "less", week = WEEK) => rateUrl(base, week, paperId, d),
    manage: await manageUrl(cfg, who),
    unsubscribe: await unsubscribeUrl(cfg, who),
  };
}
type Reader = Awaited<ReturnType<typeof reader>>;

/** Presses the page's button: a form post of w, p and d to the token's URL. */
const press = (r: Reader, paperId: string, d: string, week = WEEK) => post(r.base, { w: week, p: paperId, d });

const post = (url: string, fields: Record<string, string>) =>
  call(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html" },
    body: new URLSearchParams(fields).toString(),
  });

const stored = async (id: number) => {
  const row = await env.DB.prepare("SELECT taste, status FROM subscribers WHERE id = ?")
    .bind(id)
    .first<{ taste: string | null; status: string }>();
  const { results } = await env.DB.prepare(
    "SELECT paper_id, direction, week, at FROM ratings WHERE subscriber_id = ? ORDER BY paper_id",
  )
    .bind(id)
    .all<{ paper_id: string; direction: number; week: string; at: number }>();
  return { taste: row?.taste ?? null, status: row?.status, ratings: results };
};

/** A taste as plain data (parseTaste's records have no prototype), for toEqual. */
const plain = (t: Taste) => JSON.parse(JSON.stringify(t));
const tasteOf = async (id: number) => plain(parseTaste((await stored(id)).taste));

async function insertIssue(week: string, status: string, papers: unknown[] | null, pool: unknown[] | null) {
  await env.DB.prepare(
    "INSERT INTO issues (week, status, subject, papers, pool, html, text, started_at) VALUES (?, ?, 's', ?, ?, '', '', 0)",
  )
    .bind(week, status, papers && JSON.stringify(papers), pool && JSON.stringify(pool))
    .run();
}

beforeAll(async () => {
  await insertIssue(WEEK, "sent", TOP, POOL);
  // An issue stored before papers had keywords, topics or a pool.
  const legacy = TOP.map(({ keywords: _k, topics: _t, tldr: _s, ...rest }) => rest);
  await insertIssue(OLD_WEEK, "sent", legacy, null);
  await insertIssue(BUILDING_WEEK, "building", TOP, POOL);
});

describe("the rating page (GET)", () => {
  it("shows the paper, what the rating changes and one button posting the same values, and changes nothing", async () => {
    const r = await reader();
    await press(r, DIFFUSION[1]!.id, "less"); // something stored already, which the GET must leave alone
    const before = await stored(r.id);

    for (const d of ["more", "less"] as const) {
      const res = await call(r.link(ROBOTICS[0]!.id, d));
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/html");
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      const page = await res.text();
      expect(page).toContain("Paper 2609.00011: &lt;b&gt;robotics&lt;/b&gt;"); // paper text is escaped
      expect(page).toContain(
        d === "more"
          ? "You&#39;ll see more papers like this in your For you section."
          : "You&#39;ll see fewer papers like this in your For you section.",
      );
      expect(page.match(/<form/g)).toHaveLength(1);
      expect(page.match(/<button/g)).toHaveLength(1);
      expect(page).toContain(`<form method="post" action="${r.base}">`);
      expect(page).toContain(`name="w" value="${WEEK}"`);
      expect(page).toContain(`name="p" value="${ROBOTICS[0]!.id}"`);
      expect(page).toContain(`name="d" value="${d}"`);
      expect(page).not.toMatch(/<script/i);
      expect(page).not.toContain("/manage/"); // a rating link hands out nothing more powerful than itself
    }
    // A HEAD, a JSON Accept, a prefetch: still nothing.
    await call(r.link(ROBOTICS[0]!.id, "more"), { method: "HEAD" });
    await call(r.link(ROBOTICS[0]!.id, "more"), { headers: { accept: "application/json", purpose: "prefetch" } });
    expect(await stored(r.id)).toEqual(before);
  });

  it("says when the button would change nothing, or replace an earlier rating", async () => {
    const r = await reader();
    await press(r, ROBOTICS[0]!.id, "more");
    expect(await (await call(r.link(ROBOTICS[0]!.id, "more"))).text()).toContain("already rated this paper this way");
    expect(await (await call(r.link(ROBOTICS[0]!.id, "less"))).text()).toContain(
      "replaces your earlier “more like this”",
    );
  });

  it("works for papers of the issue's pool and for issues stored before papers had topics", async () => {
    const r = await reader();
    expect((await call(r.link(POOL[0]!.id, "more"))).status).toBe(200);
    expect((await call(r.link(TOP[0]!.id, "less", OLD_WEEK))).status).toBe(200);
  });
});

describe("recording a rating (POST)", () => {
  it("records the rating and moves the taste by the paper's topics and keywords", async () => {
    const r = await reader();
    const res = await press(r, ROBOTICS[0]!.id, "more");
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain("Noted: more like this");
    expect(page).toContain("Robotics and embodied AI");
    expect(page).toContain("manipulation and sim-to-real");
    expect(page).toContain("rank higher");

    const s = await stored(r.id);
    expect(s.ratings).toEqual([{ paper_id: ROBOTICS[0]!.id, direction: 1, week: WEEK, at: expect.any(Number) }]);
    const taste = parseTaste(s.taste);
    expect(plain(taste).t).toEqual({ robotics: 1 });
    expect(Object.values(taste.k)).toEqual([0.5, 0.5]);
  });

  it("rating twice the same way counts once: the second POST changes nothing", async () => {
    const r = await reader();
    expect((await press(r, ROBOTICS[1]!.id, "more")).status).toBe(200);
    const once = await stored(r.id);
    const again = await press(r, ROBOTICS[1]!.id, "more");
    expect(again.status).toBe(200);
    expect(await again.text()).toContain("nothing changed");
    expect(await stored(r.id)).toEqual(once); // taste, direction, week and time all as after the first
  });

  it("changing one's mind flips the effect: more then less is the same as less alone", async () => {
    const flipped = await reader();
    expect((await press(flipped, DIFFUSION[0]!.id, "more")).status).toBe(200);
    const res = await press(flipped, DIFFUSION[0]!.id, "less");
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain("Noted: less like this");
    expect(page).toContain("replaces your earlier “more like this”");
    expect(page).toContain("rank lower");

    const direct = await reader();
    expect((await press(direct, DIFFUSION[0]!.id, "less")).status).toBe(200);
    expect(await tasteOf(flipped.id)).toEqual(await tasteOf(direct.id));
    expect(plain(await tasteOf(flipped.id)).t).toEqual({ generation: -1 });
    expect((await stored(flipped.id)).ratings).toMatchObject([{ paper_id: DIFFUSION[0]!.id, direction: -1 }]);
  });

  it("a paper with nothing to learn from is recorded and the page says the section stays as it was", async () => {
    const r = await reader();
    for (const [id, week] of [
      [POOL[2]!.id, WEEK],
      [TOP[0]!.id, OLD_WEEK],
    ] as const) {
      const res = await press(r, id, "more", week);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("no topics or keywords to learn from");
    }
    const s = await stored(r.id);
    expect(s.ratings.map((x) => [x.paper_id, x.week])).toEqual([
      [TOP[0]!.id, OLD_WEEK],
      [POOL[2]!.id, WEEK],
    ]);
    expect(plain(parseTaste(s.taste))).toEqual({ v: 1, t: {}, k: {} });
  });

  it("five identical POSTs at once leave the taste of one rating", async () => {
    const r = await reader();
    const answers = await Promise.all(Array.from({ length: 5 }, () => press(r, ROBOTICS[0]!.id, "more")));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    const single = await reader();
    await press(single, ROBOTICS[0]!.id, "more");
    expect(await tasteOf(r.id)).toEqual(await tasteOf(single.id));
    expect((await stored(r.id)).ratings).toHaveLength(1);
  });

  it("five different ratings at once all land: none is lost to another", async () => {
    const r = await reader();
    const ids = [...DIFFUSION.map((p) => p.id), ...ROBOTICS.map((p) => p.id)];
    const answers = await Promise.all(ids.map((id, i) => press(r, id, i < 3 ? "less" : "more")));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    const one = await reader();
    for (const [i, id] of ids.entries()) await press(one, id, i < 3 ? "less" : "more");
    expect(await tasteOf(r.id)).toEqual(await tasteOf(one.id));
    expect((await stored(r.id)).ratings).toHaveLength(5);
  });

  /** env.DB, with `before` run ahead of each batch (up to `times`): another request's write, landing mid-rating. */
  function racing(before: () => Promise<unknown>, times = 1): D1Database {
    let left = times;
    return new Proxy(env.DB, {
      get(target, key) {
        if (key === "batch")
          return async (statements: D1PreparedStatement[]) => {
            if (left-- > 0) await before();
            return target.batch(statements);
          };
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }

  it("a rating that loses a race reads again and lands on top of the winner", async () => {
    const r = await reader();
    const winner = () => recordRating(env.DB, r.id, ROBOTICS[0]!, WEEK, 1);
    expect(await recordRating(racing(winner), r.id, DIFFUSION[0]!, WEEK, -1)).toEqual({
      kind: "rated",
      previous: null,
      changed: true,
    });
    const sequential = await reader();
    await press(sequential, ROBOTICS[0]!.id, "more");
    await press(sequential, DIFFUSION[0]!.id, "less");
    expect(await tasteOf(r.id)).toEqual(await tasteOf(sequential.id));
  });

  it("the guard also covers the paper's own rating: one recorded meanwhile is read again", async () => {
    const r = await reader();
    // Another request recorded "less" on this very paper (a paper with nothing to learn: the taste text is unchanged).
    const meanwhile = () => recordRating(env.DB, r.id, { ...POOL[2]!, title: "" }, WEEK, -1);
    expect(await recordRating(racing(meanwhile), r.id, { ...POOL[2]!, title: "" }, WEEK, -1)).toEqual({
      kind: "rated",
      previous: -1,
      changed: false,
    });
    expect((await stored(r.id)).ratings).toMatchObject([{ paper_id: POOL[2]!.id, direction: -1 }]);
  });

  it("a rating that loses every race writes nothing and says so", async () => {
    const r = await reader();
    let flip: 1 | -1 = 1;
    const others = () => {
      flip = flip === 1 ? -1 : 1;
      return recordRating(env.DB, r.id, ROBOTICS[1]!, WEEK, flip);
    };
    const outcome = await recordRating(racing(others, RATE_ATTEMPTS), r.id, DIFFUSION[1]!, WEEK, 1);
    expect(outcome).toEqual({ kind: "busy" });
    expect((await stored(r.id)).ratings.map((x) => x.paper_id)).toEqual([ROBOTICS[1]!.id]);
  });

  it("a paused reader still rates", async () => {
    const r = await reader({ pausedUntil: Date.now() + 14 * 86_400_000 });
    expect((await press(r, ROBOTICS[0]!.id, "more")).status).toBe(200);
    expect((await stored(r.id)).ratings).toHaveLength(1);
  });
});

describe("links that do not rate", () => {
  it("a paper not in the issue, a week without a mailed issue: 404 pages", async () => {
    const r = await reader();
    const cases = [
      [WEEK, "2609.99999"], // not in that issue
      [WEEK, NEXT_ROBOTICS.id],
      ["2026-W39", ROBOTICS[0]!.id], // no issue that week
      [BUILDING_WEEK, ROBOTICS[0]!.id], // not mailed yet
    ] as const;
    for (const [week, id] of cases) {
      const get = await call(r.link(id, "more", week));
      expect(get.status, `GET ${week} ${id}`).toBe(404);
      expect(get.headers.get("content-type")).toContain("text/html");
      expect(await get.text()).toContain("Paper not found");
      expect((await press(r, id, "more", week)).status, `POST ${week} ${id}`).toBe(404);
    }
    expect((await stored(r.id)).ratings).toEqual([]);
  });

  it("a bad direction, week or paper: 400 pages", async () => {
    const r = await reader();
    const p = ROBOTICS[0]!.id;
    const cases: Record<string, string>[] = [
      { w: WEEK, p, d: "up" },
      { w: WEEK, p, d: "MORE" },
      { w: WEEK, p },
      { w: "2026-W60", p, d: "more" },
      { w: "2026-40", p, d: "more" },
      { p, d: "more" },
      { w: WEEK, d: "more" },
      { w: WEEK, p: "", d: "less" },
    ];
    for (const fields of cases) {
      const get = await call(`${r.base}?${new URLSearchParams(fields)}`);
      expect(get.status, `GET ${JSON.stringify(fields)}`).toBe(400);
      expect(await get.text()).toContain("This rating link is not complete");
      expect((await post(r.base, fields)).status, `POST ${JSON.stringify(fields)}`).toBe(400);
    }
    expect((await stored(r.id)).ratings).toEqual([]);
  });

  it("tampered tokens and tokens of other purposes are invalid, both ways", async () => {
    const r = await reader();
    const token = r.base.split("/rate/")[1]!;
    const flipped = token.slice(0, -2) + (token.at(-2) === "A" ? "B" : "A") + token.at(-1);
    const unsubToken = r.unsubscribe.split("/unsubscribe/")[1]!;
    const manageToken = r.manage.split("/manage/")[1]!;
    for (const t of [flipped, unsubToken, manageToken, "x", `${token}x`]) {
      const url = `/rate/${t}?w=${WEEK}&p=${ROBOTICS[0]!.id}&d=more`;
      const get = await call(url);
      expect(get.status).toBe(400);
      expect(await get.text()).toContain("This link is not valid");
      expect((await press({ ...r, base: `/rate/${t}` }, ROBOTICS[0]!.id, "more")).status).toBe(400);
    }
    // A rate token cannot unsubscribe (nor manage).
    expect((await call(`/unsubscribe/${token}`)).status).toBe(400);
    expect((await post(`/unsubscribe/${token}`, { "List-Unsubscribe": "One-Click" })).status).toBe(400);
    expect((await post(`/manage/${token}`, { action: "unsubscribe" })).status).toBe(400);
    expect(await stored(r.id)).toMatchObject({ status: "active", ratings: [], taste: null });
  });

  it("an unsubscribed reader gets the gone-link page and nothing is recorded", async () => {
    const r = await reader();
    expect((await post(r.unsubscribe, { "List-Unsubscribe": "One-Click" })).status).toBe(200);
    const get = await call(r.link(ROBOTICS[0]!.id, "more"));
    expect(get.status).toBe(410);
    expect(await get.text()).toContain("This link is no longer valid");
    expect((await press(r, ROBOTICS[0]!.id, "more")).status).toBe(410);
    for (const status of ["pending", "suppressed"]) {
      const other = await reader({ status });
      expect((await press(other, ROBOTICS[0]!.id, "more")).status).toBe(410);
      expect((await stored(other.id)).ratings).toEqual([]);
    }
    expect(await stored(r.id)).toMatchObject({ status: "unsubscribed", ratings: [], taste: null });
  });

  it("hostile query and form values never 500 and never rate", async () => {
    const r = await reader();
    const hostile = [
      "x".repeat(10_000),
      "__proto__",
      "constructor",
      "2609.00011\u0000",
      "２６０９.０００１１",
      "\ud800",
      "🤖",
      "' OR 1=1 --",
      '"},{"id":"2609.00011',
      "2609.00011%",
      "$.id",
    ];
    for (const v of hostile)
      for (const fields of [
        { w: WEEK, p: v, d: "more" },
        { w: v, p: ROBOTICS[0]!.id, d: "more" },
        { w: WEEK, p: ROBOTICS[0]!.id, d: v },
      ]) {
        const qs = new URLSearchParams(fields).toString();
        const get = await call(`${r.base}?${qs}`);
        expect([400, 404], `GET ${qs.slice(0, 80)}`).toContain(get.status);
        const res = await post(r.base, fields);
        expect([400, 404, 413], `POST ${qs.slice(0, 80)}`).toContain(res.status);
      }
    // Repeated and odd parameters, bodies of other types.
    expect((await call(`${r.base}?w=${WEEK}&p=__proto__&p=${ROBOTICS[0]!.id}&d=more`)).status).toBe(404);
    expect((await call(`${r.base}?w[]=${WEEK}&p[]=x&d=more`)).status).toBe(400);
    for (const [type, body] of [
      ["application/json", JSON.stringify({ w: WEEK, p: { $gt: "" }, d: "more" })],
      ["application/json", "{"],
      ["text/plain", "w=x"],
      ["application/x-www-form-urlencoded", "%"],
    ] as const) {
      const res = await call(r.base, { method: "POST", headers: { "content-type": type }, body });
      expect(res.status, `${type} ${body}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${type} ${body}`).toBeLessThan(500);
    }
    const huge = await post(r.base, { w: WEEK, p: ROBOTICS[0]!.id, d: "more", pad: "x".repeat(4096) });
    expect(huge.status).toBe(413);
    expect(await stored(r.id)).toMatchObject({ ratings: [], taste: null });
  });
});

describe("what ratings teach (issue 10's proof, through the real routes)", () => {
  it("three diffusion papers down and two robotics papers up: robotics ranks above diffusion next time", async () => {
    const r = await reader();
    for (const p of DIFFUSION) expect((await press(r, p.id, "less")).status).toBe(200);
    for (const p of ROBOTICS) expect((await press(r, p.id, "more")).status).toBe(200);
    const taste = parseTaste((await stored(r.id)).taste);

    const robotics = score(taste, [], NEXT_ROBOTICS);
    const diffusion = score(taste, [], NEXT_DIFFUSION);
    expect(robotics.score).toBeGreaterThan(diffusion.score); // despite 400 upvotes against 3
    expect(robotics.why).toEqual(["topic:robotics", "keyword:manipulation"]);

    const picks = pickForYou([NEXT_DIFFUSION, NEXT_ROBOTICS], { topics: [], taste }, { exclude: new Set(), size: 5 });
    expect(picks.map((p) => p.paper.id)).toEqual([NEXT_ROBOTICS.id]);
  });
});

describe("privacy: export and erasure cover topics, taste and ratings", () => {
  async function rated() {
    const r = await reader({ topics: ["robotics", "code"] });
    await press(r, ROBOTICS[0]!.id, "more");
    await press(r, DIFFUSION[0]!.id, "less");
    return r;
  }

  it("the data export (manage and admin) includes topics, the taste and every rating", async () => {
    const r = await rated();
    const { ratings } = await stored(r.id);
    const mine = await call(`${r.manage}/data.json`);
    expect(mine.status).toBe(200);
    const data = (await mine.json()) as Record<string, unknown>;
    expect(data.topics).toEqual(["robotics", "code"]);
    expect(data.taste).toEqual(await tasteOf(r.id));
    expect(data.taste).toMatchObject({ v: 1, t: { robotics: 1, generation: -1 } });
    expect(data.ratings).toEqual(
      ratings
        .map((x) => ({
          paper_id: x.paper_id,
          direction: x.direction === 1 ? "more" : "less",
          week: WEEK,
          at: new Date(x.at).toISOString(),
        }))
        .sort((a, b) => a.at.localeCompare(b.at) || a.paper_id.localeCompare(b.paper_id)),
    );
    expect(data.ratings).toHaveLength(2);

    const admin = await call(`/admin/subscribers?email=${encodeURIComponent(r.email)}`, { headers: ADMIN });
    expect(admin.status).toBe(200);
    expect(((await admin.json()) as { subscriber: unknown }).subscriber).toEqual(data);

    // A reader who chose and rated nothing: empty, not missing.
    const none = await reader();
    const empty = (await (await call(`${none.manage}/data.json`)).json()) as Record<string, unknown>;
    expect(empty).toMatchObject({ topics: [], taste: null, ratings: [] });
  });

  const ratingsOf = async (id: number) =>
    (await env.DB.prepare("SELECT count(*) AS n FROM ratings WHERE subscriber_id = ?").bind(id).first<{ n: number }>())!
      .n;

  it("erasure (preferences page or admin) deletes the ratings with the row; others keep theirs", async () => {
    const byPage = await rated();
    const byAdmin = await rated();
    const bystander = await rated();
    expect(await ratingsOf(byPage.id)).toBe(2);

    expect((await post(byPage.manage, { action: "erase", confirm: "yes" })).status).toBe(200);
    expect((await call(`/admin/subscribers/${byAdmin.id}`, { method: "DELETE", headers: ADMIN })).status).toBe(204);

    for (const gone of [byPage, byAdmin]) {
      expect(await ratingsOf(gone.id)).toBe(0);
      expect(await stored(gone.id)).toMatchObject({ taste: null, status: undefined });
      // And the rating link died with the row.
      expect((await press(gone, ROBOTICS[1]!.id, "more")).status).toBe(400);
    }
    expect(await ratingsOf(bystander.id)).toBe(2);
  });

  it("housekeeping deletes the ratings of a reader whose new signup was never confirmed", async () => {
    const r = await rated();
    const kept = await rated();
    // Unsubscribed, signed up again, never confirmed: the row is pending and goes after 7 days.
    await env.DB.prepare("UPDATE subscribers SET status = 'pending', consent_at = ? WHERE id = ?")
      .bind(Date.now() - 8 * 86_400_000, r.id)
      .run();
    await worker.scheduled!(
      createScheduledController({ cron: "0 3 * * *", scheduledTime: Date.now() }),
      env,
      createExecutionContext(),
    );
    expect((await stored(r.id)).status).toBeUndefined();
    expect(await ratingsOf(r.id)).toBe(0);
    expect(await ratingsOf(kept.id)).toBe(2);
  });
});
