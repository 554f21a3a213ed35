/**
 * Addresses that are almost right (header injection, lists, display names, markup, look-alike domains, lengths over
 * the RFC limits, structural mistakes) and JSON values that are not strings: the in-depth generators of the signup
 * properties (test/integration/hostile-signup-addresses.test.ts).
 */
import fc from "fast-check";
import { domain, local, validAddress } from "./inputs";

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

/** Every way an address can be almost right; the Worker must refuse each one. */
export const nearMissAddress = fc.oneof(
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
export const nonString = fc.oneof(
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
