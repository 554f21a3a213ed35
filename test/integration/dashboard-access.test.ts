/**
 * Cloudflare Access in front of the dashboard: with CF_ACCESS_TEAM_DOMAIN and CF_ACCESS_AUD set, a valid
 * Cf-Access-Jwt-Assertion signs the operator in without a session cookie. The team's keys come from the Access
 * emulator (test/emulators/access.ts), which serves a key set generated here; every token below is signed here.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { BASE, fetchWith, freshIp } from "../support/helpers";

const TEAM = "newsletter-test.cloudflareaccess.com";
const AUD = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";
const KID = "test-key-1";
const certsUrl = `${new URL(env.TURNSTILE_EMULATOR_URL).origin}/access/${crypto.randomUUID()}/certs`;
const ACCESS = { CF_ACCESS_TEAM_DOMAIN: TEAM, CF_ACCESS_AUD: AUD, CF_ACCESS_CERTS_URL: certsUrl };

const RSA = {
  name: "RSASSA-PKCS1-v1_5",
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: "SHA-256",
};
const generate = () => crypto.subtle.generateKey(RSA, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
let team: CryptoKeyPair;
let other: CryptoKeyPair;
let publicJwk: JsonWebKey & { kid: string };

const b64url = (bytes: Uint8Array | ArrayBuffer) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
const part = (o: unknown) => b64url(new TextEncoder().encode(JSON.stringify(o)));

/** A JWT with the given header and payload, signed with `key` (RSA or HMAC), or unsigned with none. */
async function jwt(header: Record<string, unknown>, payload: Record<string, unknown>, key?: CryptoKey) {
  const input = `${part(header)}.${part(payload)}`;
  if (!key) return `${input}.`;
  return `${input}.${b64url(await crypto.subtle.sign(key.algorithm.name, key, new TextEncoder().encode(input)))}`;
}

const now = () => Math.floor(Date.now() / 1000);
const claims = (o: Record<string, unknown> = {}) => ({
  iss: `https://${TEAM}`,
  aud: [AUD],
  email: "operator@example.com",
  iat: now(),
  nbf: now(),
  exp: now() + 600,
  ...o,
});
const valid = (o: Record<string, unknown> = {}) => jwt({ alg: "RS256", kid: KID }, claims(o), team.privateKey);

const overview = (token: string | undefined, overrides: Partial<Env> = ACCESS) =>
  fetchWith(
    overrides,
    new Request(`${BASE}/admin`, {
      headers: { "cf-connecting-ip": freshIp(), ...(token ? { "cf-access-jwt-assertion": token } : {}) },
      redirect: "manual",
    }),
  );

async function expectSignIn(res: Response) {
  expect(res.status).toBe(303);
  expect(res.headers.get("location")).toBe(`${BASE}/admin/sign-in`);
}

beforeAll(async () => {
  [team, other] = await Promise.all([generate(), generate()]);
  const exported = (await crypto.subtle.exportKey("jwk", team.publicKey)) as JsonWebKey;
  publicJwk = { ...exported, kid: KID, alg: "RS256", use: "sig" };
  const res = await fetch(certsUrl, { method: "PUT", body: JSON.stringify({ keys: [publicJwk] }) });
  expect(res.status).toBe(204);
});

describe("Cloudflare Access signs the operator in", () => {
  it("a valid Access token opens the overview with no session cookie", async () => {
    const res = await overview(await valid());
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("overview</h1>");
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("aud as a single string, and nbf/iat a little ahead (clock skew), are accepted", async () => {
    expect((await overview(await valid({ aud: AUD, nbf: now() + 30, iat: now() + 30 }))).status).toBe(200);
  });

  it("tokens that do not verify send the operator to sign in", async () => {
    const hmac = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(JSON.stringify(publicJwk)),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const cases: Record<string, string> = {
      "wrong audience": await valid({ aud: ["someone-else"] }),
      "no audience": await valid({ aud: undefined }),
      "wrong issuer": await valid({ iss: "https://evil.cloudflareaccess.com" }),
      expired: await valid({ exp: now() - 5, iat: now() - 700, nbf: now() - 700 }),
      "no expiry": await valid({ exp: undefined }),
      "not yet valid": await valid({ nbf: now() + 600 }),
      "issued in the future": await valid({ iat: now() + 600 }),
      "signed by another key": await jwt({ alg: "RS256", kid: KID }, claims(), other.privateKey),
      "unknown kid": await jwt({ alg: "RS256", kid: "other-key" }, claims(), team.privateKey),
      "no kid": await jwt({ alg: "RS256" }, claims(), team.privateKey),
      "alg none": await jwt({ alg: "none", kid: KID }, claims()),
      "HS256 with the public key as secret": await jwt({ alg: "HS256", kid: KID }, claims(), hmac),
      "tampered payload": (await valid()).replace(/\.[^.]+\./, `.${part(claims({ email: "mallory@example.com" }))}.`),
      garbage: "not.a.jwt",
      "one part": "garbage",
      "over 8 KB": await valid({ padding: "x".repeat(9 * 1024) }),
    };
    for (const [name, token] of Object.entries(cases)) {
      const res = await overview(token);
      expect(res.status, name).toBe(303);
      expect(res.headers.get("location"), name).toBe(`${BASE}/admin/sign-in`);
    }
  });

  it("without CF_ACCESS_TEAM_DOMAIN and CF_ACCESS_AUD the header is ignored", async () => {
    await expectSignIn(await overview(await valid(), { CF_ACCESS_CERTS_URL: certsUrl }));
  });

  it("a team domain without an AUD (or the reverse), or a team domain with a scheme, is misconfigured", async () => {
    for (const overrides of [
      { CF_ACCESS_TEAM_DOMAIN: TEAM },
      { CF_ACCESS_AUD: AUD },
      { ...ACCESS, CF_ACCESS_TEAM_DOMAIN: `https://${TEAM}` },
    ]) {
      const res = await overview(await valid(), overrides);
      expect(res.status, JSON.stringify(overrides)).toBe(500);
      expect(await res.text()).toContain("misconfigured");
    }
  });
});
