/**
 * Signed, purpose-scoped tokens for links in emails and forms.
 * Format: base64url(payload) "." base64url(HMAC-SHA256(secret, purpose "\n" payload ["\n" linkKey])).
 * The purpose is part of what is signed, so an unsubscribe token can never confirm, and vice versa. A personal link
 * also signs its subscriber's `link_key` (random per row, never in the link itself): the link works for that row
 * only — not for a later row that gets the same id, not after erasure. Rows from before link keys have an empty key,
 * which signs exactly what the links already sent to them carry.
 * Verification uses crypto.subtle.verify, which compares in constant time.
 */
export type Purpose = "confirm" | "unsubscribe" | "manage" | "resubscribe" | "form" | "rate" | "admin";

export interface TokenClaims {
  /** Subscriber id (or 0 for form tokens). */
  sub: number;
  /** Issued at, Unix ms. */
  iat: number;
  /** Expiry, Unix ms; 0 = never. */
  exp: number;
}

export type VerifyResult =
  | { ok: true; claims: TokenClaims }
  | { ok: false; reason: "malformed" | "signature" | "expired" };

const enc = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    keys.set(secret, key);
  }
  return key;
}

export function b64url(bytes: ArrayBuffer | Uint8Array): string {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = "";
  for (const b of u8) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromB64url(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return null;
  try {
    const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (s.length % 4)) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

const signed = (purpose: Purpose, payload: string, linkKey: string) =>
  enc.encode(linkKey ? `${purpose}\n${payload}\n${linkKey}` : `${purpose}\n${payload}`);

export async function signToken(secret: string, purpose: Purpose, claims: TokenClaims, linkKey = ""): Promise<string> {
  const payload = b64url(enc.encode(`${claims.sub}.${claims.iat}.${claims.exp}`));
  const sig = await crypto.subtle.sign("HMAC", await hmacKey(secret), signed(purpose, payload, linkKey));
  return `${payload}.${b64url(sig)}`;
}

/** The subscriber a token names, unverified: only to look up the key it must then verify against. */
export function tokenSubject(token: string): number | null {
  if (typeof token !== "string" || token.length > 200) return null;
  const raw = fromB64url(token.split(".")[0] ?? "");
  const m = raw && /^(\d{1,15})\.\d{1,15}\.\d{1,15}$/.exec(new TextDecoder().decode(raw));
  return m ? Number(m[1]) : null;
}

export async function verifyToken(
  secret: string,
  purpose: Purpose,
  token: string,
  now = Date.now(),
  linkKey = "",
): Promise<VerifyResult> {
  if (typeof token !== "string" || token.length > 200) return { ok: false, reason: "malformed" };
  const [payload, sigPart, extra] = token.split(".");
  if (!payload || !sigPart || extra !== undefined) return { ok: false, reason: "malformed" };
  const sig = fromB64url(sigPart);
  // Only the canonical encoding: the last base64url character carries padding bits that atob ignores,
  // so without this check four different strings would verify as the same token.
  if (sig?.length !== 32 || b64url(sig) !== sigPart) return { ok: false, reason: "malformed" };
  const valid = await crypto.subtle.verify("HMAC", await hmacKey(secret), sig, signed(purpose, payload, linkKey));
  if (!valid) return { ok: false, reason: "signature" };
  const raw = fromB64url(payload);
  const m = raw && /^(\d{1,15})\.(\d{1,15})\.(\d{1,15})$/.exec(new TextDecoder().decode(raw));
  if (!m) return { ok: false, reason: "malformed" };
  const claims = { sub: Number(m[1]), iat: Number(m[2]), exp: Number(m[3]) };
  if (claims.exp !== 0 && claims.exp < now) return { ok: false, reason: "expired" };
  return { ok: true, claims };
}

/** Keyed hash (HMAC) so stored IPs and suppressed addresses cannot be reversed by brute force. */
export async function keyedHash(secret: string, label: string, value: string): Promise<string> {
  const sig = await crypto.subtle.sign("HMAC", await hmacKey(secret), enc.encode(`${label}\n${value}`));
  return b64url(sig).slice(0, 32);
}

export const CONFIRM_TTL_MS = 7 * 24 * 3600 * 1000;
