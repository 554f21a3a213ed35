import { and, eq } from "drizzle-orm";
import { ratings, subscribers } from "../db/schema";
import { database } from "../db/subscribers";
import { parseTaste, type Rating, rerate, serializeTaste, type TastePaper } from "./taste";

/**
 * A reader's "more like this" / "less like this" (issue 10): which papers a rating link may name, and recording a
 * rating into the reader's taste. The one place that writes `ratings` and `subscribers.taste`; the model itself is
 * the pure src/digest/taste.ts.
 */

export type Direction = "more" | "less";
export const RATING: Record<Direction, Rating> = { more: 1, less: -1 };
export const directionOf = (r: Rating): Direction => (r === 1 ? "more" : "less");

/** A paper as a rating needs it: what the model learns from, and the title the pages show. */
export interface RatedPaper extends TastePaper {
  title: string;
}

/** Issues whose email may have reached readers: started sending (paused or cancelled mid-send included). */
const RATEABLE_STATUSES = "'sending', 'paused', 'sent', 'cancelled'";

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

/** Older stored issues lack keywords and topics: missing means none. */
function ratedPaper(json: string): RatedPaper | null {
  let p: unknown;
  try {
    p = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof p !== "object" || p === null) return null;
  const o = p as Record<string, unknown>;
  if (typeof o.id !== "string") return null;
  return {
    id: o.id,
    title: typeof o.title === "string" ? o.title : o.id,
    topics: strings(o.topics),
    keywords: strings(o.keywords),
    upvotes: typeof o.upvotes === "number" && Number.isFinite(o.upvotes) ? o.upvotes : 0,
  };
}

export type PaperLookup = { ok: true; paper: RatedPaper } | { ok: false; reason: "no_issue" | "no_paper" };

/**
 * The paper `paperId` of the week's issue, from its top papers or its pool, if that issue may have been mailed.
 * Raw SQL: json_each finds the one paper inside D1, so the Worker never parses a pool of hundreds of papers.
 */
export async function findRatedPaper(d1: D1Database, week: string, paperId: string): Promise<PaperLookup> {
  const row = await d1
    .prepare(
      `SELECT coalesce(
         (SELECT value FROM json_each(issues.papers) WHERE type = 'object' AND json_extract(value, '$.id') = ?2 LIMIT 1),
         (SELECT value FROM json_each(issues.pool) WHERE type = 'object' AND json_extract(value, '$.id') = ?2 LIMIT 1)
       ) AS paper
       FROM issues WHERE week = ?1 AND status IN (${RATEABLE_STATUSES}) AND papers IS NOT NULL`,
    )
    .bind(week, paperId)
    .first<{ paper: string | null }>();
  if (!row) return { ok: false, reason: "no_issue" };
  const paper = row.paper === null ? null : ratedPaper(row.paper);
  return paper ? { ok: true, paper } : { ok: false, reason: "no_paper" };
}

/** Only readers who get the digest rate (a pause is still active). */
export const canRate = (status: string) => status === "active";

/** The reader's status, stored taste (raw text) and current rating of the paper, in one read. */
const readerState = (d1: D1Database, subscriberId: number, paperId: string) =>
  database(d1)
    .select({ status: subscribers.status, taste: subscribers.taste, previous: ratings.direction })
    .from(subscribers)
    .leftJoin(ratings, and(eq(ratings.subscriberId, subscribers.id), eq(ratings.paperId, paperId)))
    .where(eq(subscribers.id, subscriberId))
    .get();

/** The reader's current rating of a paper, if any (the GET page says when pressing the button would change nothing). */
export async function currentRating(d1: D1Database, subscriberId: number, paperId: string): Promise<Rating | null> {
  const state = await readerState(d1, subscriberId, paperId);
  return asRating(state?.previous);
}

const asRating = (v: unknown): Rating | null => (v === 1 || v === -1 ? v : null);

export type RateOutcome =
  /** Recorded (`changed`), or already so (`changed: false`: the same rating again changes nothing). */
  | { kind: "rated"; previous: Rating | null; changed: boolean }
  /** The reader no longer gets the digest (unsubscribed, suppressed, erased) . */
  | { kind: "gone" }
  /** Lost the race to other ratings of the same reader every time: nothing was written. */
  | { kind: "busy" };

// Each lost race is another rating of the reader that succeeded: N ratings at once all land within N attempts.
export const RATE_ATTEMPTS = 5;

/**
 * Records a rating: the last one counts. Reads the reader's taste and their previous rating of the paper, computes
 * the new taste (`rerate` undoes the previous rating and applies this one), and writes both in one D1 batch. D1 has
 * no interactive transactions, so the write is guarded instead: the taste update applies only if the taste and the
 * paper's rating are still what was read (and the reader still active), and the rating upsert chains on its
 * changes(). A rating that lost the race to another one of the same reader reads again and retries.
 */
export async function recordRating(
  d1: D1Database,
  subscriberId: number,
  paper: RatedPaper,
  week: string,
  next: Rating,
  now = Date.now(),
): Promise<RateOutcome> {
  for (let attempt = 0; attempt < RATE_ATTEMPTS; attempt++) {
    const state = await readerState(d1, subscriberId, paper.id);
    if (!state || !canRate(state.status)) return { kind: "gone" };
    const previous = asRating(state.previous);
    if (previous === next) return { kind: "rated", previous, changed: false };
    const taste = serializeTaste(rerate(parseTaste(state.taste), paper, previous, next));
    // Raw SQL: the upsert chains on changes() of the guarded update, inside one D1 batch (one transaction).
    const [update] = await d1.batch([
      d1
        .prepare(
          `UPDATE subscribers SET taste = ?1 WHERE id = ?2 AND status = 'active' AND taste IS ?3
             AND (SELECT direction FROM ratings WHERE subscriber_id = ?2 AND paper_id = ?4) IS ?5`,
        )
        .bind(taste, subscriberId, state.taste, paper.id, previous),
      d1
        .prepare(
          `INSERT INTO ratings (subscriber_id, paper_id, direction, week, at) SELECT ?1, ?2, ?3, ?4, ?5 WHERE changes() > 0
           ON CONFLICT (subscriber_id, paper_id) DO UPDATE SET direction = excluded.direction, week = excluded.week, at = excluded.at`,
        )
        .bind(subscriberId, paper.id, next, week, now),
    ]);
    if ((update?.meta.changes ?? 0) > 0) return { kind: "rated", previous, changed: true };
  }
  return { kind: "busy" };
}
