/**
 * Hostile strings for the property tests (fast-check): line breaks, markup, Unicode tricks and injection attempts,
 * alone, mixed with random text, or placed in and around valid addresses.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { config } from "../../../src/config";
import { checkEmail } from "../../../src/lib/email";

/** Domains a signup may not use (disposable mail), as the Worker is configured. */
export const BLOCKED = config(env).blockedDomains;

const CRLF = [
  "\r\n",
  "\n",
  "\r",
  "\r\nBcc: victim@example.org",
  "\r\nSet-Cookie: sid=1",
  "\r\n\r\n<html>",
  "%0d%0aLocation:%20https://evil.example",
  "\u2028",
  "\u2029",
  "\u0085",
  "\u000b",
  "\u000c",
];
const MARKUP = [
  "<script>alert(1)</script>",
  '"><svg onload=alert(1)>',
  "<img src=x onerror=alert(1)>",
  "javascript:alert(1)//",
  "</title><script>alert(1)</script>",
  "<iframe src=//evil.example>",
  "{{constructor.constructor('alert(1)')()}}",
  "$" + "{alert(1)}",
  "<!--",
  "]]>",
  "&#x3C;script&#x3E;",
];
const UNICODE = [
  "\u202e",
  "\u202d",
  "\u2066",
  "\u200b",
  "\u200c",
  "\u200d",
  "\u2060",
  "\ufeff",
  "\u00ad",
  "\ud800",
  "\udbff",
  "\udc00",
  "\ud83d\ude00",
  "\ud83d",
  "а",
  "е",
  "о",
  "ѕ",
  "ο",
  "＠",
  "﹫",
  "\u0338",
  "\u0301",
  "\uffff",
  "\ufffe",
  "\u0000",
  "ß",
  "İ",
  "ﬀ",
  "Ⅸ",
  "𝐚",
  "١",
  "２",
  "ℊ",
];
const INJECTION = [
  "' OR '1'='1",
  "'; DROP TABLE subscribers; --",
  '" OR ""="',
  "1) OR (1=1",
  "%",
  "%%",
  "_",
  "\\",
  "\\u0000",
  "%00",
  "../",
  "..%2f",
  "%2e%2e%2f",
  "/etc/passwd",
  "C:\\boot.ini",
  "=cmd|' /C calc'!A0",
  "+1+1",
  "@SUM(1+1)",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "null",
  "undefined",
  "NaN",
  "-0",
  "1e309",
  "0x10",
  "%zz",
  "%c0%af",
  "%ff",
];
export const ATOMS = [...CRLF, ...MARKUP, ...UNICODE, ...INJECTION];
export const atom = fc.constantFrom(...ATOMS);
export const hostile = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(fc.oneof(atom, atom, fc.string({ maxLength: 8 }), fc.string({ unit: "grapheme", maxLength: 4 })), {
        minLength: 1,
        maxLength: 6,
      })
      .map((a) => a.join("")),
  },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 120 }) },
  { weight: 2, arbitrary: atom },
);
/** Printable ASCII only: what a header can carry without the client refusing it. */
export const headerSafe = (s: string) => s.replace(/[^\x20-\x7e\t]/g, "?");
export const enc = (s: string) => encodeURIComponent(s.toWellFormed());
/** What the Worker sees of a value sent in a form (USVString conversion), for the validity filters. */
export const formRoundTrip = (s: string) =>
  new URLSearchParams(new URLSearchParams({ v: s }).toString()).get("v") ?? "";

export const local = fc.stringMatching(/^[a-z][a-z0-9]{0,10}$/);
export const domain = fc.constantFrom(
  "example.com",
  "example.org",
  "mail.example.net",
  "xn--bcher-kva.de",
  "sub.example.co.uk",
);
/** Valid addresses: used inside bad requests (so a stored row would be a real bug) and as a control. */
export const validAddress = fc.tuple(local, domain).map(([l, d]) => `${l}@${d}`);
export const isValidEmail = (s: unknown, blocked: ReadonlySet<string> = BLOCKED) =>
  typeof s === "string" &&
  (checkEmail(s, blocked).ok || checkEmail(formRoundTrip(s), blocked).ok || checkEmail(s.toWellFormed(), blocked).ok);
/** Hostile strings in, around and instead of an address: never one the Worker accepts, however it is sent. */
export const hostileEmail = fc
  .oneof(
    hostile,
    fc.tuple(validAddress, atom, fc.nat()).map(([a, s, n]) => {
      const i = 1 + (n % (a.length - 1));
      return a.slice(0, i) + s + a.slice(i);
    }),
    fc.tuple(validAddress, atom, fc.boolean()).map(([a, s, before]) => (before ? s + a : a + s)),
    fc
      .tuple(
        local,
        fc.constantFrom(
          "mailinator.com",
          "YOPMAIL.com",
          "inbox.mailinator.com",
          "аpple.com",
          "exаmple.com",
          "xn--pple-43d.com",
          "ex\u200bample.com",
          "example.c0m",
          "localhost",
        ),
      )
      .map(([l, d]) => `${l}@${d}`),
    fc.tuple(local, domain).map(([l, d]) => `${l}＠${d}`),
    fc.tuple(local, domain, fc.integer({ min: 65, max: 400 })).map(([l, d, n]) => `${l.padEnd(n, "x")}@${d}`),
  )
  .filter((s) => !isValidEmail(s));
