/**
 * Hostile input, generated with fast-check and sent to the real Worker (exports.default.fetch) with the real D1.
 * Properties: no 5xx; 4xx JSON answers have the {error:{code,message}} shape, form answers are HTML pages;
 * nothing is stored and no email is queued for a bad input; forged links never change an existing subscriber.
 *
 * Generated cases per run (numRuns below): 350 + 150 + 100 + 80 + 100 + 40 + 80 + 300 + 80 + 150 + 30 = 1,460,
 * plus the enumerated wrong-method matrix and the fixed cases.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { b64url, type Purpose, signToken } from "../../src/lib/tokens";

/** A subscriber's link key and latest confirmation time: what their genuine links are signed with. */
const linkOf = async (sub: number) =>
  (await env.DB.prepare("SELECT link_key, confirm_sent_at FROM subscribers WHERE id = ?")
    .bind(sub)
    .first<{ link_key: string; confirm_sent_at: number | null }>()) ?? { link_key: "", confirm_sent_at: null };

import {
  BASE,
  call,
  confirmJobFor,
  firstLink,
  outboxFor,
  runMailQueue,
  subscribeForm,
  subscribeJson,
  subscriberRow,
} from "../support/helpers";

const DAY = 24 * 3600 * 1000;
const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
/** The Worker's own secret (set by vitest.config.ts), to mint genuine tokens and well-formed forgeries. */
const SECRET = env.TOKEN_SECRET ?? "";

// ---------------------------------------------------------------------------------------------------------------
// Database state

const allSubscribers = async () =>
  (await env.DB.prepare("SELECT * FROM subscribers ORDER BY id").all<Record<string, unknown>>()).results;
const snapshot = async () => JSON.stringify(await allSubscribers());
const outboxRecipients = async () =>
  (await env.DB.prepare("SELECT to_address FROM outbox").all<{ to_address: string }>()).results.map(
    (r) => r.to_address,
  );

/**
 * Nothing was stored: the subscribers table is byte-identical to `before` (same rows, same values), no row holds a
 * generated value, and every outbox recipient is a subscriber that existed before (the queue consumer may run in
 * the background, but it only ever mails rows of the subscribers table; storage is shared by the tests of this file).
 */
async function expectNothingStored(before: string, generated: Set<string>) {
  const known = new Set((JSON.parse(before) as { email: string }[]).map((r) => r.email));
  const rows = await allSubscribers();
  expect(rows.length).toBe(known.size);
  expect(JSON.stringify(rows)).toBe(before);
  for (const row of rows) {
    expect(generated.has(String(row.email))).toBe(false);
    expect(generated.has(String(row.email_key))).toBe(false);
  }
  for (const to of await outboxRecipients()) {
    expect(generated.has(to), `mail to generated address ${JSON.stringify(to)}`).toBe(false);
    expect(known.has(to), `mail to unknown address ${JSON.stringify(to)}`).toBe(true);
  }
}

let seedCounter = 0;
/** One active subscriber (signed up through the API, confirmed through the link in its email) and one pending. */
async function seed() {
  expect(SECRET.length).toBeGreaterThanOrEqual(32);
  const n = ++seedCounter;
  const activeEmail = `seed-active-${n}@example.com`;
  const pendingEmail = `seed-pending-${n}@example.com`;
  expect((await subscribeJson(activeEmail)).status).toBe(202);
  await runMailQueue([await confirmJobFor(activeEmail)]);
  const [mail] = await outboxFor(activeEmail);
  const confirmPath = new URL(firstLink(mail!.text, "/confirm/")).pathname;
  const confirmed = await call(confirmPath, { method: "POST" });
  expect(confirmed.status).toBe(200);
  expect((await subscribeJson(pendingEmail)).status).toBe(202);
  const active = (await subscriberRow(activeEmail))!;
  const pending = (await subscriberRow(pendingEmail))!;
  expect(active.status).toBe("active");
  expect(pending.status).toBe("pending");
  return { active, pending };
}

// ---------------------------------------------------------------------------------------------------------------
// Response shapes

type ErrorBody = { error: { code: string; message: string } };

async function expectJsonError(res: Response, status?: number | number[], code?: string | string[]) {
  if (status !== undefined) expect([status].flat()).toContain(res.status);
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json/);
  const body = (await res.json()) as ErrorBody;
  expect(Object.keys(body)).toEqual(["error"]);
  expect(typeof body.error.code).toBe("string");
  expect(body.error.code).toMatch(/^[a-z_]+$/);
  expect(typeof body.error.message).toBe("string");
  expect(body.error.message.trim().length).toBeGreaterThan(5);
  if (code !== undefined) expect([code].flat()).toContain(body.error.code);
  return body;
}

async function expectHtmlError(res: Response, status?: number | number[]) {
  if (status !== undefined) expect([status].flat()).toContain(res.status);
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expect(res.headers.get("content-type") ?? "").toMatch(/^text\/html/);
  expect(res.headers.get("content-security-policy") ?? "").toContain("frame-ancestors");
  const body = await res.text();
  expect(body).toContain("<h1>");
  expect(body).toContain("</html>");
  // The page never echoes the attacker's markup.
  expect(body).not.toMatch(/<script>alert|onerror=alert|onload=alert/);
  return body;
}

