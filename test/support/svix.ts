import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import { BASE } from "./helpers";

/** A fresh Resend webhook secret (Svix format: whsec_ + base64 key). */
export const webhookSecret = () => `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(24))))}`;

/**
 * The headers Svix sends with a webhook: id, timestamp and the HMAC-SHA256 signature of `id.timestamp.body`,
 * computed here with crypto.subtle so that nothing of the code under test takes part in producing it.
 */
export async function svixHeaders(secret: string, id: string, body: string, when = new Date()) {
  const timestamp = String(Math.floor(when.getTime() / 1000));
  const keyBytes = Uint8Array.from(atob(secret.slice("whsec_".length)), (ch) => ch.charCodeAt(0));
  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestamp}.${body}`)),
  );
  return {
    "content-type": "application/json",
    "svix-id": id,
    "svix-timestamp": timestamp,
    "svix-signature": `v1,${btoa(String.fromCharCode(...mac))}`,
  };
}

/** A Resend webhook secret for one test file, and a signer of events the Svix way. */
export function webhookSender(overrides: Partial<Env> = {}) {
  const secret = webhookSecret();
  /** Posts one signed event to the Worker (configured with this secret) and returns its answer. */
  return async (type: string, data: Record<string, unknown>, id = `msg_${crypto.randomUUID().replaceAll("-", "")}`) => {
    const body = JSON.stringify({ type, created_at: new Date().toISOString(), data });
    const req = new Request(new URL("/webhooks/resend", BASE), {
      method: "POST",
      headers: await svixHeaders(secret, id, body),
      body,
    });
    return worker.fetch!(
      req as never,
      { ...env, RESEND_WEBHOOK_SECRET: secret, ...overrides },
      createExecutionContext(),
    );
  };
}
