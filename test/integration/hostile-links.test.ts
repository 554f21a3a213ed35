/**
 * Hostile input on the personal links (/confirm, /unsubscribe, /resubscribe, /manage and its data.json): random,
 * forged, tampered, expired, truncated, extended and foreign tokens never change a subscriber, whatever the route,
 * method, body, query or target, and get a page that says the link is not valid (400) or expired (410).
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { b64url, type Purpose, signToken } from "../../src/lib/tokens";
import { BASE, call, subscriberRow } from "../support/helpers";
import { enc, hostile } from "../support/hostile/inputs";
import { check } from "../support/hostile/responses";
import { RUNS, total } from "../support/hostile/runs";
import { DAY, genuine, hostileWorld, linkOf, NONEXISTENT_ID, SECRET, type SeedName, T } from "../support/hostile/world";

const world = hostileWorld();
const runs = RUNS.links;
beforeAll(world.seed, T);

type Spec =
  | { kind: "random"; s: string; encode: boolean }
  | { kind: "b64shape"; s: string }
  | { kind: "byteflip"; part: 0 | 1; index: number; bit: number }
  | { kind: "charflip"; index: number; bit: number }
  | { kind: "otherPurpose"; purpose: Purpose }
  | { kind: "wrongSecret"; secret: string }
  | { kind: "expired"; ago: number }
  | { kind: "swapSub" }
  | { kind: "truncate"; n: number }
  | { kind: "extend"; suffix: string; encode: boolean }
  | { kind: "overlong"; n: number }
  | { kind: "unicode"; at: number; ch: string }
  | { kind: "claims"; text: string };

const byteflip = fc.record({
  kind: fc.constant("byteflip" as const),
  part: fc.constantFrom(0 as const, 1 as const),
  index: fc.nat(),
  bit: fc.integer({ min: 0, max: 7 }),
});
const charflip = fc.record({
  kind: fc.constant("charflip" as const),
  index: fc.nat(),
  bit: fc.integer({ min: 0, max: 6 }),
});
const b64shape = fc
  .stringMatching(/^[A-Za-z0-9_-]{1,30}\.[A-Za-z0-9_-]{43}$/)
  .map((s) => ({ kind: "b64shape" as const, s }));
const wrongSecret = fc.record({
  kind: fc.constant("wrongSecret" as const),
  secret: fc.string({ minLength: 1, maxLength: 64 }),
});
const truncate = fc.record({ kind: fc.constant("truncate" as const), n: fc.nat() });

const fromB64 = (s: string) =>
  Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (s.length % 4)) % 4)), (ch) =>
    ch.charCodeAt(0),
  );

/** The path segment to send for a link of `purpose` to `sub`, and the answer it must get (null: any 4xx). */
async function forge(s: Spec, purpose: Purpose, sub: number, other: number) {
  const real = await genuine(purpose, sub);
  const bad = (token: string) => ({ token, status: [400] as number[] | null });
  switch (s.kind) {
    case "random":
      // The path itself may change (a raw "/" or ".."): any 4xx.
      return { token: s.encode ? enc(s.s) : s.s.toWellFormed(), status: null };
    case "b64shape":
      return bad(s.s);
    case "byteflip": {
      const parts = real.split(".");
      const bytes = fromB64(parts[s.part]!);
      bytes[s.index % bytes.length]! ^= 1 << s.bit;
      parts[s.part] = b64url(bytes);
      const token = parts.join(".");
      expect(token).not.toBe(real);
      return bad(token);
    }
    case "charflip": {
      // Every character but the last: its two low bits are padding in base64url (see the test of that below).
      const i = s.index % (real.length - 1);
      const token = real.slice(0, i) + String.fromCharCode(real.charCodeAt(i) ^ (1 << s.bit)) + real.slice(i + 1);
      expect(token).not.toBe(real);
      return bad(enc(token));
    }
    case "otherPurpose": {
      const p = s.purpose === purpose ? (purpose === "confirm" ? "manage" : "confirm") : s.purpose;
      return bad(await genuine(p, sub));
    }
    case "wrongSecret": {
      const now = Date.now();
      const secret = s.secret === SECRET ? `${s.secret}x` : s.secret;
      const claims = { sub, iat: now, exp: purpose === "confirm" ? now + DAY : 0 };
      return bad(await signToken(secret, purpose, claims, (await linkOf(sub)).link_key));
    }
    case "expired": {
      const now = Date.now();
      const claims = { sub, iat: Math.max(now - s.ago - 7 * DAY, 1), exp: now - s.ago };
      return { token: await signToken(SECRET, purpose, claims, (await linkOf(sub)).link_key), status: [410] };
    }
    case "swapSub": {
      const [, sig] = real.split(".");
      const [payload] = (await genuine(purpose, other)).split(".");
      return bad(`${payload}.${sig}`);
    }
    case "truncate":
      return bad(real.slice(0, 1 + (s.n % (real.length - 1))));
    case "extend":
      return bad(s.encode ? enc(real + s.suffix) : real + s.suffix);
    case "overlong":
      return bad(real + "A".repeat(200 - real.length + s.n));
    case "unicode": {
      const i = s.at % real.length;
      return bad(enc(real.slice(0, i) + s.ch + real.slice(i)));
    }
    case "claims": {
      // A well-formed base64url payload with hostile claims, signed with a guessed key.
      const payload = b64url(new TextEncoder().encode(s.text.toWellFormed()));
      const sig = b64url(crypto.getRandomValues(new Uint8Array(32)));
      return { token: `${payload}.${sig}`, status: payload ? [400] : null };
    }
  }
}

