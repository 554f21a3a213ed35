/**
 * Hostile input on the signup (POST /api/subscribe), the body around the address: malformed JSON, wrong content
 * types, random bytes, duplicate, renamed and file fields. Each gets the 4xx of its kind even when a valid address is
 * inside, and nothing is stored or mailed (test/support/hostile/world.ts).
 */
import fc from "fast-check";
import { beforeAll, describe, it } from "vitest";
import { call } from "../support/helpers";
import { enc, hostile, isValidEmail, validAddress } from "../support/hostile/inputs";
import { expectHtmlError, expectJsonError, type Kind, kindFor } from "../support/hostile/responses";
import { RUNS, total } from "../support/hostile/runs";
import { accept, checkSignup, multipartKind, postSignup } from "../support/hostile/signup";
import { hostileWorld, T } from "../support/hostile/world";

const world = hostileWorld();
const runs = RUNS.signupBodies;
beforeAll(world.seed, T);

describe("malformed JSON", () => {
  it(
    `answers 400, even when it holds a valid address (${runs.malformed} cases)`,
    () => {
      const malformed = fc.oneof(
        fc.tuple(validAddress, fc.nat()).map(([a, n]) => {
          const full = JSON.stringify({ email: a });
          return { body: full.slice(0, n % full.length), code: "invalid_json" };
        }),
        fc
          .tuple(
            validAddress,
            fc.constantFrom(
              (a: string) => `{'email': '${a}'}`,
              (a: string) => `{email: "${a}"}`,
              (a: string) => `{"email": "${a}",}`,
              (a: string) => `{"email": "${a}" "x": 1}`,
              (a: string) => `{"email": "${a}"}}`,
              (a: string) => `{"email": "${a}"}garbage`,
              (a: string) => `/* c */ {"email": "${a}"}`,
              (a: string) => `{"email": "${a}", "n": NaN}`,
              (a: string) => `{"email": "${a}\u0000"}`,
              (a: string) => `{"email": "${a}\n"}`,
              (a: string) => `{"email": \`${a}\`}`,
              (a: string) => `)]}'\n{"email": "${a}"}`,
              (a: string) => `{"email": "${a}"`,
              (a: string) => `{"email": "\\x${a}"}`,
              (a: string) => `email=${a}`,
              (a: string) => `<email>${a}</email>`,
            ),
          )
          .map(([a, f]) => ({ body: f(a), code: "invalid_json" })),
        fc
          .tuple(
            validAddress,
            fc.constantFrom(
              (a: string) => `"${a}"`,
              (a: string) => `["${a}"]`,
              (a: string) => `[{"email":"${a}"}]`,
              () => "null",
              () => "42",
              () => "true",
              () => "[]",
            ),
          )
          .map(([a, f]) => ({ body: f(a), code: "invalid_body" })),
      );
      const type = fc.constantFrom("application/json", "application/json; charset=utf-8", "Application/JSON");
      return world.property("malformed", fc.tuple(malformed, type), runs.malformed, async ([{ body, code }, t]) => {
        const res = await call("/api/subscribe", {
          method: "POST",
          body,
          headers: { "content-type": t, accept: "application/json" },
        });
        await expectJsonError(res, 400, code);
      });
    },
    T,
  );

  it(
    `answers 400 to hostile and truncated bodies under any JSON type (${runs.malformedAnyType} cases)`,
    () => {
      const body = fc.oneof(
        validAddress.map((a) => `{"email": "${a}"`),
        validAddress.map((a) => `{'email': '${a}'}`),
        validAddress.map((a) => `{"email": "${a}",}`),
        validAddress.map((a) => `email=${a}`),
        validAddress.map((a) => `"${a}"`),
        validAddress.map((a) => `["${a}"]`),
        validAddress.map((a) => `)]}'\n{"email":"${a}"}`),
        fc.constantFrom(
          "",
          " ",
          "null",
          "42",
          "true",
          "[]",
          "{",
          "}",
          "\u0000",
          "\ufeff[]",
          "NaN",
          '{"email": undefined}',
        ),
        hostile.filter((s) => {
          try {
            // (A leading BOM is dropped when the body is read as text.)
            const v = JSON.parse(s.toWellFormed().replace(/^\ufeff/, ""));
            return typeof v !== "object" || v === null || Array.isArray(v);
          } catch {
            return true;
          }
        }),
      );
      const type = fc.constantFrom(
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/json;charset=latin1",
      );
      return world.property("malformedAnyType", fc.record({ body, type }), runs.malformedAnyType, async (c) => {
        const res = await postSignup({ "content-type": c.type, accept: "application/json" }, c.body);
        await checkSignup(res, {
          allowed: [400],
          code: ["invalid_json", "invalid_body"],
          kind: "json",
          what: "subscribe malformed",
        });
      });
    },
    T,
  );
});

