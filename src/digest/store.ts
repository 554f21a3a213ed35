import type { Paper } from "../papers/paper";
import { type Edition, receivesSql } from "./cadence";

/**
 * D1 access for the digest run, metered: every statement's `meta.rows_read` / `rows_written` (D1's own
 * billing figures) is added up and stored in the issue's run record.
 */
/** A raw statement: SQL and its bound parameters. */
export type Statement = [string, ...unknown[]];

export class MeteredDb {
  rowsRead = 0;
  rowsWritten = 0;
  constructor(readonly d1: D1Database) {}

  private add(meta: D1Meta) {
    this.rowsRead += meta.rows_read ?? 0;
    this.rowsWritten += meta.rows_written ?? 0;
  }
  async all<T>(sql: string, ...params: unknown[]): Promise<T[]> {
    const r = await this.d1
      .prepare(sql)
      .bind(...params)
      .all<T>();
    this.add(r.meta);
    return r.results;
  }
  async first<T>(sql: string, ...params: unknown[]): Promise<T | null> {
    return (await this.all<T>(sql, ...params))[0] ?? null;
  }
  /** `counted: false` for statements whose cost the caller already wrote into the run record. */
  async batch(statements: Statement[], counted = true) {
    const results = await this.d1.batch(statements.map(([sql, ...params]) => this.d1.prepare(sql).bind(...params)));
    if (counted) for (const r of results) this.add(r.meta);
    return results;
  }
  /** Takes the counted rows out (to be written into the run record). */
  drain() {
    const cost = { read: this.rowsRead, written: this.rowsWritten };
    this.rowsRead = this.rowsWritten = 0;
    return cost;
  }
}

/** A "For you" pick frozen with its reader: the paper's index in the papers + pool, then why it was picked. */
export type ForYouPick = [index: number, ...why: string[]];

/**
 * One recipient of a frozen batch; `key` is their link key (absent in lists cut before link keys), `f` their "For you"
 * picks (absent: the global edition).
 */
export interface Recipient {
  id: number;
  email: string;
  key?: string;
  f?: ForYouPick[];
}

/** Daily editions looked back on for "already sent" (two months: a paper is on Daily Papers for one day, rarely two). */
const DAILY_LOOKBACK = 62;

/**
 * Paper ids of the earlier editions of the same cadence that went out, so no paper reaches a stream twice: every
 * earlier weekly issue, or the last DAILY_LOOKBACK daily editions (bounded, so the read stays small as days pile up).
 */
export async function sentPaperIds(db: MeteredDb, edition: Edition): Promise<Set<string>> {
  const rows = await db.all<{ papers: string }>(
    "SELECT papers FROM issues WHERE week <> ? AND cadence = ? AND status IN ('sending', 'sent') AND papers IS NOT NULL ORDER BY started_at DESC LIMIT ?",
    edition.key,
    edition.cadence,
    edition.cadence === "daily" ? DAILY_LOOKBACK : -1,
  );
  const ids = new Set<string>();
  for (const r of rows) for (const p of JSON.parse(r.papers) as Paper[]) ids.add(p.id);
  return ids;
}

/**
 * The edition's readers after `cursor` — active, not paused, of its cadence for its week (src/digest/cadence.ts) — in
 * id order: keyset pagination on the cadence's partial index, so a daily fan-out reads only daily readers.
 */
export const activePage = (db: MeteredDb, edition: Edition, cursor: number, now: number, limit: number) =>
  db.all<Recipient & { topics: string | null; taste: string | null }>(
    `SELECT id, email, link_key AS key, topics, taste FROM subscribers WHERE ${receivesSql(edition.cadence)} AND id > ? AND (paused_until IS NULL OR paused_until <= ?) ORDER BY id LIMIT ?`,
    edition.week,
    cursor,
    now,
    limit,
  );

/** Adds the counters (and the cost of this very statement, one written row). */
export function bump(
  week: string,
  c: Partial<
    Record<
      | "recipients"
      | "batches"
      | "batches_sent"
      | "sent"
      | "api_calls"
      | "retries"
      | "failures"
      | "rows_read"
      | "rows_written",
      number
    >
  >,
): Statement {
  const cols = Object.entries({ ...c, rows_written: (c.rows_written ?? 0) + 1 }).filter(([, v]) => v);
  const sets = cols.map(([k]) => `${k} = ${k} + ?`);
  return [`UPDATE issues SET ${sets.join(", ")} WHERE week = ?`, ...cols.map(([, v]) => v), week];
}
