import { Hono } from "hono";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { suppressStatements } from "../db/privacy";
import { ApiError, type AppEnv, limitBody } from "../lib/http";

/**
 * Resend's delivery webhooks, signed the Svix way (svix-id, svix-timestamp, svix-signature over the raw body).
 * Timestamps more than 5 minutes off are refused; each svix-id is processed once (Resend retries for a day).
 * Hard bounces and complaints suppress the address at once; delivery, bounce and complaint counts are kept per
 * issue, and a complaint rate over 0.1 % of an issue's deliveries pauses its remaining batches.
 */
export const webhooks = new Hono<AppEnv>();

type Payload = {
  type?: unknown;
  created_at?: unknown;
  data?: { to?: unknown; tags?: unknown; bounce?: { type?: unknown } };
};

/** Resend sends tags as an object ({issue: "2026-W47"}); arrays of {name, value} are accepted too. */
function issueTag(tags: unknown): string | null {
  let value: unknown;
  if (Array.isArray(tags))
    value = tags.find((t) => t && typeof t === "object" && (t as { name?: unknown }).name === "issue")?.value;
  else if (tags && typeof tags === "object") value = (tags as Record<string, unknown>).issue;
  return typeof value === "string" && /^\d{4}-W\d{2}$/.test(value) ? value : null;
}

const recipients = (to: unknown): string[] =>
  (Array.isArray(to) ? to : typeof to === "string" ? [to] : [])
    .filter((a): a is string => typeof a === "string" && a.includes("@") && a.length <= 320)
    .slice(0, 50);

webhooks.post("/webhooks/resend", limitBody(256 * 1024, "Webhook bodies"), async (c) => {
  const cfg = c.get("cfg");
  if (!cfg.resendWebhookSecret) throw new ApiError(404, "not_found", "Not found.");
  const raw = await c.req.text();
  const id = c.req.header("svix-id") ?? "";
  let payload: Payload;
  try {
    payload = new Webhook(cfg.resendWebhookSecret).verify(raw, {
      "webhook-id": id,
      "webhook-timestamp": c.req.header("svix-timestamp") ?? "",
      "webhook-signature": c.req.header("svix-signature") ?? "",
    }) as Payload;
  } catch (err) {
    const message = err instanceof Error ? err.message : "";
    if (err instanceof WebhookVerificationError && /too (old|new)/.test(message))
      throw new ApiError(400, "stale_timestamp", "The svix-timestamp is more than 5 minutes off.");
    if (err instanceof SyntaxError) throw new ApiError(400, "invalid_json", "The signed body is not JSON.");
    throw new ApiError(401, "invalid_signature", "The svix signature does not match.");
  }
  if (!payload || typeof payload !== "object" || id.length > 256)
    throw new ApiError(400, "invalid_body", "Expected a Resend event object.");

  const type = typeof payload.type === "string" ? payload.type.slice(0, 64) : "unknown";
  const data = payload.data ?? {};
  const week = issueTag(data.tags);
  const now = Date.now();
  const d1 = c.env.DB;
  const statements: D1PreparedStatement[] = [];
  // Every effect is guarded by the svix-id: the record of this id is inserted last in the same D1 batch, so a replay
  // (or a concurrent duplicate, or the same id with another payload) applies nothing at all.
  const counter = (column: "delivered" | "bounced" | "complained") => {
    if (week)
      statements.push(
        d1
          .prepare(
            `UPDATE issues SET ${column} = ${column} + 1 WHERE week = ? AND NOT EXISTS (SELECT 1 FROM webhook_events WHERE svix_id = ?)`,
          )
          .bind(week, id),
      );
  };
  const suppressAll = async (reason: "bounce" | "complaint") => {
    statements.push(...(await suppressStatements(d1, recipients(data.to), reason, now, id)));
  };

  switch (type) {
    case "email.delivered":
      counter("delivered");
      break;
    case "email.bounced":
      counter("bounced");
      // Transient bounces (mailbox full, greylisting) are retried by the receiving side; only permanent ones suppress.
      if (String(data.bounce?.type ?? "Permanent").toLowerCase() !== "transient") await suppressAll("bounce");
      break;
    case "email.complained":
      counter("complained");
      await suppressAll("complaint");
      if (week)
        statements.push(
          d1
            .prepare(
              `UPDATE issues SET status = 'paused',
                   paused_reason = 'complaint rate ' || printf('%.2f', complained * 100.0 / delivered) || '% (' || complained || ' of ' || delivered || ' delivered) is over 0.1%'
                 WHERE week = ? AND status = 'sending' AND delivered >= ? AND complained * 1000 > delivered
                   AND NOT EXISTS (SELECT 1 FROM webhook_events WHERE svix_id = ?)`,
            )
            .bind(week, cfg.breakerMinDeliveries, id),
        );
      break;
    case "email.suppressed":
      // Resend itself refused the address (on its suppression list): never try it again.
      await suppressAll("bounce");
      break;
    default:
      // Other events (sent, opened, clicked, delivery_delayed, …) and unknown types: acknowledged, nothing to do.
      return c.json({ status: "ignored", type });
  }

  // The effects and the record of this svix-id commit together, in one transaction.
  const results = await d1.batch([
    ...statements,
    d1
      .prepare(
        "INSERT INTO webhook_events (svix_id, type, received_at) VALUES (?, ?, ?) ON CONFLICT (svix_id) DO NOTHING",
      )
      .bind(id, type, now),
  ]);
  if ((results.at(-1)!.meta.changes ?? 0) === 0) return c.json({ status: "duplicate" });
  return c.json({ status: "processed", type });
});
