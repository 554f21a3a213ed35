import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type Config, LOOPBACK_HOSTS } from "../config";

export type AppEnv = {
  Bindings: Env;
  Variables: { cfg: Config; secureHeadersNonce?: string; framed?: boolean; wide?: boolean };
};
export type Ctx = Context<AppEnv>;

/**
 * A client error with a stable machine code; rendered as JSON or as a page by app.onError. `details` are more fields
 * of the JSON error object, next to code and message (a page shows the message only).
 */
export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly details: Record<string, unknown> = {},
  ) {
    super(status, { message });
  }
}

/**
 * A client error that is always answered with a page, whatever the client asked for: personal links are opened from
 * an email, in a browser. `message` is the page's paragraph; `retry` a way to start over, as a path on PUBLIC_URL.
 */
export class PageError extends ApiError {
  constructor(
    status: ContentfulStatusCode,
    code: string,
    readonly page: { title: string; heading: string; retry: { path: string; label: string } },
    message: string,
  ) {
    super(status, code, message);
  }
}

/** A browser submitting a plain HTML form wants a page back; fetch() callers asking for JSON get JSON. */
export function wantsHtml(c: Context): boolean {
  const accept = c.req.header("accept") ?? "";
  if (accept.includes("application/json")) return false;
  const type = c.req.header("content-type") ?? "";
  if (c.req.method === "GET") return accept.includes("text/html");
  return type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data");
}

/** Hono's bodyLimit with our error shape: 413 and a message that says the limit. */
export const limitBody = (maxSize: number, what = "The request body") =>
  bodyLimit({
    maxSize,
    onError: () => {
      const size = maxSize >= 1024 * 1024 ? `${maxSize / 1024 / 1024} MiB` : `${maxSize / 1024} KiB`;
      throw new ApiError(413, "body_too_large", `${what} must be under ${size}.`);
    },
  });

/**
 * A middleware whose options come from the configuration, built once per config object (config() keeps one per env,
 * so in practice once per isolate) instead of on every request.
 */
export function perConfig(build: (cfg: Config) => MiddlewareHandler): MiddlewareHandler<AppEnv> {
  const built = new WeakMap<Config, MiddlewareHandler>();
  return (c, next) => {
    const cfg = c.get("cfg");
    let middleware = built.get(cfg);
    if (!middleware) {
      middleware = build(cfg);
      built.set(cfg, middleware);
    }
    return middleware(c, next);
  };
}

export const clientIp = (c: Context) => c.req.header("cf-connecting-ip") ?? "unknown";

/** Local development (LOCAL_DEV=1) and a request to a loopback host: only then do dev pages and headers exist. */
export const isLocalRequest = (c: Ctx) => c.get("cfg").local && LOOPBACK_HOSTS.has(new URL(c.req.url).hostname);

/**
 * What the per-client limits count: an IPv4 address, or the /64 network of an IPv6 address (one subscriber line, or
 * one host, gets a whole /64: keying on the full address would give an attacker 2^64 buckets).
 */
export function ipBucket(ip: string): string {
  if (!ip.includes(":")) return ip;
  const [head = "", tail = ""] = ip.toLowerCase().split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  // An embedded IPv4 tail (::ffff:192.0.2.1) counts as two groups; it lies beyond the first 64 bits anyway.
  const groups = ip.includes("::") ? [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill("0"), ...t] : h;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/** Rate limit by client IP (an IPv6 client by its /64) through a Workers rate-limit binding; 429 with Retry-After when over. */
export function limitByIp(pick: (env: Env) => RateLimit, periodSec = 60): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { success } = await pick(c.env).limit({ key: ipBucket(clientIp(c)) });
    if (!success)
      throw new ApiError(
        429,
        "rate_limited",
        "Too many requests from your network. Please wait a minute and try again.",
        { "Retry-After": String(periodSec) },
      );
    await next();
  };
}

/** Origin of the page a signup came from (consent evidence), or null. */
export function sourceOrigin(c: Ctx): string | null {
  const cfg = c.get("cfg");
  for (const h of ["origin", "referer"]) {
    const v = c.req.header(h);
    if (!v || v === "null") continue;
    try {
      const o = new URL(v).origin;
      // Consent evidence records only origins we know (our own, or a listed site): anything else a client sends
      // is its word, not evidence. With ALLOWED_ORIGINS "*" every web origin is a possible embedder.
      const known = o === cfg.publicUrl.origin || cfg.allowedOrigins === "*" || cfg.allowedOrigins.includes(o);
      if (o !== "null" && known && /^https?:$/.test(new URL(o).protocol)) return o.slice(0, 200);
    } catch {
      /* not a URL: ignore */
    }
  }
  return null;
}
