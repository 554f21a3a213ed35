import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DISPOSABLE_DOMAINS } from "../../src/config";
import { addressKeys, checkEmail, type EmailCheck, mailboxKey } from "../../src/lib/email";

const DISPOSABLE = new Set(DISPOSABLE_DOMAINS);

/** Narrows to the accepted case, failing the test with the rejection message otherwise. */
function accepted(input: unknown, blocked?: ReadonlySet<string>) {
  const r = checkEmail(input, blocked);
  if (!r.ok) expect.fail(`expected ${JSON.stringify(input)} to be accepted, got: ${r.message}`);
  return r;
}

/** Narrows to the rejected case; the message must be a real sentence for a person, not a code. */
function rejected(input: unknown, blocked?: ReadonlySet<string>) {
  const r: EmailCheck = checkEmail(input, blocked);
  if (r.ok) expect.fail(`expected ${JSON.stringify(input)} to be rejected, got ${r.email}`);
  expect(r.message.length).toBeGreaterThan(10);
  expect(r.message).toMatch(/^[A-Z]/);
  expect(r.message).toMatch(/\.$/);
  return r;
}

/** A domain of exactly `length` characters made of valid labels (≤ 63 chars), ending in ".com". */
function domainOfLength(length: number): string {
  const labels: string[] = [];
  let remaining = length - "com".length; // each label brings its own dot
  while (remaining > 0) {
    // Each label costs its length plus one dot; never leave a remainder of 1 (a dot with an empty label).
    let take = Math.min(63, remaining - 1);
    if (remaining - 1 - take === 1) take -= 1;
    labels.push("d".repeat(take));
    remaining -= take + 1;
  }
  const d = `${labels.join(".")}.com`;
  expect(d.length).toBe(length);
  return d;
}

describe("checkEmail: accepts and normalises", () => {
  it.each([
    "ada@example.com",
    "a.b-c+tag@sub.example.co.uk",
    "x@x.io",
    "o'brien@example.ie",
    "user_name@example.org",
    "!#$%&'*+/=?^_`{|}~-@example.com",
    "1234@example.com",
  ])("accepts %s unchanged", (addr) => {
    const r = accepted(addr);
    expect(r.email).toBe(addr);
    expect(r.key).toBe(mailboxKey(addr));
    expect(r.domain).toBe(addr.slice(addr.indexOf("@") + 1));
  });

  it("trims surrounding whitespace, including line breaks and tabs around the address", () => {
    expect(accepted("  ada@example.com\t").email).toBe("ada@example.com");
    expect(accepted("\r\nada@example.com\n").email).toBe("ada@example.com");
  });

  it("lower-cases the domain but keeps the local part's case; the key is all lower-case", () => {
    const r = accepted("Ada.Lovelace@Example.COM");
    expect(r.email).toBe("Ada.Lovelace@example.com");
    expect(r.key).toBe("ada.lovelace@example.com");
    expect(r.domain).toBe("example.com");
  });

  it("converts IDN domains to punycode", () => {
    const r = accepted("kunde@bücher.de");
    expect(r.email).toBe("kunde@xn--bcher-kva.de");
    expect(r.domain).toBe("xn--bcher-kva.de");
    expect(accepted("kunde@BÜCHER.de").email).toBe("kunde@xn--bcher-kva.de");
    // Already punycoded input is kept as it is.
    expect(accepted("kunde@xn--bcher-kva.de").email).toBe("kunde@xn--bcher-kva.de");
  });

  it("accepts a pure Cyrillic domain (one script per label)", () => {
    const r = accepted("info@пример.рф");
    expect(r.email).toBe("info@xn--e1afmkfd.xn--p1ai");
    expect(r.domain).toBe("xn--e1afmkfd.xn--p1ai");
  });

  it("drops a trailing dot on the domain", () => {
    expect(accepted("ada@example.com.").email).toBe("ada@example.com");
  });
});

