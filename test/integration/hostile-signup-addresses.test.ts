/**
 * Hostile input on the signup (POST /api/subscribe), the address itself: addresses that are almost right, hostile
 * strings in and around them, values that are not strings, in every body shape, with hostile extra fields and headers.
 * None is stored, none is mailed (test/support/hostile/world.ts), each gets the 4xx of its kind.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { subscribeForm, subscribeJson, subscriberRow } from "../support/helpers";
import { nearMissAddress, nonString } from "../support/hostile/addresses";
import { headerSafe, hostile, hostileEmail, validAddress } from "../support/hostile/inputs";
import { expectHtmlError, expectJsonError } from "../support/hostile/responses";
import { RUNS, total } from "../support/hostile/runs";
import { accept, bodyOf, checkSignup, extraFields, postSignup, shape, shapeKind } from "../support/hostile/signup";
import { hostileWorld, mailOf, T } from "../support/hostile/world";

const world = hostileWorld();
const runs = RUNS.signupAddresses;
beforeAll(world.seed, T);

describe("hostile addresses never store anything", () => {
  it(
    `JSON: addresses that are almost right and non-string values answer 422 with the error shape (${runs.json} cases)`,
    () =>
      world.property(
        "json",
        fc.oneof({ arbitrary: nearMissAddress, weight: 3 }, { arbitrary: nonString, weight: 1 }),
        runs.json,
        async (email) => {
          await expectJsonError(await subscribeJson(email), 422, "invalid_email");
        },
      ),
    T,
  );

  it(
    `forms: addresses that are almost right answer a 422 HTML page (${runs.form} cases)`,
    () =>
      world.property("form", fc.tuple(nearMissAddress, fc.boolean()), runs.form, async ([email, framed]) => {
        await expectHtmlError(await subscribeForm({ email, ...(framed ? { _frame: "1" } : {}) }), 422);
      }),
    T,
  );

  it(
    `hostile strings in and around addresses, in any body shape, with hostile extra fields (${runs.anyShape} cases)`,
    () =>
      world.property(
        "anyShape",
        fc.record({ shape, email: hostileEmail, extra: extraFields, accept, frame: fc.boolean() }),
        runs.anyShape,
        async (c) => {
          const headers: Record<string, string> = {};
          if (c.accept) headers.accept = c.accept;
          const body = bodyOf(c.shape, { ...c.extra, email: c.email, ...(c.frame ? { _frame: "1" } : {}) }, headers);
          const res = await postSignup(headers, body);
          // Multipart field names with line breaks or quotes may not survive the encoding: an unreadable form.
          await checkSignup(res, {
            allowed: c.shape === "multipart" ? [400, 422] : [422],
            code:
              c.shape === "multipart"
                ? ["invalid_email", "domain_blocked", "invalid_form"]
                : ["invalid_email", "domain_blocked"],
            kind: shapeKind(c.shape, c.accept),
            what: "subscribe badEmail",
          });
        },
      ),
    T,
  );

  it(
    `JSON values that are not strings, with hostile extra fields (${runs.nonStringAnyFields} cases)`,
    () =>
      world.property(
        "nonStringAnyFields",
        fc.record({
          email: fc.oneof(
            fc.integer(),
            fc.double(),
            fc.boolean(),
            fc.constant(null),
            fc.array(validAddress, { minLength: 1, maxLength: 2 }),
            fc.record({ email: validAddress }),
            fc.jsonValue({ maxDepth: 2 }).filter((v) => typeof v !== "string" && v !== undefined),
          ),
          extra: extraFields,
        }),
        runs.nonStringAnyFields,
        async (c) => {
          const headers: Record<string, string> = {};
          const body = bodyOf("json", { ...c.extra, email: c.email }, headers);
          const res = await postSignup(headers, body);
          await checkSignup(res, {
            allowed: [422],
            code: ["invalid_email"],
            kind: "json",
            what: "subscribe nonString",
          });
        },
      ),
    T,
  );

  it(
    `hostile Origin and Referer headers around a bad address (${runs.originHeaders} cases)`,
    () =>
      world.property(
        "originHeaders",
        fc.record({ email: hostileEmail, origin: hostile, referer: hostile }),
        runs.originHeaders,
        async (c) => {
          const headers: Record<string, string> = { origin: headerSafe(c.origin), referer: headerSafe(c.referer) };
          const body = bodyOf("json", { email: c.email }, headers);
          await checkSignup(await postSignup(headers, body), {
            allowed: [422],
            kind: "json",
            what: "subscribe origin",
          });
        },
      ),
    T,
  );

  it(
    "header injection in the address is refused over JSON and forms",
    () =>
      world.unchanged(async () => {
        const attempts = [
          "victim@example.com\r\nBcc: x@y.com",
          "victim@example.com\nBcc: x@y.com",
          "victim@example.com\rBcc: x@y.com",
          "victim@example.com\r\nBcc: x@y.com\r\n\r\nbody",
          "victim@example.com%0d%0aBcc:x@y.com",
          "victim@example.com\u2028Bcc: x@y.com",
          "victim@example.com\u0085Bcc: x@y.com",
          '"victim@example.com\r\nBcc: x@y.com"@example.com',
        ];
        for (const email of attempts) {
          await expectJsonError(await subscribeJson(email), 422, "invalid_email");
          await expectHtmlError(await subscribeForm({ email }), 422);
        }
        expect(await subscriberRow("victim@example.com")).toBeNull();
        expect(await subscriberRow("x@y.com")).toBeNull();
      }),
    T,
  );

  it(
    "disposable domains are refused with domain_blocked and stored nowhere",
    () =>
      world.unchanged(async () => {
        for (const email of ["a@mailinator.com", "a@inbox.mailinator.com", "a@YOPMAIL.com"]) {
          const body = await expectJsonError(await subscribeJson(email), 422, "domain_blocked");
          expect(body.error.message).toMatch(/permanent address/);
        }
      }),
    T,
  );

  it(
    `ran its ${total(runs)} generated cases, and the state is the one right after seeding`,
    () => world.expectComplete(runs),
    T,
  );

  it(
    "control: a valid signup does change the state (a row, then a confirmation email)",
    async () => {
      const { changes } = await world.changes(async () => {
        expect((await subscribeJson("control-signup@example.com")).status).toBe(202);
        await mailOf("control-signup@example.com", "/confirm/");
      });
      expect(changes.some((d) => d.startsWith("subscribers"))).toBe(true);
      expect(changes.some((d) => d.startsWith("outbox"))).toBe(true);
    },
    T,
  );
});
