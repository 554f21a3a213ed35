/**
 * The per-reader "For you" model (issue 10, documented in docs/for-you.md): a small linear model with one
 * weight per topic and per keyword, learned from "more like this" / "less like this" ratings. Pure: no bindings,
 * no I/O. The taste is stored as JSON in the reader's own row, so the fan-out reads one row per recipient; that is
 * why it is bounded in entries, in weight and in bytes.
 */

/** What the model needs of a paper; the paper module provides these fields (topics from the classifier). */
export interface TastePaper {
  id: string;
  topics: string[];
  keywords: string[];
  upvotes: number;
}

/** Weights by topic id (`t`) and by keyword key (`k`, see `keywordKey`). Only non-zero weights are kept. */
export interface Taste {
  v: 1;
  t: Record<string, number>;
  k: Record<string, number>;
}

export type Rating = 1 | -1;
export interface Reader {
  topics: string[];
  taste: Taste;
}
export interface Scored {
  /** relevance + the popularity prior: the ranking key. */
  score: number;
  /** The personal part alone: what the reader chose or taught the model. */
  relevance: number;
  /** Up to three positive contributors, strongest first: "topic:<id>" or "keyword:<keyword as the paper has it>". */
  why: string[];
}

export const TOPIC_STEP = 1;
export const KEYWORD_STEP = 0.5;
export const CHOSEN_TOPIC_BONUS = 2;
export const POPULARITY_WEIGHT = 0.1;
export const MAX_WEIGHT = 4;
export const MAX_TOPIC_WEIGHTS = 20;
export const MAX_KEYWORD_WEIGHTS = 48;
/** A paper is "for you" only if its relevance is above this: half a keyword step of net positive signal. */
export const MIN_RELEVANCE = 0.25;
const MAX_WHY = 3;
/** A stored taste is ~1.5 KB at most; anything far longer is not one of ours, and is not worth parsing. */
const MAX_TASTE_JSON_CHARS = 16_384;
// Topic ids are slugs: ASCII keeps every stored byte one byte (the size bound), and the leading letter or digit keeps
// "__proto__" out. Other ids still score as chosen topics; they just learn no weight.
const TOPIC_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,23}$/;
const KEYWORD_KEY = /^[0-9a-f]{8}$/;

type Weights = Record<string, number>;
// Null-prototype records: a topic called "constructor" must read as 0, not as Object's constructor.
const newWeights = (): Weights => Object.create(null);
const weightOf = (weights: Weights, key: string): number => {
  const w = Object.hasOwn(weights, key) ? weights[key] : 0;
  return typeof w === "number" && Number.isFinite(w) ? w : 0;
};
const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export const emptyTaste = (): Taste => ({ v: 1, t: newWeights(), k: newWeights() });

/** Keywords match case- and spacing-insensitively: "Sim-to-Real " and "sim-to-real" are one keyword. */
export const normalizeKeyword = (keyword: string): string => keyword.toLowerCase().replace(/\s+/g, " ").trim();

/**
 * The stored key of a keyword: FNV-1a (32 bits) of its normalized text, as 8 hex digits. Storing the text would not
 * fit: 48 keywords of up to 60 characters are ~3.3 KB before a single weight. A reader holds at most 48 keys, so a
 * collision with one of a paper's keywords is a chance of about 1 in 90 million per keyword scored.
 */
export function keywordKey(keyword: string): string {
  const text = normalizeKeyword(keyword);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, "0");
}

interface PaperFeatures {
  topics: string[];
  /** Distinct keywords, each with its key and its label (the paper's own spelling, for "why"). */
  keywords: { key: string; label: string }[];
}
// The fan-out scores the same week's papers for every reader of a batch: hashing their keywords once per paper,
// not once per reader, is most of the cost. Keyed by the object (papers are not mutated), so nothing outlives them.
const featuresCache = new WeakMap<TastePaper, PaperFeatures>();

