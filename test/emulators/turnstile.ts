import { Hono } from "hono";

/**
 * Cloudflare Turnstile's siteverify endpoint, as documented: form POST with secret, response, remoteip;
 * answers {success, "error-codes"}. Cloudflare's published test tokens behave as they do for real:
 * "XXXX.DUMMY.TOKEN.XXXX" passes with any test secret; anything else fails with invalid-input-response.
 */
export const PASSING_TOKEN = "XXXX.DUMMY.TOKEN.XXXX";
export const TEST_SECRET = "1x0000000000000000000000000000000AA";

export function createTurnstileEmulator() {
  const app = new Hono();
  app.post("/turnstile/v0/siteverify", async (c) => {
    const form = await c.req.parseBody();
    const secret = typeof form.secret === "string" ? form.secret : "";
    const response = typeof form.response === "string" ? form.response : "";
    if (!secret) return c.json({ success: false, "error-codes": ["missing-input-secret"] });
    if (secret !== TEST_SECRET) return c.json({ success: false, "error-codes": ["invalid-input-secret"] });
    if (!response) return c.json({ success: false, "error-codes": ["missing-input-response"] });
    if (response !== PASSING_TOKEN) return c.json({ success: false, "error-codes": ["invalid-input-response"] });
    return c.json({ success: true, "error-codes": [], challenge_ts: new Date().toISOString(), hostname: "localhost" });
  });
  return app;
}