describe("content types", () => {
  it(
    `wrong or missing content types answer 415, even around a valid address (${runs.wrongType} cases)`,
    () => {
      const TYPES = [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/xml",
        "text/xml",
        "text/html",
        "application/octet-stream",
        "application/jsonp",
        "application/x-json",
        "text/json",
        "application/ld+json",
        "application/merge-patch+json",
        "application/json5",
        "multipart/mixed; boundary=x",
        "application/x-www-form-urlencode",
        "multipart/form",
        "application/json, text/plain",
        "image/png",
        "null",
        "*/*",
        "",
      ];
      const arb = fc.tuple(
        validAddress,
        fc.constantFrom(...TYPES),
        fc.constantFrom("json", "form", "xml"),
        fc.constantFrom("application/json", "text/html", ""),
      );
      return world.property("wrongType", arb, runs.wrongType, async ([a, type, shape, acc]) => {
        const text =
          shape === "json"
            ? JSON.stringify({ email: a })
            : shape === "form"
              ? new URLSearchParams({ email: a }).toString()
              : `<subscribe><email>${a}</email></subscribe>`;
        const headers: Record<string, string> = {};
        if (acc) headers.accept = acc;
        // A string body would get text/plain from the Request constructor; bytes keep the header absent.
        if (type) headers["content-type"] = type;
        const res = await call("/api/subscribe", { method: "POST", body: new TextEncoder().encode(text), headers });
        await expectJsonError(res, 415, "unsupported_media_type");
      });
    },
    T,
  );

  it(
    `near-miss content types answer 415 with the error kind the caller asked for (${runs.wrongTypeAnyShape} cases)`,
    () => {
      const TYPES_415 = [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/xml",
        "text/xml",
        "application/octet-stream",
        "application/jsonp",
        "text/json",
        "application/ld+json",
        "application/x-www-form-urlencodedX",
        "multipart/form-data-x",
        "multipart/mixed; boundary=x",
        "image/png",
        "*/*",
        "application/json5",
        "application/x-www-form-urlencode",
        "",
      ];
      const arb = fc.record({ email: validAddress, type: fc.constantFrom(...TYPES_415), accept, asJson: fc.boolean() });
      return world.property("wrongTypeAnyShape", arb, runs.wrongTypeAnyShape, async (c) => {
        const headers: Record<string, string> = {};
        if (c.type) headers["content-type"] = c.type;
        if (c.accept) headers.accept = c.accept;
        const text = c.asJson ? JSON.stringify({ email: c.email }) : new URLSearchParams({ email: c.email }).toString();
        const body = new TextEncoder().encode(text); // bytes: no content-type is added by the Request
        await checkSignup(await postSignup(headers, body), {
          allowed: [415],
          code: ["unsupported_media_type"],
          kind: kindFor("POST", headers),
          what: "subscribe wrongType",
        });
      });
    },
    T,
  );
});