/** Any response: never 5xx, and a 4xx is either the JSON error shape or an HTML page. */
async function expectSane(res: Response) {
  expect(res.status).toBeLessThan(500);
  expect(res.status).toBeGreaterThanOrEqual(200);
  if (res.status < 400) return;
  const type = res.headers.get("content-type") ?? "";
  if (type.startsWith("application/json")) await expectJsonError(res);
  else if (type.startsWith("text/html")) await expectHtmlError(res);
  else expect.fail(`a ${res.status} answer with content-type ${JSON.stringify(type)}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Generators

const local = fc.stringMatching(/^[a-z][a-z0-9]{0,10}$/);
const domain = fc.constantFrom(
  "example.com",
  "example.org",
  "mail.example.net",
  "xn--bcher-kva.de",
  "sub.example.co.uk",
);
/** Valid addresses: used inside bad requests (so a stored row would be a real bug) and as a control. */
const validAddress = fc.tuple(local, domain).map(([l, d]) => `${l}@${d}`);

/** Strings inserted strictly inside an address (never at the ends, where trimming would legitimately remove them). */
const INSERTS = [
  "\r\n",
  "\n",
  "\r",
  "\r\nBcc: x@y.com",
  "\r\nBcc: x@y.com\r\n",
  "\nCc: a@b.com",
  "\u0000",
  "\u0007",
  "\u001b",
  "\u007f",
  "\u0085",
  "\t",
  " ",
  "\u00a0",
  "\u2028",
  "\u2029",
  "\u3000",
  "\ufeff",
  ",",
  ";",
  ", b@y.com",
  "; b@y.com",
  "<",
  ">",
  '"',
  "(",
  ")",
  "[",
  "]",
  "\\",
  "<script>alert(1)</script>",
  "@",
  "@@",
];
const injected = fc.tuple(validAddress, fc.constantFrom(...INSERTS), fc.nat()).map(([a, s, n]) => {
  const i = 1 + (n % (a.length - 1));
  return a.slice(0, i) + s + a.slice(i);
});
const list = fc
  .tuple(validAddress, validAddress, fc.constantFrom(", ", ",", ";", "; ", " ", " , ", "\n", "\r\n"))
  .map(([a, b, s]) => a + s + b);
const displayName = fc
  .tuple(fc.constantFrom("Bob", '"Bob"', "", "=?utf-8?q?Bob?=", "Bob Smith", "bob@evil.com"), validAddress)
  .map(([n, a]) => `${n} <${a}>`);
const HTML_PAYLOADS = [
  "<script>alert(1)</script>",
  '"><svg onload=alert(1)>',
  "<img src=x onerror=alert(1)>",
  "javascript:alert(1)//",
  "</textarea><script>alert(1)</script>",
  "<!--",
  "]]>",
];
const markup = fc
  .tuple(validAddress, fc.constantFrom(...HTML_PAYLOADS), fc.boolean())
  .map(([a, p, before]) => (before ? p + a : a + p));

const HOMOGLYPHS: Record<string, string[]> = {
  a: ["а", "α"], // Cyrillic a, Greek alpha
  e: ["е"], // Cyrillic ie
  o: ["о", "ο"], // Cyrillic o, Greek omicron
  p: ["р", "ρ"], // Cyrillic er, Greek rho
  c: ["с"], // Cyrillic es
  x: ["х", "χ"], // Cyrillic ha, Greek chi
  y: ["у"], // Cyrillic u
  i: ["і", "ι"], // Ukrainian i, Greek iota
  s: ["ѕ"], // Cyrillic dze
};
const BRANDS = ["apple", "paypal", "google", "microsoft", "example", "amazon", "yahoo", "icloud", "proton", "outlook"];
/** A Latin label with one letter swapped for a Cyrillic or Greek look-alike, in Unicode or already punycoded. */
const lookalikeDomain = fc
  .tuple(fc.constantFrom(...BRANDS), fc.nat(), fc.nat(), fc.constantFrom("com", "org", "net", "рф"), fc.boolean())
  .map(([brand, pos, alt, tld, puny]) => {
    const spots = [...brand].flatMap((ch, i) => (HOMOGLYPHS[ch] ? [i] : []));
    const i = spots[pos % spots.length]!;
    const options = HOMOGLYPHS[brand[i]!]!;
    const label = brand.slice(0, i) + options[alt % options.length] + brand.slice(i + 1);
    const d = `${label}.${tld}`;
    return puny ? new URL(`http://${d}/`).hostname : d;
  });
const lookalike = fc.oneof(
  fc.tuple(local, lookalikeDomain).map(([l, d]) => `${l}@${d}`),
  // Non-ASCII local parts and full-width @ / look-alike @.
  fc
    .tuple(fc.constantFrom("аdmin", "jоhn", "ρaul", "müller", "用户", "ada\u200b"), domain)
    .map(([l, d]) => `${l}@${d}`),
  fc.tuple(local, fc.constantFrom("＠", "﹫", "@\u0338"), domain).map(([l, at, d]) => `${l}${at}${d}`),
);

const ATEXT = [..."abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~-"];
const longLocal = fc
  .tuple(fc.string({ unit: fc.constantFrom(...ATEXT), minLength: 65, maxLength: 200 }), domain)
  .map(([l, d]) => `${l}@${d}`);
