import { Hono } from "hono";
import { Resend } from "resend";
import { applyDeliveryEvent } from "../digest/feedback";
import { ApiError, type AppEnv, limitBody } from "../lib/http";

/**
 * Resend's delivery webhooks: this adapter only verifies (Svix signature over the raw body, timestamps within 5
 * minutes, through the resend SDK's own `webhooks.verify`) and parses; what an event changes is decided in
 * src/digest/feedback.ts.
 */
export const webhooks = new Hono<AppEnv>();

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

webhooks.post("/resend", limitBody(256 * 1024, "Webhook bodies"), async (c) => {
  const cfg = c.get("cfg");
  if (!cfg.resendWebhookSecret) throw new ApiError(404, "not_found", "Not found.");
  const id = c.req.header("svix-id") ?? "";
  let payload: unknown;
  try {
    // verify() needs no API call; the client only wants a key to exist.
    payload = new Resend(cfg.resendApiKey || "re_webhooks_only").webhooks.verify({
      payload: await c.req.text(),
      headers: {
        id,
        timestamp: c.req.header("svix-timestamp") ?? "",
        signature: c.req.header("svix-signature") ?? "",
      },
      webhookSecret: cfg.resendWebhookSecret,
    });
  } catch (err) {
    const name = err instanceof Error ? err.name : "";
    if (name === "WebhookVerificationError" && /too (old|new)/.test((err as Error).message))
      throw new ApiError(400, "stale_timestamp", "The svix-timestamp is more than 5 minutes off.");
    if (err instanceof SyntaxError) throw new ApiError(400, "invalid_json", "The signed body is not JSON.");
    throw new ApiError(401, "invalid_signature", "The svix signature does not match.");
  }
  if (!payload || typeof payload !== "object" || id.length > 256)
    throw new ApiError(400, "invalid_body", "Expected a Resend event object.");

  // Signed, but still only data: every field is checked before use.
  const event = payload as { type?: unknown; data?: { to?: unknown; tags?: unknown; bounce?: { type?: unknown } } };
  const type = typeof event.type === "string" ? event.type.slice(0, 64) : "unknown";
  const data = event.data && typeof event.data === "object" ? event.data : {};
  const status = await applyDeliveryEvent(c.env.DB, cfg, {
    id,
    type,
    week: issueTag(data.tags),
    to: recipients(data.to),
    bounceType: data.bounce?.type === undefined ? undefined : String(data.bounce.type),
  });
  return c.json(status === "duplicate" ? { status } : { status, type });
});
