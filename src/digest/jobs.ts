import type { Recipient } from "./store";

/**
 * Messages on DIGEST_QUEUE.
 * - fanout: build the issue if needed, then cut the next pages of active subscribers into batches.
 *   `requeue` re-sends the messages of batches still queued (after a crash or a manual re-trigger).
 * - batch: up to 100 recipients, frozen at fan-out, sent in one Resend batch call.
 */
export type DigestJob =
  | { kind: "fanout"; week: string; requeue?: boolean }
  | { kind: "batch"; week: string; batchId: number; batchNo: number; recipients: Recipient[] };