function featuresOf(paper: TastePaper): PaperFeatures {
  const cached = featuresCache.get(paper);
  if (cached) return cached;
  const seen = new Set<string>();
  const keywords: PaperFeatures["keywords"] = [];
  for (const keyword of paper.keywords) {
    if (typeof keyword !== "string" || !normalizeKeyword(keyword)) continue;
    const key = keywordKey(keyword);
    if (seen.has(key)) continue;
    seen.add(key);
    keywords.push({ key, label: keyword.trim() });
  }
  const features = { topics: [...new Set(paper.topics)], keywords };
  featuresCache.set(paper, features);
  return features;
}

/**
 * Enforces the bounds: weights rounded to 0.01 (no float drift in storage), clamped to ±MAX_WEIGHT, zeros dropped,
 * then at most `max` entries — the largest |weight| kept, ties by key order, so eviction is deterministic.
 */
function bounded(entries: Iterable<[string, number]>, max: number): Weights {
  const kept: [string, number][] = [];
  for (const [key, raw] of entries) {
    if (typeof raw !== "number" || !Number.isFinite(raw)) continue;
    const w = Math.round(Math.min(MAX_WEIGHT, Math.max(-MAX_WEIGHT, raw)) * 100) / 100;
    if (w !== 0) kept.push([key, w]);
  }
  kept.sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]) || byKey(a[0], b[0]));
  const out = newWeights();
  for (const [key, w] of kept.slice(0, max)) out[key] = w;
  return out;
}

/** Moves every topic of the paper by TOPIC_STEP·amount and every keyword by KEYWORD_STEP·amount, then bounds. */
function shift(taste: Taste, paper: TastePaper, amount: number): Taste {
  const topics = new Map(Object.entries(taste.t));
  const keywords = new Map(Object.entries(taste.k));
  const features = featuresOf(paper);
  for (const topic of features.topics) {
    if (typeof topic === "string" && TOPIC_ID.test(topic)) {
      topics.set(topic, (topics.get(topic) ?? 0) + TOPIC_STEP * amount);
    }
  }
  for (const { key } of features.keywords) keywords.set(key, (keywords.get(key) ?? 0) + KEYWORD_STEP * amount);
  return { v: 1, t: bounded(topics, MAX_TOPIC_WEIGHTS), k: bounded(keywords, MAX_KEYWORD_WEIGHTS) };
}

/** One new rating: +1 "more like this", -1 "less like this". Returns a new taste. */
export const rate = (taste: Taste, paper: TastePaper, direction: Rating): Taste => shift(taste, paper, direction);

/**
 * The last rating counts: undoes `previous` (the reader's stored rating of this paper, if any) and applies `next`, as
 * one move of (next − previous) steps. The same rating again changes nothing. Caveat: a bound is not undone exactly.
 * If a weight was clamped (or a keyword evicted) when `previous` was applied, undoing it moves the weight further
 * than the rating had moved it: five ups on one topic store 4, flipping one of them leaves 2 where an exact sum
 * would say 3. The ratings themselves are stored, so an exact taste can always be rebuilt by replaying them.
 */
