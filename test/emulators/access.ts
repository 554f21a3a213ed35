import { Hono } from "hono";

/**
 * Cloudflare Access's certs endpoint (https://<team>/cdn-cgi/access/certs: {keys: [JWK…]}), one key set per name.
 * Tests generate their own key pair and PUT the public half here; the Worker fetches it as it would the team's keys.
 */
export function createAccessEmulator() {
  const app = new Hono();
  const sets = new Map<string, unknown>();
  app.put("/access/:set/certs", async (c) => {
    sets.set(c.req.param("set"), await c.req.json());
    return c.body(null, 204);
  });
  app.get("/access/:set/certs", (c) => {
    const set = sets.get(c.req.param("set"));
    return set ? c.json(set) : c.json({ error: "no such key set" }, 404);
  });
  return app;
}
