import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { getIssue } from "../../src/digest/issues";
import { emptyTaste, rate, serializeTaste } from "../../src/digest/taste";
import { sendBudget } from "../../src/mail/budget";
import type { Paper } from "../../src/papers/paper";
import { TOPICS } from "../../src/papers/topics";
import type { StoredEmail } from "../emulators/resend";
import { ADMIN, importActive } from "../support/digests";
import { call } from "../support/helpers";
import { consume, startHeld } from "../support/queues";
import { resendEmulator } from "../support/resend-emulator";

// Issue 10's personal edition, end to end through the queues and the Resend emulator (delivery project): readers
// with topics or ratings get "Top of the week" and "For you", everyone else the unchanged global email.
const emu = resendEmulator(env.RESEND_API_KEY);
const run = crypto.randomUUID().slice(0, 6);

beforeEach(async () => {
  await emu.reset();
  await sendBudget(env).reset();
  await env.DB.batch([env.DB.prepare("DELETE FROM subscribers"), env.DB.prepare("DELETE FROM departures")]);
});

const setPrefs = (email: string, topics: string[] | null, taste: string | null) =>
  env.DB.prepare("UPDATE subscribers SET topics = ?, taste = ? WHERE email = ?")
    .bind(topics ? JSON.stringify(topics) : null, taste, email)
    .run();

const emailTo = (emails: StoredEmail[], to: string) => {
  const mine = emails.filter((e) => e.to.includes(to));
  expect(mine, `emails to ${to}`).toHaveLength(1);
  return { html: mine[0]!.html ?? "", text: mine[0]!.text ?? "" };
};

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** The papers an email presents (each title is the heading of its block). */
const paperTitles = (html: string, all: Paper[]) =>
  all.filter((p) => html.includes(`>${escapeHtml(p.title)}</a></h2>`));

async function sendWeek(week: string, setup: () => Promise<void>) {
  await importActive(`fy-${run}-${week}-`, 3);
  await setup();
  const { jobs } = await startHeld(week);
  await consume("papers-digest", jobs);
  const issue = (await getIssue(env.DB, week))!;
  const emails = (await emu.emails()).filter((e) => e.tags.some((t) => t.name === "issue" && t.value === week));
  return { issue, emails, jobs };
}

