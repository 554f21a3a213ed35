import { Hono } from "hono";

// Placeholder until the full emulator lands (see test/emulators/README).
export function createResendEmulator() {
  const app = new Hono();
  app.post("/emails", (c) => c.json({ id: crypto.randomUUID() }));
  return app;
}
