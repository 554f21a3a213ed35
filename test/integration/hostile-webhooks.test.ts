/**
 * Hostile input on the Resend webhook (POST /webhooks/resend): no secret configured, garbage and forged signatures,
 * tampered and re-signed bodies, stale timestamps, bodies that are not events, over-long ids. Each is refused with
 * its JSON error, and nothing is counted, suppressed or recorded (test/support/hostile/world.ts).
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { BASE, call, freshIp } from "../support/helpers";
import { headerSafe, hostile, validAddress } from "../support/hostile/inputs";
import { check } from "../support/hostile/responses";
import { RUNS, total } from "../support/hostile/runs";
import { hostileWorld, T, WEEK } from "../support/hostile/world";

const world = hostileWorld();
const runs = RUNS.webhooks;
beforeAll(world.seed, T);

describe("forged and garbage webhooks", () => {
  it(
    `POST /webhooks/resend: forged and garbage signatures, headers and bodies (${runs.webhooks} cases)`,
    async () => {
      const EVENTS = [
        "email.delivered",
        "email.bounced",
        "email.complained",
        "email.suppressed",
        "email.sent",
        "email.opened",
        "unknown",
        "",
      ];
      const payload = fc
        .record({
          type: fc.oneof(fc.constantFrom(...EVENTS), hostile),
          to: fc.oneof(
            fc.constantFrom(["seed-active@example.com"], ["seed-active2@example.com", "seed-paused@example.com"]),
            fc.array(fc.oneof(validAddress, hostile), { maxLength: 3 }),
          ),
          issue: fc.oneof(fc.constant(WEEK), fc.constantFrom("2026-W99", "../", "2026-W47\n"), hostile),
        })
        .map((p) =>
          JSON.stringify({
            type: p.type,
            created_at: new Date().toISOString(),
            data: { to: p.to, tags: { issue: p.issue }, bounce: { type: "Permanent" } },
          }),
        );
      const sigJunk = fc.oneof(
        hostile.map(headerSafe),
        fc.base64String({ minLength: 4, maxLength: 64 }).map((s) => `v1,${s}`),
        fc.constantFrom(
          "v1,",
          "v1",
          "v2,AAAA",
          "v1a,AAAA",
          ",",
          "v1,=",
          "v1,\t",
          "v1,AAAA v1,BBBB",
          "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ),
      );
      const tsJunk = fc.oneof(
        fc.constantFrom("", "0", "-1", "1e10", "NaN", "Infinity", "1.5", "0x10", "99999999999999999999", " 123"),
        hostile.map(headerSafe),
        fc.integer().map(String),
      );
      type Case =
        | { k: "noSecret"; body: string }
        | { k: "garbage"; body: string; id: string | null; ts: string | null; sig: string | null }
        | { k: "wrongSecret"; body: string; secret: string }
        | { k: "tampered"; body: string; at: number; ch: string }
        | { k: "stale"; body: string; minutes: number; future: boolean }
        | { k: "replayHeaders"; body: string; other: string }
        | { k: "validSigBadBody"; body: string }
        | { k: "validSigLongId"; body: string; n: number };
      const arb: fc.Arbitrary<Case> = fc.oneof(
        fc.record({ k: fc.constant("noSecret" as const), body: payload }),
        {
          weight: 3,
          arbitrary: fc.record({
            k: fc.constant("garbage" as const),
            body: fc.oneof(payload, hostile),
            id: fc.option(hostile.map(headerSafe)),
            ts: fc.option(tsJunk),
            sig: fc.option(sigJunk),
          }),
        },
        fc.record({
          k: fc.constant("wrongSecret" as const),
          body: payload,
          secret: fc.base64String({ minLength: 24, maxLength: 44 }).map((s) => `whsec_${s}`),
        }),
        {
          weight: 2,
          arbitrary: fc.record({
            k: fc.constant("tampered" as const),
            body: payload,
            at: fc.nat(),
            ch: fc.constantFrom(" ", "x", "\u202e", "\u0000", "}", "\n"),
          }),
        },
        fc.record({
          k: fc.constant("stale" as const),
          body: payload,
          minutes: fc.integer({ min: 6, max: 10_000_000 }),
          future: fc.boolean(),
        }),
        fc.record({ k: fc.constant("replayHeaders" as const), body: payload, other: payload }),
        fc.record({
          k: fc.constant("validSigBadBody" as const),
          body: fc.oneof(
            fc.constantFrom("", "null", "42", '"text"', "true", "{", "{'a':1}", "undefined", "NaN", "\ufeff{}"),
            hostile.filter((s) => {
              try {
                const v = JSON.parse(s);
                return typeof v !== "object" || v === null;
              } catch {
                return true;
              }
            }),
          ),
        }),
        fc.record({ k: fc.constant("validSigLongId" as const), body: payload, n: fc.integer({ min: 257, max: 2000 }) }),
      );
      let counter = 0;
      await world.property("webhooks", arb, runs.webhooks, async (c) => {
        const id = `msg_hostile_${++counter}`;
        let headers: Record<string, string>;
        let body = c.body;
        let allowed: number[];
        let code: string[] | undefined;
        let viaHook = true;
        switch (c.k) {
          case "noSecret":
            headers = await world.signed(id, body);
            viaHook = false; // the default env: no secret, no route
            allowed = [404];
            break;
          case "garbage":
            headers = { "content-type": "application/json" };
            if (c.id !== null) headers["svix-id"] = c.id;
            if (c.ts !== null) headers["svix-timestamp"] = c.ts;
            if (c.sig !== null) headers["svix-signature"] = c.sig;
            allowed = [400, 401];
            code = ["invalid_signature", "stale_timestamp"];
            break;
          case "wrongSecret":
            headers = await world.signed(id, body, new Date(), c.secret);
            allowed = [401];
            code = ["invalid_signature"];
            break;
          case "tampered": {
            headers = await world.signed(id, body);
            const i = c.at % (body.length + 1);
            body = body.slice(0, i) + c.ch + body.slice(i);
            allowed = [401];
            code = ["invalid_signature"];
            break;
          }
          case "stale":
            headers = await world.signed(id, body, new Date(Date.now() + (c.future ? 1 : -1) * c.minutes * 60_000));
            allowed = [400];
            code = ["stale_timestamp"];
            break;
          case "replayHeaders":
            // The signature of another body (and the same id): never accepted for this one.
            fc.pre(c.other !== c.body);
            headers = await world.signed(id, c.other);
            allowed = [401];
            code = ["invalid_signature"];
            break;
          case "validSigBadBody":
            headers = await world.signed(id, body);
            // Signed as a JS string, sent as UTF-8: a lone surrogate becomes U+FFFD on the wire, and the Worker reads the
            // body as text, which drops a leading BOM. Either way the bytes differ from what was signed.
            {
              const differs = body.startsWith("\ufeff") || body !== body.toWellFormed();
              allowed = differs ? [401] : [400];
              code = differs ? ["invalid_signature"] : ["invalid_json", "invalid_body"];
            }
            break;
          case "validSigLongId": {
            const long = `msg_${"x".repeat(c.n)}`;
            headers = await world.signed(long, body);
            allowed = [400];
            code = ["invalid_body"];
            break;
          }
        }
        const req = new Request(`${BASE}/webhooks/resend`, {
          method: "POST",
          headers: { ...headers, "cf-connecting-ip": freshIp() },
          body,
        });
        const res = viaHook ? await world.hook(req) : await call(req.url, { method: "POST", headers, body });
        await check(res, { allowed, kind: "json", code, what: `webhook ${c.k}` });
      });
    },
    T,
  );

  it(
    `ran its ${total(runs)} generated cases, and the state is the one right after seeding`,
    () => world.expectComplete(runs),
    T,
  );

  it(
    "control: a genuine webhook does change the state (its svix-id recorded, the delivery counted)",
    async () => {
      const delivered = JSON.stringify({
        type: "email.delivered",
        created_at: new Date().toISOString(),
        data: { to: ["seed-active2@example.com"], tags: { issue: WEEK } },
      });
      const { changes } = await world.changes(async () => {
        expect((await world.postHook("msg_control", delivered)).status).toBe(200);
      });
      expect(changes.some((d) => d.startsWith("webhook_events"))).toBe(true);
      expect(changes.some((d) => d.startsWith("issues"))).toBe(true);
    },
    T,
  );
});
