import type { Config } from "../config";
import { rateBase, rateUrl } from "../lib/links";
import type { Email } from "../mail";
import { type PersonalLinks, personalEmail, personalLinks } from "../mail/personal";
import type { Paper } from "../papers/paper";
import { TOPICS } from "../papers/topics";
import { renderIssue } from "./build";
import { frozenPapers } from "./issues";
import type { ForYouPick, MeteredDb, Recipient } from "./store";

/*
 * An issue's emails, one per recipient. Each edition (the global one, and one per distinct "For you" selection) is
 * rendered once per isolate from the frozen papers, with random markers (unguessable, so no paper text can contain
 * them) standing for the reader's links — unsubscribe, manage, and "more/less like this" per paper — and cut at them:
 * filling the gaps gives exactly what rendering with the reader's own links would. Links are placed by the template,
 * never by searching third-party text for a placeholder. Everything here is a function of frozen data (the issue's
 * papers and pool, the batch's list with each reader's picks), so a retried batch sends the very same bodies.
 */

interface Edition {
  subject: string;
  html: string[];
  text: string[];
}

export interface IssueEmails {
  week: string;
  marker: string;
  /** The issue's papers then its pool: a paper's index here is what picks and rating markers name. */
  all: Paper[];
  topSize: number;
  global: Edition;
  personal: Map<string, Edition>;
}

const cache = new Map<string, IssueEmails>();
/** Distinct "For you" editions kept per issue and isolate (readers sharing picks share the rendering). */
const MAX_EDITIONS = 2000;

/** The top is shorter for a reader who gets "For you" (the whole email stays about DIGEST_SIZE papers). */
export const personalTopSize = (cfg: Config, papers: number) =>
  Math.max(1, Math.min(papers, cfg.digestSize - cfg.forYouSize));

export async function issueEmails(cfg: Config, db: MeteredDb, week: string): Promise<IssueEmails | null> {
  const cached = cache.get(week);
  if (cached) return cached;
  const frozen = await frozenPapers(db, week);
  if (!frozen?.papers) return null;
  const papers = JSON.parse(frozen.papers) as Paper[];
  const all = [...papers, ...(frozen.pool ? (JSON.parse(frozen.pool) as Paper[]) : [])];
  const base = {
    week,
    marker: crypto.randomUUID().replaceAll("-", ""),
    all,
    topSize: personalTopSize(cfg, papers.length),
  };
  const e: IssueEmails = { ...base, global: await edition(cfg, base, papers), personal: new Map() };
  if (cache.size > 8) cache.clear();
  cache.set(week, e);
  return e;
}

async function edition(
  cfg: Config,
  e: Pick<IssueEmails, "week" | "marker" | "all">,
  top: Paper[],
  forYou?: { paper: Paper; why: string[] }[],
): Promise<Edition> {
  const index = new Map(e.all.map((p, i) => [p, i]));
  const at = (path: string) => `https://${e.marker}.invalid/${path}`;
  const links = {
    unsubscribe: at("u"),
    manage: at("m"),
    rate: (p: Paper, d: "more" | "less") => at(`r/${index.get(p)}/${d === "more" ? "m" : "l"}`),
  };
  const content = await renderIssue(cfg, e.week, top, { links, forYou });
  const cut = (s: string) => s.split(new RegExp(`(https://${e.marker}\\.invalid/(?:u|m|r/\\d+/[ml]))`));
  return { subject: content.subject, html: cut(content.html), text: cut(content.text) };
}

/** "topic:robotics" → "Robotics", "keyword:sim-to-real" → "sim-to-real". */
const topicNames = new Map<string, string>(TOPICS.map((t) => [t.id, t.name]));
const reason = (why: string) =>
  why.startsWith("topic:") ? (topicNames.get(why.slice(6)) ?? why.slice(6)) : why.replace(/^keyword:/, "");

async function personalEdition(cfg: Config, e: IssueEmails, picks: ForYouPick[]): Promise<Edition> {
  const key = JSON.stringify(picks);
  let ed = e.personal.get(key);
  if (!ed) {
    const forYou = picks.flatMap(([i, ...why]) => (e.all[i] ? [{ paper: e.all[i], why: why.map(reason) }] : []));
    ed = await edition(cfg, e, e.all.slice(0, e.topSize), forYou);
    if (e.personal.size >= MAX_EDITIONS) e.personal.clear();
    e.personal.set(key, ed);
  }
  return ed;
}

/** Odd pieces are the markers (the split kept them): each becomes the reader's link of that kind. */
function fill(pieces: string[], e: IssueEmails, links: PersonalLinks & { rate: string }, html: boolean) {
  return pieces
    .map((p, i) => {
      if (i % 2 === 0) return p;
      const kind = p.slice(p.indexOf(".invalid/") + 9); // "u", "m" or "r/<index>/<m|l>"
      if (kind === "u") return links.unsubscribe;
      if (kind === "m") return links.manage;
      const [, index, d] = kind.split("/");
      const url = rateUrl(links.rate, e.week, e.all[Number(index)]!.id, d === "m" ? "more" : "less");
      return html ? url.replaceAll("&", "&amp;") : url;
    })
    .join("");
}

export async function emailsFor(cfg: Config, e: IssueEmails, recipients: Recipient[]): Promise<Email[]> {
  return Promise.all(
    recipients.map(async (r) => {
      const who = { id: r.id, linkKey: r.key ?? "" };
      const links = { ...(await personalLinks(cfg, who)), rate: await rateBase(cfg, who) };
      const ed = r.f?.length ? await personalEdition(cfg, e, r.f) : e.global;
      const content = {
        subject: ed.subject,
        html: fill(ed.html, e, links, true),
        text: fill(ed.text, e, links, false),
      };
      return personalEmail(cfg, r.email, content, { kind: "digest", week: e.week, unsubscribe: links.unsubscribe });
    }),
  );
}
