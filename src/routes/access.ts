import type { Context } from "hono";
import { Jwt } from "hono/utils/jwt";
import type { HonoJsonWebKey } from "hono/utils/jwt/jws";
import type { AppEnv } from "../lib/http";

/**
 * Cloudflare Access in front of the dashboard (optional, for production): with CF_ACCESS_TEAM_DOMAIN and CF_ACCESS_AUD
 * set, the Cf-Access-Jwt-Assertion header Access adds to each request it lets through signs the operator in. The
 * token must be RS256, signed by one of the team's keys (https://<team>/cdn-cgi/access/certs), issued by
 * https://<team> for this application's AUD tag, unexpired, and not from the future (60 s of clock skew allowed).
 */
export const ACCESS_HEADER = "cf-access-jwt-assertion";
const MAX_TOKEN_BYTES = 8 * 1024;
const KEYS_TTL_MS = 10 * 60 * 1000;
const SKEW_S = 60;

/** The team's key set, per certs URL, for this isolate: a cache of public keys, refetched every 10 minutes. */
const keySets = new Map<string, { at: number; keys: Promise<HonoJsonWebKey[]> }>();

async function fetchKeys(url: string): Promise<HonoJsonWebKey[]> {
  const res = await fetch(url, { headers: { accept: "application/json" } });
  if (!res.ok) throw new Error(`Access certs answered ${res.status}`);
  const body = (await res.json()) as { keys?: unknown };
  if (!Array.isArray(body.keys)) throw new Error("Access certs without keys");
  return body.keys.filter((k): k is HonoJsonWebKey => typeof k === "object" && k !== null && "kid" in k);
}

function teamKeys(url: string, now: number): Promise<HonoJsonWebKey[]> {
  const cached = keySets.get(url);
  if (cached && now - cached.at < KEYS_TTL_MS) return cached.keys;
  const keys = fetchKeys(url);
  keySets.set(url, { at: now, keys });
  // A failed fetch is not cached: the next request tries again.
  keys.catch(() => {
    if (keySets.get(url)?.keys === keys) keySets.delete(url);
  });
  return keys;
}

/** The Access identity on this request, or null: no Access configured, no token, or a token that does not verify. */
export async function accessIdentity(c: Context<AppEnv>, now: number): Promise<{ email?: string } | null> {
  const cfg = c.get("cfg");
  if (!cfg.accessTeamDomain || !cfg.accessAud) return null;
  const token = c.req.header(ACCESS_HEADER);
  if (!token || token.length > MAX_TOKEN_BYTES) return null;
  const issuer = `https://${cfg.accessTeamDomain}`;
  try {
    const keys = await teamKeys(cfg.accessCertsUrl ?? `${issuer}/cdn-cgi/access/certs`, now);
    // Times are checked below against `now`, with the skew Hono's own checks do not allow.
    const claims = await Jwt.verifyWithJwks(token, {
      keys,
      allowedAlgorithms: ["RS256"],
      verification: { iss: issuer, aud: cfg.accessAud, exp: false, nbf: false, iat: false },
    });
    const s = now / 1000;
    if (typeof claims.exp !== "number" || claims.exp <= s) return null;
    for (const t of [claims.nbf, claims.iat])
      if (t !== undefined && (typeof t !== "number" || !Number.isFinite(t) || t > s + SKEW_S)) return null;
    return { email: typeof claims.email === "string" ? claims.email : undefined };
  } catch (err) {
    // Bad tokens are expected (and carry nothing worth logging); a key set that cannot be fetched is worth knowing.
    if (!(err instanceof Error && err.name.startsWith("Jwt"))) console.warn("access: cannot verify", String(err));
    return null;
  }
}
