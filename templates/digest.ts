import { html, raw } from "hono/html";
import type { Paper } from "../src/papers/paper";
import { paperLinks } from "../src/papers/paper";
import { emailShell, FONT } from "./email-shell";
import type { Html } from "./page";

/**
 * The digest — a weekly issue or a daily edition — as an email (HTML + text) and as its web version in the archive.
 * Email HTML sticks to what Gmail, Outlook, Apple Mail and Yahoo all render: nested tables, inline styles,
 * a 600 px column that shrinks on phones, system fonts, no images, no CSS in <head>. Colours keep contrast
 * when a client darkens the message. The preheader (the inbox preview) is the first line of the email and is
 * visible: hiding it needs display:none/overflow, which Gmail's mobile webmail and Outlook ignore, and hidden
 * text is what spam filters look for. All paper text is external and escaped by hono/html.
 */
export interface DigestModel {
  name: string;
  /** The edition's key: "2026-W47" (weekly) or "2026-11-30" (daily). */
  week: string;
  cadence: "weekly" | "daily";
  /** "16–22 November 2026", or "Monday 30 November 2026" for a daily edition. */
  dateRange: string;
  papers: Paper[];
  archiveUrl: string;
  homeUrl: string;
  postalAddress?: string;
  /**
   * The recipient's own links, placed by the template like any other value (escaped, in their own elements): third-party
   * text that looks like a placeholder stays text, and no personal link lands inside someone else's URL.
   */
  links: {
    unsubscribe: string;
    manage: string;
    /** The reader's "more like this" / "less like this" link for a paper (absent: no rating links, as in previews). */
    rate?: (paper: Paper, direction: "more" | "less") => string;
  };
  /**
   * A reader's own section, after the (shorter) top: papers picked for them from the week's other new papers, each
   * with why (topic names or keywords it matched). Absent: the global edition.
   */
  forYou?: { paper: Paper; why: string[] }[];
}

export const ABSTRACT_MAX = 320;

/** Cuts long abstracts cleanly: at the last sentence end that fits, else the last word, with an ellipsis. */
export function shorten(text: string, max = ABSTRACT_MAX): string {
  const clean = text.replace(/\s+/g, " ").trim();
  if (clean.length <= max) return clean;
  const cut = clean.slice(0, max);
  const sentence = cut.lastIndexOf(". ");
  if (sentence > max * 0.6) return cut.slice(0, sentence + 1);
  const word = cut.lastIndexOf(" ");
  return `${cut.slice(0, word > 0 ? word : max).replace(/[\s,;:.-]+$/, "")}…`;
}

export function authorLine(authors: string[], shown = 3): string {
  if (authors.length === 0) return "";
  if (authors.length <= shown) return authors.join(", ");
  return `${authors.slice(0, shown).join(", ")} and ${authors.length - shown} more`;
}

const fmt = (n: number) => n.toLocaleString("en-US");

/** "week 47" or "Monday 30 November": what the kicker and the subject call the edition. */
const period = (m: Pick<DigestModel, "week" | "cadence" | "dateRange">) =>
  m.cadence === "daily" ? m.dateRange.replace(/ \d{4}$/, "") : `week ${Number(m.week.slice(-2))}`;
/** A constant of this file (raw in HTML, so the apostrophe stays one). */
const whose = (m: Pick<DigestModel, "cadence">) => (m.cadence === "daily" ? "The day's" : "This week's");
const topHeading = (m: Pick<DigestModel, "cadence">) => (m.cadence === "daily" ? "Top of the day" : "Top of the week");

export function digestSubject(m: Pick<DigestModel, "name" | "week" | "cadence" | "dateRange" | "papers">): string {
  const top = m.papers[0]?.title ?? "";
  const subject = `${m.name}, ${period(m)}: ${top}`;
  return subject.length > 110 ? `${subject.slice(0, 107).replace(/\s+\S*$/, "")}…` : subject;
}

const preheader = (m: Pick<DigestModel, "papers" | "dateRange" | "forYou">) =>
  `The ${m.papers.length} most upvoted papers on Hugging Face, ${m.dateRange}${m.forYou?.length ? `, and ${m.forYou.length} picked for you` : ""}.`;

