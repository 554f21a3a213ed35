/**
 * Hostile input on the signup (POST /api/subscribe), the bot traps and the redirect: a filled honeypot and a forged,
 * foreign, future or expired form token look like success or ask to reload, and store nothing; a redirect off this
 * site is refused. The fixed examples are in security-bots.test.ts; the state checks in test/support/hostile/world.ts.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { type Purpose, signToken } from "../../src/lib/tokens";
import { BASE, subscribeForm, subscribeJson } from "../support/helpers";
import { formRoundTrip, hostile, hostileEmail, validAddress } from "../support/hostile/inputs";
import { RUNS, total } from "../support/hostile/runs";
import { accept, bodyOf, checkSignup, postSignup, shape, shapeKind } from "../support/hostile/signup";
import { DAY, hostileWorld, mailOf, SECRET, T } from "../support/hostile/world";

const world = hostileWorld();
const runs = RUNS.signupBots;
beforeAll(world.seed, T);

const THANKS = /^http:\/\/127\.0\.0\.1:8787\/thanks$/;
const THANKS_FRAMED = /^http:\/\/127\.0\.0\.1:8787\/thanks\?frame=1$/;

describe("the honeypot", () => {
  it(
    `a filled honeypot answers like a real signup (202 / 303) and stores nothing (${runs.honeypot} cases)`,
    async () => {
      // The control: a real signup's answers, which the honeypot answers must be indistinguishable from.
      const { result: real } = await world.changes(async () => {
        const json = await subscribeJson("control-json@example.com");
        expect(json.status).toBe(202);
        const form = await subscribeForm({ email: "control-form@example.com" });
        expect(form.status).toBe(303);
        await mailOf("control-json@example.com", "/confirm/");
        await mailOf("control-form@example.com", "/confirm/");
        return { jsonBody: await json.text(), location: form.headers.get("location") };
      });
      const arb = fc.tuple(validAddress, fc.string({ minLength: 1, maxLength: 50 }), fc.boolean());
      await world.property("honeypot", arb, runs.honeypot, async ([a, website, form]) => {
        if (form) {
          const res = await subscribeForm({ email: a, website });
          expect(res.status).toBe(303);
          expect(res.headers.get("location")).toBe(real.location);
        } else {
          const res = await subscribeJson(a, { website });
          expect(res.status).toBe(202);
          expect(await res.text()).toBe(real.jsonBody);
        }
      });
    },
    T,
  );

  it(
    `a hostile honeypot value, in any body shape, looks like success (${runs.honeypotAnyShape} cases)`,
    () => {
      const arb = fc.record({
        shape,
        email: fc.oneof(validAddress, hostileEmail),
        website: hostile.filter((s) => formRoundTrip(s).length > 0 && s.length > 0),
        accept,
        frame: fc.boolean(),
      });
      return world.property("honeypotAnyShape", arb, runs.honeypotAnyShape, async (c) => {
        const headers: Record<string, string> = {};
        if (c.accept) headers.accept = c.accept;
        const fields: Record<string, string> = { email: c.email, website: c.website };
        if (c.frame) fields._frame = "1";
        const html = shapeKind(c.shape, c.accept) === "html";
        // Looks like success, so the bot learns nothing; stores nothing (checked by the state comparison).
        await checkSignup(await postSignup(headers, bodyOf(c.shape, fields, headers)), {
          allowed: [html ? 303 : 202],
          location: html ? (c.frame ? THANKS_FRAMED : THANKS) : undefined,
          what: "subscribe honeypot",
        });
      });
    },
    T,
  );
});

describe("the form token (render time)", () => {
  type TsSpec =
    | { k: "random"; s: string }
    | { k: "wrongSecret"; secret: string }
    | { k: "future"; ahead: number }
    | { k: "otherPurpose"; p: Purpose }
    | { k: "flip"; i: number };
  const tsSpec: fc.Arbitrary<TsSpec> = fc.oneof(
    hostile.map((s) => ({ k: "random" as const, s })),
    fc.stringMatching(/^[A-Za-z0-9_-]{1,30}\.[A-Za-z0-9_-]{43}$/).map((s) => ({ k: "random" as const, s })),
    fc.string({ minLength: 1, maxLength: 40 }).map((secret) => ({ k: "wrongSecret" as const, secret })),
    fc.integer({ min: 60_000, max: 365 * DAY }).map((ahead) => ({ k: "future" as const, ahead })),
    fc.constantFrom<Purpose>("confirm", "unsubscribe", "manage").map((p) => ({ k: "otherPurpose" as const, p })),
    fc.nat().map((i) => ({ k: "flip" as const, i })),
  );
  async function tsFor(s: TsSpec): Promise<string> {
    const now = Date.now();
    switch (s.k) {
      case "random":
        return s.s;
      case "wrongSecret":
        return signToken(s.secret === SECRET ? `${s.secret}x` : s.secret, "form", {
          sub: 0,
          iat: now - DAY,
          exp: now + DAY,
        });
      case "future":
        // Signed by us, but "rendered" in the future: less than MIN_FILL_MS before now, a bot.
        return signToken(SECRET, "form", { sub: 0, iat: now + s.ahead, exp: now + s.ahead + 7 * DAY });
      case "otherPurpose":
        return signToken(SECRET, s.p, { sub: 0, iat: now - DAY, exp: now + DAY });
      case "flip": {
        const real = await signToken(SECRET, "form", { sub: 0, iat: now - DAY, exp: now + DAY });
        const i = s.i % (real.length - 1);
        return real.slice(0, i) + String.fromCharCode(real.charCodeAt(i) ^ 1) + real.slice(i + 1);
      }
    }
  }

  it(
    `a forged, foreign, future or tampered token is a bot: it looks like success (${runs.formToken} cases)`,
    () =>
      world.property(
        "formToken",
        fc.record({ shape, email: validAddress, ts: tsSpec, accept }),
        runs.formToken,
        async (c) => {
          const headers: Record<string, string> = {};
          if (c.accept) headers.accept = c.accept;
          const body = bodyOf(c.shape, { email: c.email, ts: await tsFor(c.ts) }, headers);
          const html = shapeKind(c.shape, c.accept) === "html";
          await checkSignup(await postSignup(headers, body), {
            allowed: [html ? 303 : 202],
            location: html ? THANKS : undefined,
            what: "subscribe botTs",
          });
        },
      ),
    T,
  );

  it(
    `an expired token asks to reload: 400 form_expired (${runs.expiredFormToken} cases)`,
    () => {
      const arb = fc.record({
        shape: fc.constantFrom("json" as const, "form" as const),
        email: validAddress,
        ago: fc.integer({ min: 1000, max: 3650 * DAY }),
        accept,
      });
      return world.property("expiredFormToken", arb, runs.expiredFormToken, async (c) => {
        const headers: Record<string, string> = {};
        if (c.accept) headers.accept = c.accept;
        const now = Date.now();
        const ts = await signToken(SECRET, "form", {
          sub: 0,
          iat: Math.max(1, now - c.ago - 7 * DAY),
          exp: now - c.ago,
        });
        await checkSignup(await postSignup(headers, bodyOf(c.shape, { email: c.email, ts }, headers)), {
          allowed: [400],
          code: ["form_expired"],
          kind: shapeKind(c.shape, c.accept),
          what: "subscribe expiredTs",
        });
      });
    },
    T,
  );
});

describe("the redirect after a form signup", () => {
  it(
    `a redirect off this site is refused with a 400 page (${runs.redirect} cases)`,
    () => {
      const REDIRECTS = [
        "https://evil.example/",
        "http://127.0.0.1:8787.evil.example/",
        "https://127.0.0.1:8787/thanks",
        "http://127.0.0.1:8788/",
        "javascript:alert(1)",
        "//evil.example/",
        "/thanks",
        "data:text/html,<script>alert(1)</script>",
        "http://user@evil.example/",
        "http://127.0.0.1:8787@evil.example/",
        "ftp://127.0.0.1:8787/",
        "http://[::1]:8787/",
        "http://localhost:8787/",
        "https://evil.example/%0d%0aSet-Cookie:x=1",
        "\u202ehttps://evil.example",
      ];
      const redirect = fc
        .oneof(
          fc.constantFrom(...REDIRECTS),
          hostile.filter((s) => s.length > 0),
        )
        .filter((r) => {
          const seen = formRoundTrip(r);
          if (!seen) return false;
          try {
            return new URL(seen).origin !== new URL(BASE).origin;
          } catch {
            return true;
          }
        });
      const arb = fc.record({ email: validAddress, redirect, accept: fc.constantFrom("", "text/html", "*/*") });
      return world.property("redirect", arb, runs.redirect, async (c) => {
        const headers: Record<string, string> = {};
        if (c.accept) headers.accept = c.accept;
        const body = bodyOf("form", { email: c.email, redirect: c.redirect }, headers);
        await checkSignup(await postSignup(headers, body), {
          allowed: [400],
          kind: "html",
          what: "subscribe redirect",
        });
      });
    },
    T,
  );
});

describe("all of the above", () => {
  it(
    `ran its ${total(runs)} generated cases, and the state is the one right after seeding (and its control signups)`,
    () => world.expectComplete(runs),
    T,
  );
});