/** Sends the forged link and checks the refusal: a page (whatever Accept says) that says what happened. */
async function expectRefused(res: Response, status: number[] | null, head: boolean, what: string) {
  if (status === null) await check(res, { head, what });
  else {
    // A personal link is opened from an email: the refusal is a page that says what happened, for any Accept.
    const text = await check(res, { allowed: status, kind: "html", head, what });
    if (typeof text === "string") expect(text).toMatch(status[0] === 410 ? /expired/ : /not valid/);
  }
  expect(res.status).toBeGreaterThanOrEqual(400);
}

const FORM = "application/x-www-form-urlencoded";

describe("forged and tampered personal links", () => {
  it(
    `never change a subscriber, with each route's own actions as the body (${runs.forged} cases)`,
    () => {
      type Route = "confirm" | "unsubscribe" | "manage";
      const spec: fc.Arbitrary<Spec> = fc.oneof(
        fc.record({
          kind: fc.constant("random" as const),
          s: fc.string({ unit: "binary", maxLength: 250 }),
          encode: fc.boolean(),
        }),
        b64shape,
        byteflip,
        byteflip,
        charflip,
        charflip,
        fc.record({
          kind: fc.constant("otherPurpose" as const),
          purpose: fc.constantFrom<Purpose>("confirm", "unsubscribe", "manage", "form"),
        }),
        wrongSecret,
        fc.record({ kind: fc.constant("expired" as const), ago: fc.integer({ min: 1, max: 10 * 365 * DAY }) }),
        fc.constant({ kind: "swapSub" as const }),
        truncate,
        fc.record({
          kind: fc.constant("extend" as const),
          suffix: fc.constantFrom(".", ".x", "A", "AAAA", "=", "==", ".e30", "%00", "\u0000"),
          encode: fc.constant(true),
        }),
        fc.record({ kind: fc.constant("overlong" as const), n: fc.integer({ min: 1, max: 300 }) }),
      );
      const BODIES: Record<Route, { type?: string; body?: string }[]> = {
        confirm: [{}, { type: FORM, body: "" }, { type: "application/json", body: "{}" }],
        unsubscribe: [
          { type: FORM, body: "List-Unsubscribe=One-Click" },
          {},
          { type: FORM, body: "confirm=1" },
          { type: "application/json", body: '{"confirm":"1"}' },
        ],
        manage: [
          { type: FORM, body: "action=unsubscribe" },
          { type: FORM, body: "action=pause&weeks=4" },
          { type: FORM, body: "action=resubscribe" },
          { type: FORM, body: "action=resume" },
          { type: "application/json", body: '{"action":"unsubscribe"}' },
          { type: "application/json", body: '{"action":"pause","weeks":"12"}' },
        ],
      };
      const arb = fc.record({
        spec,
        route: fc.constantFrom<Route>("confirm", "unsubscribe", "manage"),
        method: fc.constantFrom("GET", "POST", "POST"),
        target: fc.constantFrom<SeedName>("active", "pending"),
        body: fc.nat(),
        accept: fc.constantFrom("application/json", "text/html", ""),
      });
      return world.property("forged", arb, runs.forged, async (c) => {
        const { seeds } = world;
        const other = c.target === "active" ? seeds.pending.id : seeds.active.id;
        const { token, status } = await forge(c.spec, c.route, seeds[c.target].id, other);
        const choice = BODIES[c.route][c.body % BODIES[c.route].length]!;
        const headers: Record<string, string> = {};
        if (c.accept) headers.accept = c.accept;
        if (c.method === "POST" && choice.type) headers["content-type"] = choice.type;
        const res = await call(`/${c.route}/${token}`, {
          method: c.method,
          headers,
          body: c.method === "POST" ? choice.body : undefined,
          redirect: "manual",
        });
        await expectRefused(res, status, false, `${c.route} ${c.spec.kind}`);
      });
    },
    T,
  );

  it(
    `never change a subscriber, on every link route, with any method, body, query and target (${runs.forgedEverywhere} cases)`,
    () => {
      type Route = "confirm" | "unsubscribe" | "resubscribe" | "manage" | "data";
      const PURPOSE: Record<Route, Purpose> = {
        confirm: "confirm",
        unsubscribe: "unsubscribe",
        resubscribe: "resubscribe",
        manage: "manage",
        data: "manage",
      };
      const spec: fc.Arbitrary<Spec> = fc.oneof(
        hostile.map((s) => ({ kind: "random" as const, s, encode: true })),
        b64shape,
        byteflip,
        charflip,
        fc.record({
          kind: fc.constant("otherPurpose" as const),
          purpose: fc.constantFrom<Purpose>("confirm", "unsubscribe", "resubscribe", "manage", "form"),
        }),
        wrongSecret,
        fc.record({ kind: fc.constant("expired" as const), ago: fc.integer({ min: 1, max: 3650 * DAY }) }),
        fc.constant({ kind: "swapSub" as const }),
        truncate,
        fc.record({
          kind: fc.constant("extend" as const),
          suffix: fc.constantFrom(".", ".x", "A", "=", "==", ".e30", "%00", "%0d%0a", "%E2%80%AE", "%C2%A0"),
          encode: fc.constant(false),
        }),
        fc.record({
          kind: fc.constant("unicode" as const),
          at: fc.nat(),
          ch: fc.constantFrom("\u200b", "\u202e", "\ufeff", "а", "ο", "\u0000", "\ud800", "％"),
        }),
        fc
          .oneof(
            fc.constantFrom(
              "-1.0.0",
              "1e3.0.0",
              "1.0.0.0",
              "0x1.0.0",
              "99999999999999999999.0.0",
              "1.0.-5",
              "1..",
              "",
              " 1.0.0",
              "1.0.0\n",
            ),
            hostile,
          )
          .map((text) => ({ kind: "claims" as const, text })),
      );
      const BODIES = [
        { type: FORM, body: "List-Unsubscribe=One-Click" },
        { type: FORM, body: "action=unsubscribe" },
        { type: FORM, body: "action=erase&confirm=yes" },
        { type: FORM, body: "action=pause&weeks=4" },
        { type: FORM, body: "action=resubscribe" },
        { type: "application/json", body: '{"action":"unsubscribe"}' },
        { type: "application/json", body: '{"action":"erase","confirm":"yes"}' },
        { type: "", body: "" },
        { type: "text/plain", body: "confirm" },
      ];
      const arb = fc.record({
        spec,
        route: fc.constantFrom<Route>("confirm", "unsubscribe", "resubscribe", "manage", "data"),
        method: fc.constantFrom("GET", "POST", "POST", "HEAD"),
        target: fc.constantFrom<SeedName | "nobody">(
          "active",
          "active2",
          "paused",
          "pending",
          "unsubscribed",
          "nobody",
        ),
        body: fc.nat(),
        accept: fc.constantFrom("", "text/html", "application/json", "*/*"),
        query: fc.option(hostile, { freq: 4 }),
      });
      return world.property("forgedEverywhere", arb, runs.forgedEverywhere, async (c) => {
        const { seeds } = world;
        const sub = c.target === "nobody" ? NONEXISTENT_ID : seeds[c.target].id;
        const other = c.target === "active" ? seeds.pending.id : seeds.active.id;
        const { token, status } = await forge(c.spec, PURPOSE[c.route], sub, other);
        const method = c.route === "data" && c.method === "POST" ? "GET" : c.method;
        const headers: Record<string, string> = {};
        if (c.accept) headers.accept = c.accept;
        const choice = BODIES[c.body % BODIES.length]!;
        let body: BodyInit | undefined;
        if (method === "POST") {
          if (choice.type) headers["content-type"] = choice.type;
          body = new TextEncoder().encode(choice.body);
        }
        const path = c.route === "data" ? `/manage/${token}/data.json` : `/${c.route}/${token}`;
        const res = await call(`${BASE}${path}${c.query === null ? "" : `?q=${enc(c.query)}`}`, {
          method,
          headers,
          body,
          redirect: "manual",
        });
        await expectRefused(res, status, method === "HEAD", `${c.route} ${c.spec.kind}`);
      });
    },
    T,
  );

  it(
    "refuses a non-canonical encoding of a genuine signature (the last character's padding bits changed)",
    () =>
      world.unchanged(async () => {
        const real = await genuine("unsubscribe", world.seeds.active.id);
        const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        const last = ALPHABET.indexOf(real.at(-1)!);
        const statuses: number[] = [];
        for (const low of [1, 2, 3]) {
          const variant = real.slice(0, -1) + ALPHABET[last ^ low];
          expect(variant).not.toBe(real);
          const res = await call(`/unsubscribe/${variant}`, {
            method: "POST",
            body: "List-Unsubscribe=One-Click",
            headers: { "content-type": FORM },
          });
          statuses.push(res.status);
        }
        // A token that is not byte-for-byte the one we issued is not our token.
        expect(statuses).toEqual([400, 400, 400]);
      }),
    T,
  );

  it(
    `ran its ${total(runs)} generated cases, and the state is the one right after seeding`,
    () => world.expectComplete(runs),
    T,
  );

  it(
    "control: the genuine links do change the state (manage unsubscribes, confirm activates)",
    async () => {
      const { seeds } = world;
      const { changes } = await world.changes(async () => {
        const manage = await call(`/manage/${await genuine("manage", seeds.active.id)}`, {
          method: "POST",
          body: "action=unsubscribe",
          headers: { "content-type": FORM },
        });
        expect(manage.status).toBe(200);
        expect((await subscriberRow(seeds.active.email))!.status).toBe("unsubscribed");
        const confirm = await call(`/confirm/${await genuine("confirm", seeds.pending.id)}`, { method: "POST" });
        expect(confirm.status).toBe(200);
        expect((await subscriberRow(seeds.pending.email))!.status).toBe("active");
      });
      expect(changes.some((d) => d.startsWith("subscribers"))).toBe(true);
    },
    T,
  );
});