describe("For you: every reader's own digest", () => {
  it("readers with topics get For you papers of their topics, with why; readers without preferences get the global email", async () => {
    const week = "2026-W40";
    const reader = (i: number) => `fy-${run}-${week}-${i}@example.com`;
    const plain = reader(0);
    const robotics = reader(1);
    const taste = reader(2);
    const { issue, emails } = await sendWeek(week, async () => {
      await setPrefs(robotics, ["robotics", "3d"], null);
      // A reader who rated two generation papers up (and chose no topic).
      const liked = { id: "x", topics: ["generation"], keywords: ["diffusion"], upvotes: 1 };
      await setPrefs(taste, null, serializeTaste(rate(rate(emptyTaste(), liked, 1), { ...liked, id: "y" }, 1)));
    });
    const papers = issue.papers!;
    const pool = issue.pool!;
    expect(papers).toHaveLength(10);
    expect(pool.length).toBeGreaterThan(5);
    const all = [...papers, ...pool];

    // No preferences: exactly today's email — the ten top papers, no For you.
    const g = emailTo(emails, plain);
    expect(g.html).not.toContain("For you");
    expect(paperTitles(g.html, all).map((p) => p.id)).toEqual(papers.map((p) => p.id));
    expect(g.html).toContain("This week's 10 most upvoted papers");

    // Topics: a shorter top, then up to FOR_YOU_SIZE papers of their topics from the rest of the week.
    const r = emailTo(emails, robotics);
    expect(r.html).toContain("Top of the week");
    expect(r.html).toContain("For you");
    const shown = paperTitles(r.html, all);
    const top = shown.filter((p) => papers.slice(0, 5).includes(p));
    const forYou = shown.filter((p) => !papers.slice(0, 5).includes(p));
    expect(top.map((p) => p.id)).toEqual(papers.slice(0, 5).map((p) => p.id));
    const matching = all.slice(5).filter((p) => p.topics.some((t) => t === "robotics" || t === "3d"));
    expect(forYou.length).toBe(Math.min(5, matching.length));
    expect(forYou.length).toBeGreaterThan(0);
    for (const p of forYou) expect(p.topics.some((t) => t === "robotics" || t === "3d")).toBe(true);
    expect(r.html).toMatch(/Picked for you: (Robotics and embodied AI|3D and spatial)/);
    expect(r.text).toContain("FOR YOU");

    // Ratings alone: what they liked (generation) comes first in For you.
    const t = emailTo(emails, taste);
    const tPicks = paperTitles(t.html, all).filter((p) => !papers.slice(0, 5).includes(p));
    expect(tPicks.length).toBeGreaterThan(0);
    expect(tPicks[0]!.topics.includes("generation") || tPicks[0]!.keywords.includes("diffusion")).toBe(true);

    // Every paper shown carries its two rating links, personal to the reader; TL;DRs are shown where HF gives one.
    for (const e of [g, r, t]) {
      const links = [...e.html.matchAll(/href="([^"]*\/rate\/[^"]+)"/g)].map((m) => m[1]!.replaceAll("&amp;", "&"));
      expect(links.length).toBe(2 * paperTitles(e.html, all).length);
      for (const l of links) expect(l).toMatch(/\/rate\/[\w-]+\.[\w-]+\?w=2026-W40&p=[\w.]+&d=(more|less)$/);
    }
    const withTldr = papers.find((p) => p.tldr);
    expect(withTldr).toBeDefined();
    expect(g.html).toContain(`<strong>TL;DR</strong> ${escapeHtml(withTldr!.tldr!)}`);
    expect(new Set(TOPICS.map((x) => x.id)).has("robotics")).toBe(true);
  });

  it("picks are frozen with the reader: a batch retried after a lost answer sends identical bodies under its key", async () => {
    const week = "2026-W41";
    const reader = `fy-${run}-${week}-1@example.com`;
    await importActive(`fy-${run}-${week}-`, 3);
    await setPrefs(reader, ["agents", "code"], null);
    const { jobs } = await startHeld(week);
    // Resend takes the call, then the answer is lost: the retry must be the very same body under the same key.
    await emu.configure({ faults: [{ status: 500, after: true }] });
    const first = await consume("papers-digest", jobs);
    expect(first.retryMessages).toHaveLength(1);
    // Between the two attempts the reader changes their topics: the frozen picks still decide the replay.
    await setPrefs(reader, ["science"], null);
    const second = await consume("papers-digest", jobs, env, 2);
    expect(second.explicitAcks).toHaveLength(1);
    const stats = await emu.stats();
    expect(stats.replays).toBe(1); // same key, same body hash: Resend's replay, not a second send (409 otherwise)
    const emails = (await emu.emails()).filter((e) => e.to.includes(reader));
    expect(emails).toHaveLength(1);
    expect(emails[0]!.html).toMatch(/Picked for you: (Agents and reinforcement learning|Code and software)/);
  });

  it("the archive, the feed and previews keep the global edition", async () => {
    const week = "2026-W42";
    const reader = `fy-${run}-${week}-0@example.com`;
    await sendWeek(week, () => setPrefs(reader, ["robotics"], null).then(() => undefined));
    const page = await (await call(`/archive/${week}`)).text();
    expect(page).not.toContain("For you");
    expect(page).not.toContain("/rate/");
    const preview = await (await call(`/admin/digests/${week}/preview`, { headers: ADMIN })).text();
    expect(preview).not.toContain("For you");
    expect(preview).not.toContain("/rate/");
  });
});
