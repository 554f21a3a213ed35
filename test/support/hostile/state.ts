import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { waitFor } from "../poll";

/** Every table a request could change. */
export const TABLES = [
  "subscribers",
  "outbox",
  "issues",
  "issue_batches",
  "mail_batches",
  "mail_items",
  "departures",
  "suppressions",
  "webhook_events",
] as const;
export type State = Record<(typeof TABLES)[number], Record<string, unknown>[]>;

export async function snapshot(): Promise<State> {
  const results = await env.DB.batch(TABLES.map((t) => env.DB.prepare(`SELECT * FROM ${t} ORDER BY rowid`)));
  return Object.fromEntries(TABLES.map((t, i) => [t, results[i]!.results as Record<string, unknown>[]])) as State;
}

/** What differs between two states, table by table (empty: identical). */
export function diff(a: State, b: State): string[] {
  const out: string[] = [];
  for (const t of TABLES) {
    const x = a[t].map((r) => JSON.stringify(r));
    const y = b[t].map((r) => JSON.stringify(r));
    if (x.length !== y.length) out.push(`${t}: ${x.length} → ${y.length} rows`);
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      if (x[i] !== y[i]) {
        out.push(`${t}[${i}]: ${(x[i] ?? "(none)").slice(0, 300)} → ${(y[i] ?? "(none)").slice(0, 300)}`);
        if (out.length > 8) return out;
      }
    }
  }
  return out;
}

/** Waits until two snapshots `ms` apart are equal (the background queue consumers are idle). */
export async function settle(ms = 300, timeoutMs = 30_000) {
  let prev: string | undefined;
  await waitFor(
    "the database to settle",
    async () => {
      const now = JSON.stringify(await snapshot());
      const same = now === prev;
      prev = now;
      return same;
    },
    Boolean,
    timeoutMs,
    ms,
  );
}

export async function expectUnchanged(before: State) {
  // A rejected request could still have queued a job whose effect lands a moment later: give the consumer time.
  await settle();
  expect(diff(before, await snapshot()), "state changed").toEqual([]);
}

// ---------------------------------------------------------------------------------------------------------------
// A lighter check, for files whose earlier tests leave mail in flight: the subscribers table alone.

const allSubscribers = async () =>
  (await env.DB.prepare("SELECT * FROM subscribers ORDER BY id").all<Record<string, unknown>>()).results;
/** The subscribers table, as text. */
export const subscribersNow = async () => JSON.stringify(await allSubscribers());
const outboxRecipients = async () =>
  (await env.DB.prepare("SELECT to_address FROM outbox").all<{ to_address: string }>()).results.map(
    (r) => r.to_address,
  );

/**
 * Nothing was stored: the subscribers table is byte-identical to `before` (same rows, same values), no row holds one
 * of the `sent` addresses, and every outbox recipient is a subscriber that existed before (the queue consumer may
 * still be mailing earlier signups in the background, but only ever rows of the subscribers table).
 */
export async function expectNothingStored(before: string, sent: Set<string>) {
  const known = new Set((JSON.parse(before) as { email: string }[]).map((r) => r.email));
  const rows = await allSubscribers();
  expect(rows.length).toBe(known.size);
  expect(JSON.stringify(rows)).toBe(before);
  for (const row of rows) {
    expect(sent.has(String(row.email))).toBe(false);
    expect(sent.has(String(row.email_key))).toBe(false);
  }
  for (const to of await outboxRecipients()) {
    expect(sent.has(to), `mail to generated address ${JSON.stringify(to)}`).toBe(false);
    expect(known.has(to), `mail to unknown address ${JSON.stringify(to)}`).toBe(true);
  }
}