describe("random bytes", () => {
  const TYPES = [
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=----x",
    "multipart/form-data",
    "text/plain",
    "",
  ];

  it(
    `under any content type answer a 4xx of the right kind (${runs.bytes} cases)`,
    () => {
      const arb = fc.tuple(
        fc.uint8Array({ maxLength: 4000 }),
        fc.constantFrom(...TYPES),
        fc.constantFrom("application/json", "text/html", ""),
      );
      return world.property("bytes", arb, runs.bytes, async ([bytes, type, acc]) => {
        const headers: Record<string, string> = {};
        if (type) headers["content-type"] = type;
        if (acc) headers.accept = acc;
        const res = await call("/api/subscribe", { method: "POST", body: bytes, headers });
        const html =
          acc !== "application/json" &&
          (type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data"));
        if (html) await expectHtmlError(res);
        else await expectJsonError(res);
      });
    },
    T,
  );

  it(
    `under any content type and Accept header answer 400, 415 or 422 (${runs.bytesAnyAccept} cases)`,
    () => {
      const arb = fc.record({ bytes: fc.uint8Array({ maxLength: 2000 }), type: fc.constantFrom(...TYPES), accept });
      return world.property("bytesAnyAccept", arb, runs.bytesAnyAccept, async (c) => {
        const headers: Record<string, string> = {};
        if (c.type) headers["content-type"] = c.type;
        if (c.accept) headers.accept = c.accept;
        if (c.type === "application/x-www-form-urlencoded") {
          // Random bytes are never a valid signup; should they decode to one, the case is not hostile.
          const p = new URLSearchParams(new TextDecoder().decode(c.bytes));
          fc.pre(!isValidEmail(p.get("email")) && !p.get("website") && !p.has("redirect") && !p.has("ts"));
        }
        // 400 unreadable, 415 type, 422 no address.
        const kind: Kind =
          c.type.startsWith("multipart/form-data") || c.type === "application/x-www-form-urlencoded"
            ? multipartKind(c.accept)
            : "json";
        await checkSignup(await postSignup(headers, c.bytes), {
          allowed: [400, 415, 422],
          kind,
          what: "subscribe bytes",
        });
      });
    },
    T,
  );
});

describe("duplicate, renamed and file fields", () => {
  type Fields = { pairs: [string, string][]; multipart: boolean; file?: boolean };
  const pair = (a: string, b: string, k = "email"): [string, string][] => [
    [k, a],
    [k, b],
  ];

  it(
    `forms with duplicate, array or file email fields answer 422 (${runs.fields} cases)`,
    () => {
      const shapes: fc.Arbitrary<Fields> = fc.oneof(
        fc.tuple(validAddress, validAddress).map(([a, b]) => ({ pairs: pair(a, b), multipart: false })),
        validAddress.map((a) => ({ pairs: pair(a, a), multipart: false })),
        fc
          .tuple(
            validAddress,
            fc.constantFrom(
              "email[]",
              "email[0]",
              "email.0",
              "Email",
              "EMAIL",
              "e-mail",
              "email ",
              " email",
              "email%00",
            ),
          )
          .map(([a, k]) => ({ pairs: [[k, a]] as [string, string][], multipart: false })),
        fc.tuple(validAddress, validAddress).map(([a, b]) => ({ pairs: pair(a, b), multipart: true })),
        validAddress.map((a) => ({ pairs: pair(a, a, "email[]"), multipart: true })),
        validAddress.map((a) => ({ pairs: [["email", a]] as [string, string][], multipart: true, file: true })),
      );
      return world.property("fields", shapes, runs.fields, async (shape) => {
        let body: BodyInit;
        const headers: Record<string, string> = { accept: "text/html" };
        if (shape.multipart) {
          const form = new FormData();
          for (const [k, v] of shape.pairs) {
            if (shape.file) form.append(k, new File([v], "email.txt", { type: "text/plain" }));
            else form.append(k, v);
          }
          body = form;
        } else {
          body = shape.pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
          headers["content-type"] = "application/x-www-form-urlencoded";
        }
        const res = await call("/api/subscribe", { method: "POST", body, headers, redirect: "manual" });
        await expectHtmlError(res, 422);
      });
    },
    T,
  );

  it(
    `hostile field names, urlencoded or multipart, answer 422 (or 400 for an unreadable form) (${runs.fieldsAnyShape} cases)`,
    () => {
      const arb: fc.Arbitrary<Required<Fields>> = fc.oneof(
        fc
          .tuple(validAddress, validAddress, fc.boolean())
          .map(([a, b, m]) => ({ pairs: pair(a, b), multipart: m, file: false })),
        fc
          .tuple(
            validAddress,
            fc.constantFrom(
              "email[]",
              "email[0]",
              "Email",
              "EMAIL",
              "e-mail",
              "email ",
              " email",
              "email\u0000",
              "emai\u200bl",
            ),
            fc.boolean(),
          )
          .map(([a, key, m]) => ({ pairs: [[key, a]] as [string, string][], multipart: m, file: false })),
        validAddress.map((a) => ({ pairs: [["email", a]] as [string, string][], multipart: true, file: true })),
      );
      return world.property("fieldsAnyShape", arb, runs.fieldsAnyShape, async (c) => {
        const headers: Record<string, string> = { accept: "text/html" };
        let body: BodyInit;
        if (c.multipart) {
          const form = new FormData();
          for (const [k, v] of c.pairs) form.append(k, c.file ? new File([v], "email.txt", { type: "text/plain" }) : v);
          body = form;
        } else {
          headers["content-type"] = "application/x-www-form-urlencoded";
          body = c.pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join("&");
        }
        // (A multipart field name with a control character may not survive the encoding: an unreadable form, 400.)
        await checkSignup(await postSignup(headers, body), {
          allowed: c.multipart ? [400, 422] : [422],
          kind: "html",
          what: "subscribe fields",
        });
      });
    },
    T,
  );
});

describe("all of the above", () => {
  it(
    `ran its ${total(runs)} generated cases, and the state is the one right after seeding`,
    () => world.expectComplete(runs),
    T,
  );
});
