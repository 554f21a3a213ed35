import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Config } from "../config";
import { type AppEnv, isLocalRequest } from "../lib/http";
import { keyedHash, signToken, verifyToken } from "../lib/tokens";
import { accessIdentity } from "./access";

/**
 * The dashboard's session: a signed token (src/lib/tokens.ts, purpose "admin") in an HttpOnly, SameSite=Strict cookie
 * scoped to /admin, Secure outside local development, valid 12 hours. Its key is derived from TOKEN_SECRET and the
 * admin token itself, so rotating either signs every operator out. Nothing is stored server-side.
 */
export const SESSION_COOKIE = "admin_session";
export const SESSION_TTL_MS = 12 * 3600 * 1000;

const sessionKey = (cfg: Config) => keyedHash(cfg.tokenSecret, "admin-session", cfg.adminToken ?? "");

export async function startSession(c: Context<AppEnv>, now: number) {
  const cfg = c.get("cfg");
  const token = await signToken(
    cfg.tokenSecret,
    "admin",
    { sub: 0, iat: now, exp: now + SESSION_TTL_MS },
    await sessionKey(cfg),
  );
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "Strict",
    secure: !isLocalRequest(c),
    path: "/admin",
    maxAge: SESSION_TTL_MS / 1000,
  });
}

export function endSession(c: Context<AppEnv>) {
  deleteCookie(c, SESSION_COOKIE, { path: "/admin", secure: !isLocalRequest(c), httpOnly: true, sameSite: "Strict" });
}

/**
 * True when the request carries a session cookie this deployment signed, unexpired, for the current admin token, or
 * (with CF_ACCESS_TEAM_DOMAIN and CF_ACCESS_AUD set) a valid Cloudflare Access token (src/routes/access.ts).
 */
export async function hasSession(c: Context<AppEnv>, now: number): Promise<boolean> {
  const cfg = c.get("cfg");
  if (!cfg.adminToken) return false;
  const token = getCookie(c, SESSION_COOKIE);
  if (token) {
    const v = await verifyToken(cfg.tokenSecret, "admin", token, now, await sessionKey(cfg));
    // A session always expires: exp 0 ("never", for email links) is not one this module signs.
    if (v.ok && v.claims.exp !== 0) return true;
  }
  return (await accessIdentity(c, now)) !== null;
}
