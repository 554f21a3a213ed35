import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import { BASE } from "./helpers";

/** A Resend webhook secret for one test file, and a signer of events the Svix way. */
export function webhookSender(overrides: Partial<Env> = {}) {
  const secret = `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(24))))}`;
  async function signature(id: string, timestamp: string, body: string) {
    const keyBytes = Uint8Array.from(atob(secret.slice("whsec_".length)), (ch) => ch.charCodeAt(0));
    const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(
      await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestamp}.${body}`)),
    );
    return `v1,${btoa(String.fromCharCode(...mac))}`;
  }
  /** Posts one signed event to the Worker (configured with this secret) and returns its answer. */
  return async (type: string, data: Record<string, unknown>, id = `msg_${crypto.randomUUID().replaceAll("-", "")}`) => {
    const body = JSON.stringify({ type, created_at: new Date().toISOString(), data });
    const ts = String(Math.floor(Date.now() / 1000));
    const req = new Request(new URL("/webhooks/resend", BASE), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "svix-id": id,
        "svix-timestamp": ts,
        "svix-signature": await signature(id, ts, body),
      },
      body,
    });
    return worker.fetch!(
      req as never,
      { ...env, RESEND_WEBHOOK_SECRET: secret, ...overrides },
      createExecutionContext(),
    );
  };
}
