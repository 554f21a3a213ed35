import type { Cadence } from "../db/schema";

/**
 * Messages on MAIL_QUEUE. Only ids travel: the consumer reads the current state before sending.
 * - confirm / welcome: one email a signup or a confirmation asked for; the consumer freezes the emails of a whole
 *   queue batch into one mail batch (one Resend call).
 * - batch: send (again) a mail batch already frozen, after a refusal or an ambiguous failure, or once Resend's
 *   quota is back.
 */
export type MailJob =
  | { kind: "confirm"; subscriberId: number; sentAt: number }
  | { kind: "welcome"; subscriberId: number }
  | { kind: "batch"; batchId: number }
  /** Sent by a signup that needs no email, so every signup makes the same calls (src/routes/subscribe.ts). */
  | { kind: "noop" };

/**
 * One transactional email as frozen in a mail batch: what renders it, not the rendered body (rendering is
 * deterministic, so a retry rebuilds the same body under the same key). `key` is the subscriber's link key. `at` is the time its link is made from:
 * the confirmation's send time, the confirmation time for a welcome, the request time for a test send.
 */
export type MailItem =
  | { kind: "confirm"; sub: number; key: string; email: string; at: number }
  /** `cadence` as it was at confirmation (absent in items frozen before readers chose one: weekly). */
  | { kind: "welcome"; sub: number; key: string; email: string; at: number; cadence?: Cadence }
  /** An operator's test send of an issue: its rendered content travels with it (one email, rendered once). */
  | { kind: "test"; id: string; week: string; email: string; at: number; subject: string; html: string; text: string };

/** The key that makes a job land in one mail batch only, however often the queue delivers it. */
export const itemKey = (item: MailItem) =>
  item.kind === "test" ? `test/${item.id}` : `${item.kind}/${item.sub}/${item.at}`;
