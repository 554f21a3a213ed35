import { describe, expect, it } from "vitest";
import { keyedHash, signToken, verifyToken } from "../../src/lib/tokens";

const secret = "unit-test-secret-0123456789abcdef0123456789";

describe("tokens", () => {
  it("round-trips claims for the same purpose", async () => {
    const t = await signToken(secret, "manage", { sub: 42, iat: 0, exp: 0 });
    expect(await verifyToken(secret, "manage", t)).toEqual({ ok: true, claims: { sub: 42, iat: 0, exp: 0 } });
  });

  it("is scoped to one purpose", async () => {
    const t = await signToken(secret, "unsubscribe", { sub: 1, iat: 0, exp: 0 });
    expect(await verifyToken(secret, "confirm", t)).toEqual({ ok: false, reason: "signature" });
    expect(await verifyToken(secret, "manage", t)).toEqual({ ok: false, reason: "signature" });
  });

  it("rejects another secret, a changed payload and a changed signature", async () => {
    const t = await signToken(secret, "confirm", { sub: 7, iat: 1, exp: Date.now() + 1000 });
    expect((await verifyToken("another-secret-0123456789abcdef0123456789", "confirm", t)).ok).toBe(false);
    const [payload, sig] = t.split(".");
    const other = (await signToken(secret, "confirm", { sub: 8, iat: 1, exp: Date.now() + 1000 })).split(".")[0];
    expect(await verifyToken(secret, "confirm", `${other}.${sig}`)).toEqual({ ok: false, reason: "signature" });
    const flipped = sig!.slice(0, 5) + (sig![5] === "a" ? "b" : "a") + sig!.slice(6);
    expect((await verifyToken(secret, "confirm", `${payload}.${flipped}`)).ok).toBe(false);
  });

  it("expires", async () => {
    const t = await signToken(secret, "confirm", { sub: 7, iat: 1, exp: 1000 });
    expect(await verifyToken(secret, "confirm", t, 999)).toMatchObject({ ok: true });
    expect(await verifyToken(secret, "confirm", t, 1001)).toEqual({ ok: false, reason: "expired" });
  });

  it("rejects malformed input without throwing", async () => {
    for (const bad of ["", ".", "a.b.c", "!!!.???", "x".repeat(500), "abc.", ".abc", "YWJj.YWJj"]) {
      expect((await verifyToken(secret, "confirm", bad)).ok).toBe(false);
    }
  });

  it("keyed hashes are stable, label-scoped and not the input", async () => {
    const a = await keyedHash(secret, "ip", "203.0.113.9");
    expect(a).toBe(await keyedHash(secret, "ip", "203.0.113.9"));
    expect(a).not.toBe(await keyedHash(secret, "email", "203.0.113.9"));
    expect(a).not.toContain("203");
  });
});