describe("checkEmail: length limits", () => {
  it("accepts a 64-character local part and rejects 65", () => {
    expect(accepted(`${"a".repeat(64)}@example.com`).email).toHaveLength(64 + "@example.com".length);
    expect(rejected(`${"a".repeat(65)}@example.com`).message).toMatch(/64 characters/);
  });

  it("accepts 254 characters in all and rejects 255", () => {
    const ok = `${"a".repeat(64)}@${domainOfLength(254 - 65)}`;
    expect(ok).toHaveLength(254);
    expect(accepted(ok).email).toBe(ok);
    const tooLong = `${"a".repeat(64)}@${domainOfLength(255 - 65)}`;
    expect(tooLong).toHaveLength(255);
    expect(rejected(tooLong).message).toMatch(/254 characters/);
  });

  it("rejects a domain label longer than 63 characters", () => {
    accepted(`a@${"d".repeat(63)}.com`);
    expect(rejected(`a@${"d".repeat(64)}.com`).message).toMatch(/domain/i);
  });

  it("rejects a domain longer than 253 characters even with a short local part", () => {
    rejected(`a@${domainOfLength(254)}`);
  });

  it("rejects absurdly long input without looking further", () => {
    expect(rejected(`${"a".repeat(5000)}@example.com`).message).toMatch(/too long/);
  });
});

describe("checkEmail: rejects", () => {
  it.each([
    ["a\u0000b@example.com", /control characters/],
    ["ada@exa\u0007mple.com", /control characters/],
    ["ada@example.com\u0000", /control characters/],
    ["ada@example.com\r\nBcc: x@y.com", /control characters|line breaks/],
    ["ada@example.com\nbcc@y.com", /line breaks/],
    ["ada@exam\rple.com", /line breaks/],
    ["ada\u0085@example.com", /control characters/],
    ["ada lovelace@example.com", /spaces/],
    ["ada@example\t.com", /control characters/],
    ["ada@exa\u00a0mple.com", /spaces/],
    ["ada@exa\u2028mple.com", /spaces/],
  ])("control characters and whitespace: %j", (input, message) => {
    expect(rejected(input).message).toMatch(message);
  });

  it.each(["a@x.com, b@y.com", "a@x.com,b@y.com", "a@x.com; b@y.com", "a@x.com;b@y.com", "a@x.com b@y.com"])(
    "lists: %j",
    (input) => {
      expect(rejected(input).message).toMatch(/single address/);
    },
  );

  it.each(["Bob <b@x.com>", "<b@x.com>", '"Bob" <b@x.com>', "b@x.com (Bob)"])("display names: %j", (input) => {
    expect(rejected(input).message).toMatch(/single address|just the address/);
  });

  it.each(['"bob"@x.com', '"b.o b"@x.com', '"a@b"@x.com', "a\\@b@x.com"])(
    "quoted or escaped local parts: %j",
    (input) => {
      rejected(input);
    },
  );

  it.each([
    "jöhn@example.com",
    "jоhn@example.com" /* Cyrillic о */,
    "用户@example.com",
    "a＠example.com" /* fullwidth @ */,
  ])("non-ASCII local parts: %j", (input) => {
    rejected(input);
  });

  it.each([".ada@example.com", "ada.@example.com", "ada..lovelace@example.com", "ada:x@example.com"])(
    "malformed local parts: %j",
    (input) => {
      expect(rejected(input).message).toMatch(/before the @/);
    },
  );

  it.each([
    ["adaexample.com", /needs an @/],
    ["ada@", /domain must come after/],
    ["@example.com", /before the @/],
    ["a@b@example.com", /more than one @/],
    ["ada@localhost", /needs a dot/],
    ["ada@-example.com", /not valid/],
    ["ada@example-.com", /not valid/],
    ["ada@1.2.3.4", /not valid/],
    ["ada@[1.2.3.4]", /just the address/],
    ["ada@[IPv6:::1]", /just the address/],
    ["ada@0x7f.1", /not valid/],
    ["ada@example.123", /not valid|top-level/],
    ["ada@example.c0m", /top-level/],
    ["ada@example.c", /top-level/],
    ["ada@ex_ample.com", /not valid/],
    ["ada@x..com", /not valid/],
    ["ada@.example.com", /not valid/],
    ["ada@example.com..", /not valid/],
    ["ada@exa%41mple.com", /not valid/],
    ["ada@example.com:25", /not valid/],
    ["ada@example.com/path", /not valid/],
    ["ada@exa mple.com", /spaces/],
  ])("missing or invalid domains: %j", (input, message) => {
    expect(rejected(input).message).toMatch(message);
  });

  it.each([
    ["аpple.com", "Cyrillic а in a Latin label"],
    ["pаypal.com", "Cyrillic а in a Latin label"],
    ["gооgle.com", "two Cyrillic о in a Latin label"],
    ["microsοft.com", "Greek omicron in a Latin label"],
    ["exаmple.рф", "mixed label before a Cyrillic TLD"],
  ])("mixed-script look-alike domain %s (%s), in Unicode and in punycode", (domain) => {
    const puny = new URL(`http://${domain}/`).hostname;
    expect(puny).toMatch(/xn--/);
    expect(rejected(`ada@${domain}`).message).toMatch(/look-alike/);
    expect(rejected(`ada@${puny}`).message).toMatch(/look-alike/);
    expect(rejected(`ada@${puny.toUpperCase()}`).message).toMatch(/look-alike/);
  });

  it("rejects a broken punycode label", () => {
    rejected("ada@xn--.com");
    rejected("ada@xn--a-.com");
  });

  it.each([undefined, null, 42, true, {}, [], ["a@x.com"], { email: "a@x.com" }, "", "   "])(
    "non-strings and empty input: %j",
    (input) => {
      expect(rejected(input).message).toMatch(/Enter an email address/);
    },
  );
});