const LINK = "color:#1d4ed8;text-decoration:underline;";

type Rate = DigestModel["links"]["rate"];

function paperBlock(p: Paper, rank: number | null, rate: Rate, why?: string[]): Html {
  const l = paperLinks(p.id);
  const extra: Html[] = [
    html`<a href="${l.arxiv}" style="${LINK}">arXiv</a>`,
    html`<a href="${l.pdf}" style="${LINK}">PDF</a>`,
  ];
  if (p.githubRepo)
    extra.push(
      html`<a href="${p.githubRepo}" style="${LINK}">Code${p.githubStars ? ` (★ ${fmt(p.githubStars)})` : ""}</a>`,
    );
  if (p.projectPage) extra.push(html`<a href="${p.projectPage}" style="${LINK}">Project page</a>`);
  return html`<tr><td style="padding:0 0 24px 0;${FONT}">
<p style="margin:0 0 4px 0;font-size:13px;line-height:18px;color:#4b5563;">${rank ? `#${rank} · ` : ""}▲ ${fmt(p.upvotes)} upvotes · ${fmt(p.numComments)} comment${p.numComments === 1 ? "" : "s"}</p>
<h2 style="margin:0 0 6px 0;font-size:18px;line-height:24px;font-weight:bold;"><a href="${l.hf}" style="color:#111827;text-decoration:none;">${p.title}</a></h2>
${p.authors.length ? html`<p style="margin:0 0 8px 0;font-size:14px;line-height:20px;color:#374151;">${authorLine(p.authors)}</p>` : ""}
${why?.length ? html`<p style="margin:0 0 8px 0;font-size:14px;line-height:20px;color:#065f46;">Picked for you: ${why.join(", ")}</p>` : ""}
${p.tldr ? html`<p style="margin:0 0 8px 0;font-size:15px;line-height:22px;color:#1f2937;"><strong>TL;DR</strong> ${p.tldr}</p>` : ""}
${p.summary ? html`<p style="margin:0 0 8px 0;font-size:15px;line-height:22px;color:#1f2937;">${shorten(p.summary)}</p>` : ""}
<p style="margin:0;font-size:14px;line-height:20px;color:#374151;">${extra.map((e, i) => (i ? html` · ${e}` : e))}</p>
${rate ? html`<p style="margin:8px 0 0 0;font-size:13px;line-height:18px;color:#4b5563;"><a href="${rate(p, "more")}" style="color:#4b5563;text-decoration:underline;">More like this</a> · <a href="${rate(p, "less")}" style="color:#4b5563;text-decoration:underline;">Less like this</a></p>` : ""}
</td></tr>`;
}

const heading = (text: string) =>
  html`<tr><td style="padding:8px 0 16px 0;${FONT}"><h2 style="margin:0;font-size:20px;line-height:26px;color:#111827;">${text}</h2></td></tr>`;

function layout(m: Omit<DigestModel, "links"> & { rate?: Rate }, footer: Html): Html {
  const forYou = m.forYou?.length ? m.forYou : null;
  return emailShell({
    title: digestSubject(m),
    preheader: preheader(m),
    rows: html`<tr><td style="padding:24px 24px 8px 24px;${FONT}">
<p style="margin:0;font-size:13px;line-height:18px;color:#4b5563;text-transform:uppercase;letter-spacing:1px;">${m.name} · ${period(m)}</p>
<h1 style="margin:6px 0 0 0;font-size:24px;line-height:30px;color:#111827;">${raw(whose(m))} ${m.papers.length} most upvoted papers</h1>
</td></tr>
<tr><td style="padding:16px 24px 0 24px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">
${forYou ? heading(topHeading(m)) : ""}
${m.papers.map((p, i) => paperBlock(p, i + 1, m.rate))}
${forYou ? [heading("For you"), ...forYou.map((f) => paperBlock(f.paper, null, m.rate, f.why))] : ""}
</table>
</td></tr>
<tr><td style="padding:16px 24px 24px 24px;border-top:1px solid #e5e7eb;${FONT}font-size:13px;line-height:19px;color:#4b5563;">
${footer}
</td></tr>`,
  });
}

const address = (m: Pick<DigestModel, "postalAddress">) =>
  m.postalAddress ? html`<p style="margin:8px 0 0 0;">${m.postalAddress}</p>` : "";

/** The email, with the recipient's links (`m.links`). */
export async function digestEmail(m: DigestModel): Promise<{ subject: string; html: string; text: string }> {
  const footer = html`<p style="margin:0;">You get this email because you subscribed to the ${m.cadence} digest of trending machine-learning papers from ${m.name}.</p>
<p style="margin:8px 0 0 0;"><a href="${m.archiveUrl}" style="color:#4b5563;text-decoration:underline;">View in browser</a> · <a href="${m.links.manage}" style="color:#4b5563;text-decoration:underline;">Manage preferences</a> · <a href="${m.links.unsubscribe}" style="color:#4b5563;text-decoration:underline;">Unsubscribe</a></p>
${address(m)}`;
  return {
    subject: digestSubject(m),
    html: (await layout({ ...m, rate: m.links.rate }, footer)).toString(),
    text: digestText(m),
  };
}

/** The archive page: the same issue without personal links (`m.links` is not used). */
export async function digestWebPage(m: Omit<DigestModel, "links">): Promise<string> {
  const footer = html`<p style="margin:0;">${m.name} is a free weekly or daily digest of the most upvoted machine-learning papers on Hugging Face.</p>
<p style="margin:8px 0 0 0;"><a href="${m.homeUrl}" style="color:#4b5563;text-decoration:underline;">Subscribe</a> · <a href="${new URL("/archive", m.homeUrl).toString()}" style="color:#4b5563;text-decoration:underline;">All issues</a></p>
${address(m)}`;
  return (await layout(m, footer)).toString();
}

export function digestText(m: DigestModel): string {
  const lines = [
    `${m.name} · ${m.dateRange}`,
    `${whose(m)} ${m.papers.length} most upvoted papers on Hugging Face`,
    "",
  ];
  const paper = (p: Paper, label: string, why?: string[]) => {
    const l = paperLinks(p.id);
    lines.push(`${label}${p.title}`);
    if (p.authors.length) lines.push(`   ${authorLine(p.authors)}`);
    lines.push(`   ▲ ${fmt(p.upvotes)} upvotes · ${fmt(p.numComments)} comments`);
    if (why?.length) lines.push(`   Picked for you: ${why.join(", ")}`);
    if (p.tldr) lines.push(`   TL;DR ${p.tldr}`);
    if (p.summary) lines.push(`   ${shorten(p.summary)}`);
    lines.push(`   Paper: ${l.hf}`, `   arXiv: ${l.arxiv}  PDF: ${l.pdf}`);
    if (p.githubRepo) lines.push(`   Code: ${p.githubRepo}${p.githubStars ? ` (★ ${fmt(p.githubStars)})` : ""}`);
    if (p.projectPage) lines.push(`   Project page: ${p.projectPage}`);
    if (m.links.rate)
      lines.push(`   More like this: ${m.links.rate(p, "more")}`, `   Less like this: ${m.links.rate(p, "less")}`);
    lines.push("");
  };
  const forYou = m.forYou?.length ? m.forYou : null;
  if (forYou) lines.push(topHeading(m).toUpperCase(), "");
  m.papers.forEach((p, i) => {
    paper(p, `${i + 1}. `);
  });
  if (forYou) {
    lines.push("FOR YOU", "");
    for (const f of forYou) paper(f.paper, "* ", f.why);
  }
  lines.push(
    "--",
    `You get this email because you subscribed to ${m.name}.`,
    `View in browser: ${m.archiveUrl}`,
    `Manage preferences: ${m.links.manage}`,
    `Unsubscribe: ${m.links.unsubscribe}`,
  );
  if (m.postalAddress) lines.push(m.postalAddress);
  return `${lines.join("\n")}\n`;
}
