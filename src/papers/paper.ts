import type { IsoWeek } from "../lib/week";
import { classify, type TopicId } from "./topics";

/** The port every paper source implements (Hugging Face, the bundled sample week). */
export interface PaperSource {
  /** Every paper that entered Daily Papers during the week (unsorted, possibly with duplicates). */
  week(w: IsoWeek): Promise<Paper[]>;
  /** Every paper that entered Daily Papers on the UTC day ("2026-11-30"): a daily edition's papers. */
  day(date: string): Promise<Paper[]>;
}

/** A paper as the digest uses it, normalised from one item of Hugging Face's /api/daily_papers. */
export interface Paper {
  /** The arXiv id, e.g. "2611.14207". */
  id: string;
  title: string;
  summary: string;
  authors: string[];
  upvotes: number;
  numComments: number;
  publishedAt: string | null;
  submittedOnDailyAt: string | null;
  withdrawn: boolean;
  githubRepo: string | null;
  githubStars: number | null;
  projectPage: string | null;
  /** Hugging Face's `ai_keywords`: lower case, deduplicated, at most KEYWORDS_MAX of at most KEYWORD_CHARS each. */
  keywords: string[];
  /** Hugging Face's one-line `ai_summary`, at most TLDR_CHARS; null when it has none. */
  tldr: string | null;
  /** From classify() over the title, abstract and keywords (src/papers/topics.ts). */
  topics: TopicId[];
}

/**
 * Third-party text as data: C0 and C1 control characters (an Atom feed cannot carry them, a terminal or a mail client
 * may act on them) become spaces, and lone surrogates are replaced so the string is well-formed Unicode.
 */
const clean = (s: string) => s.toWellFormed().replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, " ");
const str = (v: unknown): string | null => (typeof v === "string" && clean(v).trim() ? clean(v).trim() : null);
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0);
const httpUrl = (v: unknown): string | null => {
  const s = str(v);
  if (!s) return null;
  try {
    const u = new URL(s);
    return u.protocol === "https:" || u.protocol === "http:" ? u.toString() : null;
  } catch {
    return null;
  }
};
const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

export const KEYWORDS_MAX = 12;
export const KEYWORD_CHARS = 60;
export const TLDR_CHARS = 300;

/** Strings only, cleaned like every other text field; a "keyword" longer than KEYWORD_CHARS is not a keyword phrase. */
const keywordList = (v: unknown): string[] => {
  const out = new Set<string>();
  for (const k of Array.isArray(v) ? v : []) {
    const s = str(k)?.replace(/\s+/g, " ").toLowerCase();
    if (s && s.length <= KEYWORD_CHARS) out.add(s);
    if (out.size === KEYWORDS_MAX) break;
  }
  return [...out];
};

/** Cut at a word boundary with an ellipsis, so the text stays at most `max` characters. */
const cap = (s: string, max: number) => {
  if (s.length <= max) return s;
  const cut = s.slice(0, max - 1);
  const word = cut.lastIndexOf(" ");
  return `${(word > max / 2 ? cut.slice(0, word) : cut).replace(/[\s,;:.-]+$/, "")}…`;
};

/** arXiv ids: new style 2611.14207 (optionally vN) or old style hep-th/9901001. */
const PAPER_ID = /^(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?\/\d{7})(?:v\d+)?$/;

/**
 * Lenient: extra fields are ignored, missing optional ones get defaults, and only an item with no usable
 * id or title is dropped (returns null). Fields may sit on the item or on item.paper.
 */
export function parsePaper(item: unknown): Paper | null {
  const top = obj(item);
  const p = obj(top.paper);
  const id = str(p.id) ?? str(top.id);
  const title = (str(p.title) ?? str(top.title))?.replace(/\s+/g, " ");
  if (!id || !PAPER_ID.test(id) || !title) return null;
  const authors = (Array.isArray(p.authors) ? p.authors : [])
    .map((a) => obj(a))
    .filter((a) => a.hidden !== true)
    .map((a) => str(a.name) ?? str(obj(a.user).fullname))
    .filter((n): n is string => n !== null);
  const summary = (str(p.summary) ?? str(top.summary) ?? "").replace(/\s+/g, " ");
  const keywords = keywordList(p.ai_keywords);
  const tldr = str(p.ai_summary)?.replace(/\s+/g, " ");
  return {
    id,
    title,
    summary,
    authors,
    upvotes: num(p.upvotes),
    numComments: num(top.numComments),
    publishedAt: str(p.publishedAt) ?? str(top.publishedAt),
    submittedOnDailyAt: str(p.submittedOnDailyAt),
    withdrawn: str(p.withdrawnAt) !== null,
    githubRepo: httpUrl(p.githubRepo),
    githubStars: typeof p.githubStars === "number" ? num(p.githubStars) : null,
    projectPage: httpUrl(p.projectPage),
    keywords,
    tldr: tldr ? cap(tldr, TLDR_CHARS) : null,
    topics: classify({ title, summary, keywords }),
  };
}

export const paperLinks = (id: string) => ({
  hf: `https://huggingface.co/papers/${id}`,
  arxiv: `https://arxiv.org/abs/${id}`,
  pdf: `https://arxiv.org/pdf/${id}`,
});