describe("checkEmail: blocked domains", () => {
  it("blocks every built-in disposable domain and its subdomains", () => {
    expect(DISPOSABLE.size).toBeGreaterThan(5);
    for (const d of DISPOSABLE) {
      for (const addr of [`ada@${d}`, `ada@${d.toUpperCase()}`, `ada@inbox.${d}`, `ada@a.b.${d}`, `ada@${d}.`]) {
        const r = rejected(addr, DISPOSABLE);
        expect(r.code).toBe("domain_blocked");
        expect(r.message).toContain(d);
        expect(r.message).toMatch(/permanent address/);
      }
    }
  });

  it("does not block look-alike but different domains", () => {
    accepted("ada@notmailinator.com", DISPOSABLE);
    accepted("ada@mailinator.com.example.org", DISPOSABLE);
    accepted("ada@mailinator.co", DISPOSABLE);
  });

  it("blocks a custom blocklist, and only when it is given", () => {
    const custom = new Set([...DISPOSABLE, "corp.example", "xn--bcher-kva.de"]);
    expect(rejected("ada@corp.example", custom).code).toBe("domain_blocked");
    expect(rejected("ada@mail.corp.example", custom).code).toBe("domain_blocked");
    expect(rejected("ada@bücher.de", custom).code).toBe("domain_blocked");
    accepted("ada@corp.example");
    accepted("ada@corp.example.org", custom);
  });

  it("never blocks on a TLD alone", () => {
    accepted("ada@example.com", new Set(["com"]));
  });
});

