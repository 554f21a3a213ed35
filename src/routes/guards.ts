import type { MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { ApiError, type AppEnv, isLocalRequest, limitByIp, perConfig } from "../lib/http";

/** Who may call what: the guards src/app.ts applies where it mounts a sub-app (personal links: src/lib/personal-link.ts). */

const notFound = () => {
  throw new ApiError(404, "not_found", "Not found.");
};

/**
 * The operator API: `Authorization: Bearer ADMIN_TOKEN` (bearerAuth compares in constant time). Without a configured
 * token, /admin does not exist.
 */
export const adminAuth: MiddlewareHandler<AppEnv> = perConfig(({ adminToken }) =>
  adminToken
    ? bearerAuth({
        token: adminToken,
        noAuthenticationHeader: {
          message: { error: { code: "unauthorized", message: "Send Authorization: Bearer <ADMIN_TOKEN>." } },
        },
        invalidAuthenticationHeader: {
          message: { error: { code: "unauthorized", message: "Malformed Authorization header." } },
        },
        invalidToken: { message: { error: { code: "unauthorized", message: "Invalid admin token." } } },
      })
    : notFound,
);

/** Local development without a Resend key, on a loopback host (the outbox viewer): 404 everywhere else. */
export const localOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!isLocalRequest(c) || c.get("cfg").resendApiKey) notFound();
  await next();
};

/**
 * Personal links (/confirm, /resubscribe, /manage), per client network. Not /unsubscribe: mailbox providers send every
 * one-click unsubscribe from a few addresses.
 */
export const tokenLimit = limitByIp((env) => env.TOKEN_LIMITER);