/** Labels of 63 characters: the address is over 254 characters in all (and the domain possibly over 253). */
const longDomain = fc
  .tuple(local, fc.integer({ min: 4, max: 8 }), fc.integer({ min: 0, max: 62 }))
  .map(
    ([l, labels, extra]) =>
      `${l.padEnd(64, "x")}@${Array.from({ length: labels }, (_, i) => String.fromCharCode(97 + i).repeat(63)).join(".")}.${"q".repeat(extra)}com`,
  );
const longLabel = fc.tuple(local, fc.integer({ min: 64, max: 300 })).map(([l, n]) => `${l}@${"l".repeat(n)}.com`);

const structural = fc.oneof(
  fc.tuple(local, domain).map(([l, d]) => `${l}${d}`), // no @
  domain.map((d) => `@${d}`),
  local.map((l) => `${l}@`),
  fc.tuple(local, local, domain).map(([a, b, d]) => `${a}@${b}@${d}`),
  fc.tuple(local, domain).map(([l, d]) => `.${l}@${d}`),
  fc.tuple(local, domain).map(([l, d]) => `${l}.@${d}`),
  fc.tuple(local, local, domain).map(([a, b, d]) => `${a}..${b}@${d}`),
  fc.tuple(local, domain).map(([l, d]) => `${l}@-${d}`),
  fc.tuple(local, domain).map(([l, d]) => `${l}@${d.replace(".", "-.")}`),
  fc.tuple(local, fc.ipV4()).map(([l, ip]) => `${l}@${ip}`),
  fc.tuple(local, fc.oneof(fc.ipV4(), fc.ipV6())).map(([l, ip]) => `${l}@[${ip}]`),
  fc.tuple(local, fc.nat()).map(([l, n]) => `${l}@example.${n}`),
  fc.tuple(local, fc.constantFrom("ex_ample.com", "example.c_m", "_dmarc.example.com")).map(([l, d]) => `${l}@${d}`),
  fc
    .tuple(
      local,
      fc.constantFrom(
        "x..com",
        ".example.com",
        "example..",
        "example.com..",
        "localhost",
        "com",
        "example.c",
        "example.c0m",
        "exa%41mple.com",
        "example.com:25",
        "example.com/x",
        "example.com?x",
        "example.com#x",
      ),
    )
    .map(([l, d]) => `${l}@${d}`),
);
/** Random text without an @ can never be an address. */
const noise = fc
  .oneof(fc.string({ unit: "binary", maxLength: 300 }), fc.string({ unit: "grapheme", maxLength: 100 }))
  .filter((s) => !s.includes("@"));

const badAddress = fc.oneof(
  injected,
  injected,
  list,
  displayName,
  markup,
  lookalike,
  lookalike,
  longLocal,
  longDomain,
  longLabel,
  structural,
  structural,
  noise,
);
/** JSON values that are not strings, some of them wrapping perfectly valid addresses. */
const nonString = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(validAddress, { minLength: 1, maxLength: 3 }),
  validAddress.map((a) => [[a]]),
  fc.record({ email: validAddress }),
  validAddress.map((a) => ({ address: a, name: "Ada" })),
  fc.jsonValue({ maxDepth: 3 }).filter((v) => typeof v !== "string"),
);

/** Lone surrogates cannot be percent-encoded; replace them the way a browser would. */
const wellFormed = (s: string) =>
  s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");