describe("checkEmail: properties", () => {
  const ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-.";
  // Inputs close to real addresses, so that a good share of them are accepted and the "ok" branch is exercised.
  const nearAddress = fc
    .tuple(
      fc.string({
        unit: fc.constantFrom(...ATEXT.split(""), "é", "\u0000", "\n", " ", "@", "<", "\u00a0", "а"),
        minLength: 0,
        maxLength: 80,
      }),
      fc.constantFrom("@", "@", "@", "", "@@", "＠"),
      fc.string({
        unit: fc.constantFrom(
          ..."abcdefghijklmnopqrstuvwxyzABC0123456789-._".split(""),
          "ü",
          "а",
          "ο",
          "。",
          "\u0000",
          " ",
          ":",
          "[",
          "-",
        ),
        minLength: 0,
        maxLength: 80,
      }),
      fc.constantFrom("", ".com", ".org", ".рф", ".", ".c", ".123", ".com."),
    )
    .map(([l, at, d, tld]) => `${l}${at}${d}${tld}`);
  const anyString = fc.oneof(
    fc.string({ unit: "binary", maxLength: 400 }),
    fc.string({ unit: "grapheme", maxLength: 100 }),
    fc.emailAddress(),
    nearAddress,
    nearAddress,
  );

  it("never throws, and whatever it accepts is a single, safe, ASCII address within the limits", () => {
    let okCount = 0;
    fc.assert(
      fc.property(anyString, (input) => {
        let r: EmailCheck;
        try {
          r = checkEmail(input, DISPOSABLE);
        } catch (err) {
          throw new Error(`checkEmail threw on ${JSON.stringify(input)}: ${String(err)}`);
        }
        if (!r.ok) {
          expect(r.message).toMatch(/\S/);
          expect(["invalid_email", "domain_blocked"]).toContain(r.code);
          return;
        }
        okCount++;
        const { email, key, domain } = r;
        expect(email).not.toMatch(/[\s\u0000-\u001f\u007f-\u009f]/u);
        expect(email.split("@")).toHaveLength(2);
        expect(email.length).toBeLessThanOrEqual(254);
        const [local, dom] = email.split("@") as [string, string];
        expect(local.length).toBeGreaterThan(0);
        expect(local.length).toBeLessThanOrEqual(64);
        expect(email).toMatch(/^[\x21-\x7e]+$/);
        expect(email).not.toMatch(/[<>()[\]",;:\\]/);
        expect(dom).toBe(domain);
        expect(dom).toBe(dom.toLowerCase());
        expect(dom).toMatch(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/);
        expect(key).toBe(mailboxKey(email));
        expect(key).toBe(key.toLowerCase());
        expect(key.endsWith(`@${dom === "googlemail.com" ? "gmail.com" : dom}`)).toBe(true);
        // Idempotent: the normalised address is accepted as itself.
        const again = checkEmail(email, DISPOSABLE);
        expect(again).toEqual(r);
      }),
      { numRuns: 3000 },
    );
    // The generator must reach the accepting branch, or the checks above prove nothing.
    expect(okCount).toBeGreaterThan(30);
  });

  it("never throws on non-string input", () => {
    fc.assert(
      fc.property(
        fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true }),
        (input) => {
          const r = checkEmail(input);
          expect(r.ok).toBe(typeof input === "string" ? r.ok : false);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("mailboxKey: one key per mailbox, for the per-address limits and one row per mailbox", () => {
  it.each([
    ["Ada@Example.com", "ada@example.com"],
    ["victim+1@gmail.com", "victim@gmail.com"],
    ["v.i.c.t.i.m+news@googlemail.com", "victim@gmail.com"],
    ["V.Ictim@GMail.com", "victim@gmail.com"],
    ["first.last+tag@example.org", "first.last@example.org"],
    ["+only@example.org", "+only@example.org"],
    ["a+b+c@example.org", "a@example.org"],
  ])("%s → %s", (addr, key) => expect(mailboxKey(addr)).toBe(key));

  it("an address's keys: its mailbox and its lower-cased form (what older rows and suppression entries used)", () => {
    expect(addressKeys("A.B+x@Gmail.com")).toEqual(["ab@gmail.com", "a.b+x@gmail.com"]);
    expect(addressKeys("ada@example.com")).toEqual(["ada@example.com"]);
  });
});