export function rerate(taste: Taste, paper: TastePaper, previous: Rating | null, next: Rating): Taste {
  return previous === next ? taste : shift(taste, paper, next - (previous ?? 0));
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function* validEntries(value: unknown, keyPattern: RegExp): Generator<[string, number]> {
  if (!isRecord(value)) return;
  for (const [key, w] of Object.entries(value)) if (typeof w === "number" && keyPattern.test(key)) yield [key, w];
}

/**
 * Reads a taste from the database, as JSON text or an already parsed value. Lenient: anything that is not a v1 taste
 * becomes the empty taste, invalid entries and unknown fields are dropped, and the bounds are enforced again.
 */
export function parseTaste(json: unknown): Taste {
  try {
    const root = typeof json === "string" ? (json.length <= MAX_TASTE_JSON_CHARS ? JSON.parse(json) : null) : json;
    if (!isRecord(root) || root.v !== 1) return emptyTaste();
    return {
      v: 1,
      t: bounded(validEntries(root.t, TOPIC_ID), MAX_TOPIC_WEIGHTS),
      k: bounded(validEntries(root.k, KEYWORD_KEY), MAX_KEYWORD_WEIGHTS),
    };
  } catch {
    return emptyTaste(); // a throwing getter or proxy: not something we stored
  }
}

/** JSON for the database; goes through parseTaste so whatever is written is within the bounds. */
export const serializeTaste = (taste: Taste): string => JSON.stringify(parseTaste(taste));

const popularity = (paper: TastePaper): number =>
  Number.isFinite(paper.upvotes) && paper.upvotes > 0 ? paper.upvotes : 0;

function assess(taste: Taste, chosenTopics: ReadonlySet<string>, paper: TastePaper): Scored {
  const features = featuresOf(paper);
  const positives: { reason: string; value: number }[] = [];
  let relevance = 0;
  for (const topic of features.topics) {
    const value = (chosenTopics.has(topic) ? CHOSEN_TOPIC_BONUS : 0) + weightOf(taste.t, topic);
    relevance += value;
    if (value > 0) positives.push({ reason: `topic:${topic}`, value });
  }
  for (const { key, label } of features.keywords) {
    const value = weightOf(taste.k, key);
    relevance += value;
    if (value > 0) positives.push({ reason: `keyword:${label}`, value });
  }
  // Stable sort: equal contributions keep the paper's order, topics before keywords.
  const why = positives
    .sort((a, b) => b.value - a.value)
    .slice(0, MAX_WHY)
    .map((c) => c.reason);
  // log1p: popularity only breaks near-ties (100 upvotes ≈ 0.46, less than one keyword step).
  return { score: relevance + POPULARITY_WEIGHT * Math.log1p(popularity(paper)), relevance, why };
}

/** Chosen topics (+CHOSEN_TOPIC_BONUS each) + learned topic and keyword weights + a small popularity prior. */
export const score = (taste: Taste, chosenTopics: string[], paper: TastePaper): Scored =>
  assess(taste, new Set(chosenTopics), paper);

/** False for readers with no topics and an empty taste: they get the unchanged global email. */
export function hasPreferences(reader: Reader): boolean {
  const anyWeight = (w: Weights) => Object.values(w).some((x) => x !== 0);
  return reader.topics.length > 0 || anyWeight(reader.taste.t) || anyWeight(reader.taste.k);
}

/**
 * The reader's "For you" papers: the best-scoring papers not in `exclude` (the top section) whose relevance is above
 * MIN_RELEVANCE, best first; ties by upvotes, then id, so a retried batch picks the same papers in the same order.
 */
export function pickForYou<P extends TastePaper>(
  papers: readonly P[],
  reader: Reader,
  opts: { exclude: ReadonlySet<string>; size: number },
): { paper: P; why: string[] }[] {
  const size = Number.isFinite(opts.size) ? Math.max(0, Math.floor(opts.size)) : 0;
  if (size === 0) return [];
  const chosenTopics = new Set(reader.topics);
  const seen = new Set<string>();
  const candidates: { paper: P; score: number; why: string[] }[] = [];
  for (const paper of papers) {
    if (opts.exclude.has(paper.id) || seen.has(paper.id)) continue;
    seen.add(paper.id);
    const { score, relevance, why } = assess(reader.taste, chosenTopics, paper);
    if (relevance > MIN_RELEVANCE) candidates.push({ paper, score, why });
  }
  candidates.sort(
    (a, b) => b.score - a.score || popularity(b.paper) - popularity(a.paper) || byKey(a.paper.id, b.paper.id),
  );
  return candidates.slice(0, size).map(({ paper, why }) => ({ paper, why }));
}