/** Every value a property sends as an address, in every form it could be stored or mailed under. */
function remember(set: Set<string>, value: unknown) {
  const walk = (v: unknown) => {
    if (typeof v === "string") {
      for (const s of [v, v.trim(), v.toLowerCase(), v.trim().toLowerCase()]) set.add(s);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(value);
}

// ---------------------------------------------------------------------------------------------------------------

describe("hostile signups never store anything", () => {
  it("JSON: invalid addresses and non-string values answer 422 with the error shape", async () => {
    await seed();
    const before = await snapshot();
    const generated = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ arbitrary: badAddress, weight: 3 }, { arbitrary: nonString, weight: 1 }),
        async (email) => {
          remember(generated, email);
          const res = await subscribeJson(email);
          await expectJsonError(res, 422, "invalid_email");
        },
      ),
      { numRuns: 350 },
    );
    await expectNothingStored(before, generated);
  });

  it("forms: invalid addresses answer a 422 HTML page", async () => {
    await seed();
    const before = await snapshot();
    const generated = new Set<string>();
    await fc.assert(
      fc.asyncProperty(badAddress, fc.boolean(), async (email, framed) => {
        remember(generated, email);
        const res = await subscribeForm({ email, ...(framed ? { _frame: "1" } : {}) });
        await expectHtmlError(res, 422);
      }),
      { numRuns: 150 },
    );
    await expectNothingStored(before, generated);
  });

  it("malformed JSON bodies answer 400, even when they hold a valid address", async () => {
    await seed();
    const before = await snapshot();
    const generated = new Set<string>();
    const malformed = fc.oneof(
      fc.tuple(validAddress, fc.nat()).map(([a, n]) => {
        const full = JSON.stringify({ email: a });
        return { a, body: full.slice(0, n % full.length), code: "invalid_json" };
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
        .map(([a, f]) => ({ a, body: f(a), code: "invalid_json" })),
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
        .map(([a, f]) => ({ a, body: f(a), code: "invalid_body" })),
    );
    await fc.assert(
      fc.asyncProperty(
        malformed,
        fc.constantFrom("application/json", "application/json; charset=utf-8", "Application/JSON"),
        async ({ a, body, code }, type) => {
          remember(generated, a);
          const res = await call("/api/subscribe", {
            method: "POST",
            body,
            headers: { "content-type": type, accept: "application/json" },
          });
          await expectJsonError(res, 400, code);
        },
      ),
      { numRuns: 100 },
    );
    await expectNothingStored(before, generated);
  });

  it("wrong or missing content types answer 415, even around a valid address", async () => {
    await seed();
    const before = await snapshot();
    const generated = new Set<string>();
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
    await fc.assert(
      fc.asyncProperty(
        validAddress,
        fc.constantFrom(...TYPES),
        fc.constantFrom("json", "form", "xml"),
        fc.constantFrom("application/json", "text/html", ""),
        async (a, type, shape, accept) => {
          remember(generated, a);
          const text =
            shape === "json"
              ? JSON.stringify({ email: a })
              : shape === "form"
                ? new URLSearchParams({ email: a }).toString()
                : `<subscribe><email>${a}</email></subscribe>`;
          const headers: Record<string, string> = {};
          if (accept) headers.accept = accept;
          // A string body would get text/plain from the Request constructor; bytes keep the header absent.
          if (type) headers["content-type"] = type;
          const res = await call("/api/subscribe", { method: "POST", body: new TextEncoder().encode(text), headers });
          await expectJsonError(res, 415, "unsupported_media_type");
        },
      ),
      { numRuns: 80 },
    );
    await expectNothingStored(before, generated);
  });

  it("random bytes under any content type answer a 4xx of the right kind", async () => {
    await seed();
    const before = await snapshot();
    const TYPES = [
      "application/json",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=----x",
      "multipart/form-data",
      "text/plain",
      "",
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 4000 }),
        fc.constantFrom(...TYPES),
        fc.constantFrom("application/json", "text/html", ""),
        async (bytes, type, accept) => {
          const headers: Record<string, string> = {};
          if (type) headers["content-type"] = type;
          if (accept) headers.accept = accept;
          const res = await call("/api/subscribe", { method: "POST", body: bytes, headers });
          const html =
            accept !== "application/json" &&
            (type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data"));
          if (html) await expectHtmlError(res);
          else await expectJsonError(res);
        },
      ),
      { numRuns: 100 },
    );
    await expectNothingStored(before, new Set());
  });

  it("bodies over 8 KiB answer 413, with or without a Content-Length, even around a valid address", async () => {
    await seed();
    const before = await snapshot();
    const generated = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        validAddress,
        fc.integer({ min: 8 * 1024 + 1, max: 64 * 1024 }),
        fc.constantFrom("json", "form", "text"),
        fc.boolean(),
        async (a, size, kind, streamed) => {
          remember(generated, a);
          const pad = "x".repeat(size);
          const text =
            kind === "json"
              ? JSON.stringify({ email: a, pad })
              : kind === "form"
                ? new URLSearchParams({ email: a, pad }).toString()
                : `${a}${pad}`;
          const type =
            kind === "json" ? "application/json" : kind === "form" ? "application/x-www-form-urlencoded" : "text/plain";
          const bytes = new TextEncoder().encode(text);
          expect(bytes.length).toBeGreaterThan(8 * 1024);
          const body = streamed
            ? new ReadableStream<Uint8Array>({
                start(controller) {
                  for (let i = 0; i < bytes.length; i += 1000) controller.enqueue(bytes.slice(i, i + 1000));
                  controller.close();
                },
              })
            : bytes;
          const res = await call("/api/subscribe", {
            method: "POST",
            body,
            headers: { "content-type": type, accept: kind === "form" ? "text/html" : "application/json" },
            duplex: "half",
          } as RequestInit);
          if (kind === "form") await expectHtmlError(res, 413);
          else await expectJsonError(res, 413, "body_too_large");
        },
      ),
      { numRuns: 40 },
    );
    await expectNothingStored(before, generated);
  });

  it("forms with duplicate, array or file email fields answer 422", async () => {
    await seed();
    const before = await snapshot();
    const generated = new Set<string>();
    const shapes = fc.oneof(
      fc.tuple(validAddress, validAddress).map(([a, b]) => ({
        pairs: [
          ["email", a],
          ["email", b],
        ] as [string, string][],
        multipart: false,
      })),
      validAddress.map((a) => ({
        pairs: [
          ["email", a],
          ["email", a],
        ] as [string, string][],
        multipart: false,
      })),
      fc
        .tuple(
          validAddress,
          fc.constantFrom("email[]", "email[0]", "email.0", "Email", "EMAIL", "e-mail", "email ", " email", "email%00"),
        )
        .map(([a, k]) => ({ pairs: [[k, a]] as [string, string][], multipart: false })),
      fc.tuple(validAddress, validAddress).map(([a, b]) => ({
        pairs: [
          ["email", a],
          ["email", b],
        ] as [string, string][],
        multipart: true,
      })),
      validAddress.map((a) => ({
        pairs: [
          ["email[]", a],
          ["email[]", a],
        ] as [string, string][],
        multipart: true,
      })),
      validAddress.map((a) => ({ pairs: [["email", a]] as [string, string][], multipart: true, file: true })),
    );
    await fc.assert(
      fc.asyncProperty(shapes, async (shape) => {
        for (const [, v] of shape.pairs) remember(generated, v);
        let body: BodyInit;
        const headers: Record<string, string> = { accept: "text/html" };
        if (shape.multipart) {
          const form = new FormData();
          for (const [k, v] of shape.pairs) {
            if ("file" in shape) form.append(k, new File([v], "email.txt", { type: "text/plain" }));
            else form.append(k, v);
          }
          body = form;
        } else {
          body = shape.pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
          headers["content-type"] = "application/x-www-form-urlencoded";
        }
        const res = await call("/api/subscribe", { method: "POST", body, headers, redirect: "manual" });
        await expectHtmlError(res, 422);
      }),
      { numRuns: 80 },
    );
    await expectNothingStored(before, generated);
  });

  it("header injection in the address is refused over JSON and forms", async () => {
    await seed();
    const before = await snapshot();
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
    await expectNothingStored(before, new Set(["victim@example.com", "x@y.com", ...attempts]));
    expect(await subscriberRow("victim@example.com")).toBeNull();
    expect(await subscriberRow("x@y.com")).toBeNull();
  });

  it("disposable domains are refused with domain_blocked and stored nowhere", async () => {
    const before = await snapshot();
    for (const email of ["a@mailinator.com", "a@inbox.mailinator.com", "a@YOPMAIL.com"]) {
      const body = await expectJsonError(await subscribeJson(email), 422, "domain_blocked");
      expect(body.error.message).toMatch(/permanent address/);
    }
    await expectNothingStored(before, new Set(["a@mailinator.com", "a@inbox.mailinator.com", "a@yopmail.com"]));
  });

  it("a filled honeypot answers like success (202 / 303) and stores nothing", async () => {
    await seed();
    // The control: a real signup's answers, which the honeypot answers must be indistinguishable from.
    const realJson = await subscribeJson("control-json@example.com");
    const realJsonBody = await realJson.text();
    expect(realJson.status).toBe(202);
    const realForm = await subscribeForm({ email: "control-form@example.com" });
    expect(realForm.status).toBe(303);
    const before = await snapshot();
    const generated = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        validAddress,
        fc.string({ minLength: 1, maxLength: 50 }),
        fc.boolean(),
        async (a, website, form) => {
          remember(generated, a);
          if (form) {
            const res = await subscribeForm({ email: a, website });
            expect(res.status).toBe(303);
            expect(res.headers.get("location")).toBe(realForm.headers.get("location"));
          } else {
            const res = await subscribeJson(a, { website });
            expect(res.status).toBe(202);
            expect(await res.text()).toBe(realJsonBody);
          }
        },
      ),
      { numRuns: 30 },
    );
    await expectNothingStored(before, generated);
  });
});

