/**
 * A realistic rendered digest for the email-quality checks and the README screenshots: the 10 papers the issue
 * would pick from the bundled sample week, rendered by the production path (renderIssue) with a production-like
 * config, and personalized with the signed https links a subscriber really gets.
 */
import { loadConfig } from "../../src/config";
import { renderIssue } from "../../src/digest/build";
import { selectPapers } from "../../src/digest/select";
import { confirmUrl, manageUrl, unsubscribeUrl } from "../../src/lib/links";
import { parseWeek } from "../../src/lib/week";
import { sampleSource } from "../../src/papers/sample";
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

export async function renderSampleDigest() {
  const cfg = qualityConfig();
  const papers = selectPapers(await sampleSource.week(parseWeek(WEEK)!), { size: 10 });
  const links = { unsubscribe: await unsubscribeUrl(cfg, SUBSCRIBER), manage: await manageUrl(cfg, SUBSCRIBER) };
  const issue = await renderIssue(cfg, WEEK, papers, { links });
  return { papers, links, subject: issue.subject, html: issue.html, text: issue.text };
}

export async function renderLifecycleEmails() {
  const cfg = qualityConfig();
  const confirmation = await confirmationEmail({
    name: cfg.newsletterName,
    email: "ada.lovelace@example.com",
    confirmUrl: await confirmUrl(cfg, SUBSCRIBER, Date.parse("2026-11-23T08:00:00Z")),
  });
  const welcome = await welcomeEmail({
    name: cfg.newsletterName,
    homeUrl: cfg.publicUrl.toString(),
    manageUrl: await manageUrl(cfg, SUBSCRIBER),
    unsubscribeUrl: await unsubscribeUrl(cfg, SUBSCRIBER),
  });
  return { confirmation, welcome };
}
