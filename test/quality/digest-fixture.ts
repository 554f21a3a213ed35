/**
 * A realistic rendered digest for the email-quality checks and the README screenshots: the 10 papers the issue
 * would pick from the bundled sample week, rendered by the production path (renderIssue) with a production-like
 * config, and personalized with the signed https links a subscriber really gets.
 */
import { loadConfig } from "../../src/config";
import type { Cadence } from "../../src/db/schema";
import { renderIssue } from "../../src/digest/build";
import { rankPapers } from "../../src/digest/select";
import { emptyTaste, pickForYou, rate as rate1 } from "../../src/digest/taste";
import { confirmUrl, manageUrl, rateBase, rateUrl, unsubscribeUrl } from "../../src/lib/links";
import { parseWeek } from "../../src/lib/week";
import type { Paper } from "../../src/papers/paper";
import { sampleSource } from "../../src/papers/sample";
import { TOPICS } from "../../src/papers/topics";
import { confirmationEmail, welcomeEmail } from "../../templates/emails";

export const WEEK = "2026-W47";
export const FROM = "Trending Papers <papers@news.example.org>";
export const TO = "Ada Lovelace <ada.lovelace@example.com>";
const SUBSCRIBER = { id: 4217, linkKey: "5f0c3b9a8e7d6c5b4a3928171605f4e3" };

export const qualityConfig = () =>
  loadConfig({
    PUBLIC_URL: "https://news.example.org",
    MAIL_FROM: FROM,
    TOKEN_SECRET: "quality-check-token-secret-0123456789abcdef",
    RESEND_API_KEY: "re_quality_checks_never_sent",
    PAPERS_SOURCE: "sample",
    MAIL_POSTAL_ADDRESS: "Trending Papers, 12 Example Street, 10115 Berlin, Germany",
  } as unknown as Parameters<typeof loadConfig>[0]);

/**
 * The global edition, or (`personal`) the edition of a reader who picked robotics and 3D and liked a diffusion
 * paper: a top of 5 and 5 papers "For you", chosen by the production model from the rest of the sample week.
 */
export async function renderSampleDigest(opts: { personal?: boolean } = {}) {
  const cfg = qualityConfig();
  const ranked = rankPapers(await sampleSource.week(parseWeek(WEEK)!));
  const rate = await rateBase(cfg, SUBSCRIBER);
  const links = {
    unsubscribe: await unsubscribeUrl(cfg, SUBSCRIBER),
    manage: await manageUrl(cfg, SUBSCRIBER),
    rate: (p: Paper, d: "more" | "less") => rateUrl(rate, WEEK, p.id, d),
  };
  if (!opts.personal) {
    const papers = ranked.slice(0, 10);
    const issue = await renderIssue(cfg, WEEK, papers, { links });
    return { papers, links, subject: issue.subject, html: issue.html, text: issue.text };
  }
  const top = ranked.slice(0, 5);
  const liked = { id: "x", topics: ["generation"], keywords: ["diffusion"], upvotes: 1 };
  const reader = { topics: ["robotics", "3d"], taste: rate1(emptyTaste(), liked, 1) };
  const forYou = pickForYou(ranked.slice(5), reader, { exclude: new Set(top.map((p) => p.id)), size: 5 }).map(
    ({ paper, why }) => ({
      paper,
      why: why.map((w) => TOPICS.find((t) => `topic:${t.id}` === w)?.name ?? w.replace(/^keyword:/, "")),
    }),
  );
  const issue = await renderIssue(cfg, WEEK, top, { links, forYou });
  return {
    papers: [...top, ...forYou.map((f) => f.paper)],
    links,
    subject: issue.subject,
    html: issue.html,
    text: issue.text,
  };
}

export async function renderLifecycleEmails() {
  const cfg = qualityConfig();
  const confirmation = await confirmationEmail({
    name: cfg.newsletterName,
    email: "ada.lovelace@example.com",
    confirmUrl: await confirmUrl(cfg, SUBSCRIBER, Date.parse("2026-11-23T08:00:00Z")),
  });
  const welcomeFor = async (cadence: Cadence) =>
    welcomeEmail({
      name: cfg.newsletterName,
      homeUrl: cfg.publicUrl.toString(),
      manageUrl: await manageUrl(cfg, SUBSCRIBER),
      unsubscribeUrl: await unsubscribeUrl(cfg, SUBSCRIBER),
      cadence,
    });
  return { confirmation, welcome: await welcomeFor("weekly"), welcomeDaily: await welcomeFor("daily") };
}