describe("rate limits", () => {
  /**
   * Sends `max + 11` requests from one IP. The limiter's window is aligned to the wall clock, so a burst can
   * straddle one window boundary; either way the first `max` answers are never 429 and a 429 comes by `2 * max`.
   */
  async function burst(send: (ip: string) => Promise<Response>, max: number, ip: string) {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i <= 2 * max && !limited; i++) {
      const res = await send(ip);
      statuses.push(res.status);
      if (res.status === 429) limited = res;
      else await res.body?.cancel();
    }
    expect(statuses.slice(0, max)).not.toContain(429);
    expect(limited, `statuses: ${statuses.join(",")}`).toBeDefined();
    expect(statuses.indexOf(429)).toBeGreaterThanOrEqual(max);
    return limited!;
  }

  it("subscribe: after 10 requests from one IP, answers 429 with Retry-After (JSON and forms)", async () => {
    const before = await snapshot();
    const limited = await burst((ip) => subscribeJson("not-an-address", {}, { ip }), 10, "203.0.113.10");
    expect(limited.headers.get("retry-after")).toBe("60");
    await expectJsonError(limited, 429, "rate_limited");
    // Once limited, even a valid address is refused and not stored.
    const valid = await subscribeJson("limited@example.com", {}, { ip: "203.0.113.10" });
    expect(valid.status).toBe(429);
    expect(valid.headers.get("retry-after")).toBe("60");
    const page = await subscribeForm({ email: "limited@example.com" }, { ip: "203.0.113.10" });
    expect(page.status).toBe(429);
    expect(page.headers.get("retry-after")).toBe("60");
    expect(await expectHtmlError(page, 429)).toContain("Too many attempts");
    expect(await subscriberRow("limited@example.com")).toBeNull();
    // The limit is per IP: another client is unaffected.
    await expectJsonError(await subscribeJson("not-an-address", {}, { ip: "203.0.113.11" }), 422);
    await expectNothingStored(before, new Set(["limited@example.com"]));
  });

  it("personal links: after 30 requests from one IP, answers 429 with Retry-After", async () => {
    const limited = await burst((ip) => call("/manage/forged", { ip }), 30, "203.0.113.20");
    expect(limited.headers.get("retry-after")).toBe("60");
    expect(limited.status).toBe(429);
  });
});

