/** Issues end to end (the delivery project): subscribers to send to, run records, and the emails Resend received. */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { StoredEmail } from "../emulators/resend";
import { ADMIN, importActive as importEmails } from "./admin";
import { call } from "./helpers";
import { waitFor } from "./poll";

export { ADMIN };

/** Imports n active subscribers, <prefix>0@example.com … */
export async function importActive(prefix: string, n: number) {
  await importEmails(...Array.from({ length: n }, (_, i) => `${prefix}${i}@example.com`));
}

/** Recipients expected for an issue: every active, unpaused subscriber at the time its batches are cut. */
export async function activeEmails() {
  const { results } = await env.DB.prepare(
    "SELECT email FROM subscribers WHERE status = 'active' AND (paused_until IS NULL OR paused_until <= ?)",
  )
    .bind(Date.now())
    .all<{ email: string }>();
  return results.map((r) => r.email).sort();
}

export type RunRecord = Record<string, unknown> & {
  status: string;
  sent: number;
  recipients: number;
  batches: number;
  batches_sent: number;
  api_calls: number;
  retries: number;
  failures: number;
  delivered: number;
  complained: number;
  paused_reason: string | null;
};

/** The run record of a week's issue (GET /admin/digests/<week>), which must exist. */
export async function record(week: string) {
  const res = await call(`/admin/digests/${week}`, { headers: ADMIN });
  expect(res.status, `run record of ${week}`).toBe(200);
  return (await res.json()) as RunRecord;
}

/** Waits until the week's issue is sent, skipped or failed, and returns its run record. */
export const untilSettled = (week: string, timeoutMs = 50_000) =>
  waitFor(
    `issue ${week} settled`,
    async () => {
      const res = await call(`/admin/digests/${week}`, { headers: ADMIN });
      return res.status === 200 ? ((await res.json()) as RunRecord) : null;
    },
    (r) => r !== null && ["sent", "skipped", "failed"].includes(r.status),
    timeoutMs,
  ) as Promise<RunRecord>;

/** The emails of a week's issue among those Resend (the emulator) received. */
export const issueEmails = async (resend: { emails: () => Promise<StoredEmail[]> }, week: string) =>
  (await resend.emails()).filter((e) => e.tags.some((t) => t.name === "issue" && t.value === week));

/** Each expected address got exactly one email, addressed to it alone, and nobody else got one. */
export function expectExactlyOnce(emails: { to: string[] }[], expected: string[]) {
  const to = emails.flatMap((e) => {
    expect(e.to).toHaveLength(1); // each email is addressed to one subscriber only
    return e.to;
  });
  expect(to.sort()).toEqual(expected);
}
