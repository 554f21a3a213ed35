import type { ImportJob } from "../db/imports";

/**
 * Messages on DIGEST_QUEUE. Only ids travel (a few dozen bytes each), whatever the addresses or the content.
 * - fanout: build the issue if needed, then cut the next pages of active subscribers into batches.
 *   `requeue` re-sends the messages of batches still queued (after a crash, a re-trigger or a resume).
 * - batch: one frozen batch of up to 100 recipients (its row in issue_batches), sent in one Resend batch call.
 * - import: one chunk of a CSV list uploaded on the dashboard (src/db/imports.ts).
 */

export type DigestJob =
  | { kind: "fanout"; week: string; requeue?: boolean }
  | { kind: "batch"; week: string; batchId: number }
  | ImportJob;

/** The jobs of one issue (every kind but import). */
export type IssueJob = Exclude<DigestJob, ImportJob>;
