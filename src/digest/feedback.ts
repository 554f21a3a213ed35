import type { Config } from "../config";
import { suppressStatements } from "../db/suppressions";
import { countFeedback, tripBreaker } from "./issues";

/** A delivery event from Resend, as the webhook adapter parsed it (src/routes/webhooks.ts). */
export interface DeliveryEvent {
  /** Svix's message id: each is applied once. */
  id: string;
  type: string;
  /** The issue the email belonged to (its `issue` tag), if it was a digest. */
  week: string | null;
  to: string[];
  /** For bounces: Resend's bounce type ("Permanent", "Transient", …). */
  bounceType?: string;
}

/**
 * What a delivery event changes: per-issue delivered/bounced/complained counts, the suppression list for permanent
 * bounces, complaints and Resend's own suppressions, and the complaint circuit breaker. Every effect and the record
 * of the event id commit together in one D1 transaction, each guarded by that id, so a replayed event (or two copies
 * racing, or the same id with another payload) applies nothing at all.
 */
export async function applyDeliveryEvent(
  d1: D1Database,
  cfg: Config,
  e: DeliveryEvent,
  now = Date.now(),
): Promise<"processed" | "duplicate" | "ignored"> {
  const statements: D1PreparedStatement[] = [];
  const count = (column: "delivered" | "bounced" | "complained") => {
    if (e.week) statements.push(countFeedback(d1, e.week, column, e.id));
  };
  const suppress = async (reason: "bounce" | "complaint") =>
    statements.push(...(await suppressStatements(d1, e.to, reason, now, e.id)));

  switch (e.type) {
    case "email.delivered":
      count("delivered");
      break;
    case "email.bounced":
      count("bounced");
      // Transient bounces (mailbox full, greylisting) are retried by the receiving side; only permanent ones suppress.
      if ((e.bounceType ?? "Permanent").toLowerCase() !== "transient") await suppress("bounce");
      break;
    case "email.complained":
      count("complained");
      await suppress("complaint");
      if (e.week) statements.push(tripBreaker(d1, e.week, cfg.breakerMinDeliveries, e.id));
      break;
    case "email.suppressed":
      // Resend itself refused the address (on its suppression list): never try it again.
      await suppress("bounce");
      break;
    default:
      // Other events (sent, opened, clicked, delivery_delayed, …) and unknown types: acknowledged, nothing to do.
      return "ignored";
  }
  const results = await d1.batch([
    ...statements,
    d1
      .prepare(
        "INSERT INTO webhook_events (svix_id, type, received_at) VALUES (?, ?, ?) ON CONFLICT (svix_id) DO NOTHING",
      )
      .bind(e.id, e.type, now),
  ]);
  return results.at(-1)?.meta.changes ? "processed" : "duplicate";
}
