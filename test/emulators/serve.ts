import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { Hono } from "hono";
import { createAccessEmulator } from "./access";
import { createHuggingFaceEmulator } from "./huggingface";
import { createResendEmulator } from "./resend";
import { createTurnstileEmulator } from "./turnstile";

function listen(
  fetch: (req: Request) => Response | Promise<Response>,
  port = 0,
): Promise<{ url: string; server: ServerType }> {
  return new Promise((resolve) => {
    const server = serve({ fetch, port, hostname: "127.0.0.1" }, (info: AddressInfo) =>
      resolve({ url: `http://127.0.0.1:${info.port}`, server }),
    );
    // Never keeps a test run or a benchmark alive on its own.
    (server as { unref?: () => void }).unref?.();
  });
}

/** Starts the emulators on free loopback ports (or the given ones) for tests, benchmarks and manual runs. */
export async function startEmulators(opts: { resendPort?: number; turnstilePort?: number } = {}) {
  const resend = createResendEmulator();
  const r = await listen(resend.fetch, opts.resendPort);
  // Cloudflare's services on one server: Turnstile's siteverify and Access's certs (test/emulators/access.ts).
  const cloudflare = new Hono().route("/", createTurnstileEmulator()).route("/", createAccessEmulator());
  const t = await listen(cloudflare.fetch, opts.turnstilePort);
  const h = await listen(createHuggingFaceEmulator().fetch);
  return {
    resendUrl: r.url,
    turnstileUrl: `${t.url}/turnstile/v0/siteverify`,
    huggingFaceUrl: h.url,
    resend,
    close: () => Promise.all([r, t, h].map((s) => new Promise((done) => s.server.close(done)))),
  };
}