describe("forged and tampered personal links", () => {
  type Route = "confirm" | "unsubscribe" | "manage";
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
    | { kind: "extend"; suffix: string }
    | { kind: "overlong"; n: number };

  const spec: fc.Arbitrary<Spec> = fc.oneof(
    fc.record({
      kind: fc.constant("random" as const),
      s: fc.string({ unit: "binary", maxLength: 250 }),
      encode: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant("b64shape" as const),
      s: fc.stringMatching(/^[A-Za-z0-9_-]{1,30}\.[A-Za-z0-9_-]{43}$/),
    }),
    fc.record({
      kind: fc.constant("byteflip" as const),
      part: fc.constantFrom(0 as const, 1 as const),
      index: fc.nat(),
      bit: fc.integer({ min: 0, max: 7 }),
    }),
    fc.record({
      kind: fc.constant("byteflip" as const),
      part: fc.constantFrom(0 as const, 1 as const),
      index: fc.nat(),
      bit: fc.integer({ min: 0, max: 7 }),
    }),
    fc.record({ kind: fc.constant("charflip" as const), index: fc.nat(), bit: fc.integer({ min: 0, max: 6 }) }),
    fc.record({ kind: fc.constant("charflip" as const), index: fc.nat(), bit: fc.integer({ min: 0, max: 6 }) }),
    fc.record({
      kind: fc.constant("otherPurpose" as const),
      purpose: fc.constantFrom<Purpose>("confirm", "unsubscribe", "manage", "form"),
    }),
    fc.record({ kind: fc.constant("wrongSecret" as const), secret: fc.string({ minLength: 1, maxLength: 64 }) }),
    fc.record({ kind: fc.constant("expired" as const), ago: fc.integer({ min: 1, max: 10 * 365 * DAY }) }),
    fc.record({ kind: fc.constant("swapSub" as const) }),
    fc.record({ kind: fc.constant("truncate" as const), n: fc.nat() }),
    fc.record({
      kind: fc.constant("extend" as const),
      suffix: fc.constantFrom(".", ".x", "A", "AAAA", "=", "==", ".e30", "%00", "\u0000"),
    }),
    fc.record({ kind: fc.constant("overlong" as const), n: fc.integer({ min: 1, max: 300 }) }),
  );
  const BODIES: Record<Route, { type?: string; body?: string }[]> = {
    confirm: [{}, { type: "application/x-www-form-urlencoded", body: "" }, { type: "application/json", body: "{}" }],
    unsubscribe: [
      { type: "application/x-www-form-urlencoded", body: "List-Unsubscribe=One-Click" },
      {},
      { type: "application/x-www-form-urlencoded", body: "confirm=1" },
      { type: "application/json", body: '{"confirm":"1"}' },
    ],
    manage: [
      { type: "application/x-www-form-urlencoded", body: "action=unsubscribe" },
      { type: "application/x-www-form-urlencoded", body: "action=pause&weeks=4" },
      { type: "application/x-www-form-urlencoded", body: "action=resubscribe" },
      { type: "application/x-www-form-urlencoded", body: "action=resume" },
      { type: "application/json", body: '{"action":"unsubscribe"}' },
      { type: "application/json", body: '{"action":"pause","weeks":"12"}' },
    ],
  };
  const PURPOSE: Record<Route, Purpose> = { confirm: "confirm", unsubscribe: "unsubscribe", manage: "manage" };

  const fromB64 = (s: string) =>
    Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (s.length % 4)) % 4)), (c) =>
      c.charCodeAt(0),
    );
  const genuine = async (purpose: Purpose, sub: number, now = Date.now()) => {
    const l = await linkOf(sub);
    const iat = l.confirm_sent_at ?? now;
    return signToken(
      SECRET,
      purpose,
      purpose === "confirm" ? { sub, iat, exp: iat + 7 * DAY } : { sub, iat: 0, exp: 0 },
      l.link_key,
    );
  };

  /** The token to send, and the status it must get (null: any 4xx, because the path itself may change). */
  async function forge(
    s: Spec,
    route: Route,
    sub: number,
    other: number,
  ): Promise<{ token: string; expect: number | null }> {
    const real = await genuine(PURPOSE[route], sub);
    const enc = encodeURIComponent;
    switch (s.kind) {
      case "random":
        return { token: s.encode ? enc(wellFormed(s.s)) : wellFormed(s.s), expect: null };
      case "b64shape":
        return { token: s.s, expect: 400 };
      case "byteflip": {
        const parts = real.split(".");
        const bytes = fromB64(parts[s.part]!);
        bytes[s.index % bytes.length]! ^= 1 << s.bit;
        parts[s.part] = b64url(bytes);
        const token = parts.join(".");
        expect(token).not.toBe(real);
        return { token, expect: 400 };
      }
      case "charflip": {
        // Every character but the last: its two low bits are padding in base64url (see the dedicated test below).
        const i = s.index % (real.length - 1);
        const token = real.slice(0, i) + String.fromCharCode(real.charCodeAt(i) ^ (1 << s.bit)) + real.slice(i + 1);
        return { token: enc(token), expect: 400 };
      }
      case "otherPurpose": {
        const purpose = s.purpose === PURPOSE[route] ? (route === "confirm" ? "manage" : "confirm") : s.purpose;
        return { token: await genuine(purpose, sub), expect: 400 };
      }
      case "wrongSecret": {
        const secret = s.secret === SECRET ? `${s.secret}x` : s.secret;
        const now = Date.now();
        return {
          token: await signToken(
            secret,
            PURPOSE[route],
            { sub, iat: now, exp: route === "confirm" ? now + DAY : 0 },
            (await linkOf(sub)).link_key,
          ),
          expect: 400,
        };
      }
      case "expired": {
        const now = Date.now();
        return {
          token: await signToken(
            SECRET,
            PURPOSE[route],
            { sub, iat: Math.max(now - s.ago - 7 * DAY, 1), exp: now - s.ago },
            (await linkOf(sub)).link_key,
          ),
          expect: 410,
        };
      }
      case "swapSub": {
        const [, sig] = real.split(".");
        const [otherPayload] = (await genuine(PURPOSE[route], other)).split(".");
        return { token: `${otherPayload}.${sig}`, expect: 400 };
      }
      case "truncate": {
        const n = 1 + (s.n % (real.length - 1));
        return { token: real.slice(0, n), expect: 400 };
      }
      case "extend":
        return { token: enc(real + s.suffix), expect: 400 };
      case "overlong":
        return { token: real + "A".repeat(200 - real.length + s.n), expect: 400 };
    }
  }

  it("never change an existing subscriber, whatever the route, method or body", async () => {
    const { active, pending } = await seed();
    const ids = { active: Number(active.id), pending: Number(pending.id) };
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(
        spec,
        fc.constantFrom<Route>("confirm", "unsubscribe", "manage"),
        fc.constantFrom("GET", "POST", "POST"),
        fc.constantFrom("active", "pending") as fc.Arbitrary<"active" | "pending">,
        fc.nat(),
        fc.constantFrom("application/json", "text/html", ""),
        async (s, route, method, target, bodyPick, accept) => {
          const other = target === "active" ? ids.pending : ids.active;
          const { token, expect: status } = await forge(s, route, ids[target], other);
          const choice = BODIES[route][bodyPick % BODIES[route].length]!;
          const headers: Record<string, string> = {};
          if (accept) headers.accept = accept;
          if (method === "POST" && choice.type) headers["content-type"] = choice.type;
          const res = await call(`/${route}/${token}`, {
            method,
            headers,
            body: method === "POST" ? choice.body : undefined,
            redirect: "manual",
          });
          if (status === null) await expectSane(res);
          else {
            // Personal links are pages opened from an email: the refusal is an HTML page that says what happened.
            const body = await expectHtmlError(res, status);
            expect(body).toMatch(status === 410 ? /expired/ : /not valid/);
          }
          expect(res.status).toBeGreaterThanOrEqual(400);
        },
      ),
      { numRuns: 300 },
    );
    await expectNothingStored(before, new Set());
    expect(JSON.stringify(await subscriberRow(String(active.email)))).toBe(JSON.stringify(active));
    expect(JSON.stringify(await subscriberRow(String(pending.email)))).toBe(JSON.stringify(pending));

    // The control: the same requests with the genuine tokens do change state, so the property above could fail.
    const manage = await call(`/manage/${await genuine("manage", ids.active)}`, {
      method: "POST",
      body: "action=unsubscribe",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(manage.status).toBe(200);
    expect((await subscriberRow(String(active.email)))!.status).toBe("unsubscribed");
    const confirm = await call(`/confirm/${await genuine("confirm", ids.pending)}`, { method: "POST" });
    expect(confirm.status).toBe(200);
    expect((await subscriberRow(String(pending.email)))!.status).toBe("active");
  });

  it("refuses a non-canonical encoding of a genuine signature (the last character's padding bits changed)", async () => {
    const { active } = await seed();
    const before = await snapshot();
    const real = await genuine("unsubscribe", Number(active.id));
    const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = ALPHABET.indexOf(real.at(-1)!);
    const statuses: number[] = [];
    for (const low of [1, 2, 3]) {
      const variant = real.slice(0, -1) + ALPHABET[last ^ low];
      expect(variant).not.toBe(real);
      const res = await call(`/unsubscribe/${variant}`, {
        method: "POST",
        body: "List-Unsubscribe=One-Click",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      statuses.push(res.status);
    }
    // A token that is not byte-for-byte the one we issued is not our token.
    expect(statuses).toEqual([400, 400, 400]);
    await expectNothingStored(before, new Set());
  });
});

describe("wrong methods and random paths", () => {
  const ROUTES = [
    "/",
    "/form",
    "/thanks",
    "/embed.js",
    "/health",
    "/api/subscribe",
    "/confirm/TOKEN",
    "/unsubscribe/TOKEN",
    "/manage/TOKEN",
    "/admin/stats",
    "/admin/subscribers/import",
    "/admin/subscribers/export",
    "/dev/outbox",
    "/dev/outbox.json",
    "/dev/outbox/1",
    "/dev/outbox/1/html",
  ];
  const GET_ONLY = [
    "/",
    "/form",
    "/thanks",
    "/embed.js",
    "/health",
    "/admin/stats",
    "/admin/subscribers/export",
    "/dev/outbox",
    "/dev/outbox.json",
    "/dev/outbox/1",
    "/dev/outbox/1/html",
  ];
  const POST_ONLY = ["/api/subscribe", "/admin/subscribers/import"];

  async function realPaths(id: number) {
    const key = (await linkOf(id)).link_key;
    const tokens = {
      confirm: await signToken(SECRET, "confirm", { sub: id, iat: Date.now(), exp: Date.now() + DAY }, key),
      unsubscribe: await signToken(SECRET, "unsubscribe", { sub: id, iat: 0, exp: 0 }, key),
      manage: await signToken(SECRET, "manage", { sub: id, iat: 0, exp: 0 }, key),
    };
    return (p: string) =>
      p.replace(/^\/(confirm|unsubscribe|manage)\/TOKEN$/, (_, r: keyof typeof tokens) => `/${r}/${tokens[r]}`);
  }

  const isAdmin = (p: string) => p.startsWith("/admin/");

  it("PUT, DELETE and PATCH on every route answer 404 or 405 (401 for /admin without credentials), never 5xx", async () => {
    const { active, pending } = await seed();
    const before = await snapshot();
    for (const target of [active, pending]) {
      const real = await realPaths(Number(target.id));
      const cases: [string, string][] = [
        ...ROUTES.flatMap((p) => ["PUT", "DELETE", "PATCH"].map((m): [string, string] => [m, p])),
        ...GET_ONLY.map((p): [string, string] => ["POST", p]),
        ...POST_ONLY.map((p): [string, string] => ["GET", p]),
      ];
      for (const [method, p] of cases) {
        for (const auth of isAdmin(p) ? [true, false] : [false]) {
          const headers: Record<string, string> = {
            accept: "application/json",
            "content-type": "application/json",
            ...(auth ? ADMIN : {}),
          };
          const res = await call(real(p), {
            method,
            headers,
            body:
              method === "GET"
                ? undefined
                : JSON.stringify({ email: "wrong-method@example.com", action: "unsubscribe" }),
          });
          const allowed = isAdmin(p) && !auth ? [401, 404, 405] : [404, 405];
          expect(allowed, `${method} ${p}${auth ? " (admin)" : ""} answered ${res.status}`).toContain(res.status);
          await expectJsonError(res);
        }
      }
    }
    await expectNothingStored(before, new Set(["wrong-method@example.com"]));
  });

  it("random methods, routes and bodies never 5xx and change nothing", async () => {
    const { active } = await seed();
    const real = await realPaths(Number(active.id));
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("PUT", "DELETE", "PATCH", "PROPFIND", "PURGE", "MKCOL", "SEARCH", "UNSUBSCRIBE"),
        fc.constantFrom(...ROUTES),
        fc.option(
          fc.oneof(
            fc.string({ maxLength: 200 }),
            validAddress.map((a) => JSON.stringify({ email: a, action: "unsubscribe" })),
          ),
        ),
        fc.constantFrom("application/json", "application/x-www-form-urlencoded", "text/plain"),
        fc.constantFrom("application/json", "text/html", ""),
        fc.boolean(),
        async (method, p, body, type, accept, auth) => {
          const headers: Record<string, string> = {
            "content-type": type,
            ...(accept ? { accept } : {}),
            ...(auth ? ADMIN : {}),
          };
          const res = await call(real(p), { method, headers, body: body ?? undefined });
          const allowed = isAdmin(p) && !auth ? [401, 404, 405] : [404, 405];
          expect(allowed, `${method} ${p} answered ${res.status}`).toContain(res.status);
          await expectSane(res);
        },
      ),
      { numRuns: 80 },
    );
    await expectNothingStored(before, new Set());
  });

  it("random paths never 5xx and change nothing", async () => {
    await seed();
    const before = await snapshot();
    const SEGMENTS = [
      "confirm",
      "unsubscribe",
      "manage",
      "api",
      "subscribe",
      "admin",
      "dev",
      "outbox",
      "outbox.json",
      "html",
      "stats",
      "form",
      "thanks",
      "%",
      "%00",
      "..",
      "%2e%2e",
      "%2f",
      "%ff",
      "%c0%af",
      "😀",
      "a.b",
      "",
      ";",
      "?x=1",
      "#f",
      "\\",
      "MS4wLjA",
    ];
    const path = fc.oneof(
      fc.webPath(),
      fc
        .array(fc.oneof(fc.constantFrom(...SEGMENTS), fc.webSegment()), { minLength: 1, maxLength: 6 })
        .map((s) => `/${s.join("/")}`),
      fc.string({ unit: "binary", maxLength: 120 }).map((s) => `/${wellFormed(s).replace(/^\/+/, "")}`),
    );
    await fc.assert(
      fc.asyncProperty(
        path,
        fc.constantFrom("GET", "GET", "POST", "HEAD", "OPTIONS"),
        fc.constantFrom("application/json", "text/html", ""),
        async (p, method, accept) => {
          const headers: Record<string, string> = accept ? { accept } : {};
          const init: RequestInit = { method, headers, redirect: "manual" };
          if (method === "POST") {
            init.body = JSON.stringify({ email: "random-path@example.com", action: "unsubscribe" });
            headers["content-type"] = "application/json";
          }
          // Joined as text: new URL("//x", BASE) would move to another host instead of requesting the path "//x".
          const res = await call(`${BASE}${p.startsWith("/") ? p : `/${p}`}`, init);
          if (method === "HEAD") expect(res.status).toBeLessThan(500);
          else await expectSane(res);
        },
      ),
      { numRuns: 150 },
    );
    // /api/subscribe may be hit by chance with a valid body: only a real signup of that one address would be allowed.
    const after = await allSubscribers();
    expect(after.filter((r) => r.email !== "random-path@example.com")).toEqual(JSON.parse(before));
    const known = new Set((JSON.parse(before) as { email: string }[]).map((r) => r.email));
    for (const to of await outboxRecipients()) expect(known.has(to) || to === "random-path@example.com").toBe(true);
  });
});
