import { toUnicode } from "punycode/punycode.es6.js";

/**
 * Address validation for signups. Deliberately stricter than RFC 5322: what we accept must be
 * deliverable through Resend and must not smuggle anything into headers or pages.
 * - ASCII dot-atom local part (no quoted strings, no SMTPUTF8), at most 64 characters (RFC 5321 §4.5.3.1.1)
 * - domain converted to punycode (UTS 46 through the URL parser), lower-cased, real hostname labels
 * - at most 254 characters in all
 * - no label mixing look-alike scripts (Latin with Cyrillic, say)
 */
export type EmailCheck =
  | { ok: true; email: string; key: string; domain: string }
  | { ok: false; code: "invalid_email" | "domain_blocked"; message: string };

const ATEXT = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

const bad = (message: string): EmailCheck => ({ ok: false, code: "invalid_email", message });

export function checkEmail(input: unknown, blocked: ReadonlySet<string> = new Set()): EmailCheck {
  if (typeof input !== "string") return bad("Enter an email address.");
  const value = input.trim();
  if (!value) return bad("Enter an email address.");
  if (value.length > 320) return bad("That address is too long.");
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) return bad("The address contains control characters or line breaks.");
  if (/[\s,;]/u.test(value)) return bad("Enter a single address, without spaces, commas or semicolons.");
  if (/[<>()[\]"\\]/.test(value)) return bad("Enter just the address, like name@example.com.");
  const at = value.indexOf("@");
  if (at < 0) return bad("The address needs an @ followed by a domain, like name@example.com.");
  if (value.indexOf("@", at + 1) >= 0) return bad("The address contains more than one @.");
  const local = value.slice(0, at);
  const rawDomain = value.slice(at + 1);
  if (!local) return bad("Something must come before the @.");
  if (!rawDomain) return bad("A domain must come after the @, like example.com.");
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(local)) return bad("Only ASCII letters, digits and punctuation can come before the @.");
  if (local.length > 64) return bad("The part before the @ is longer than 64 characters.");
  if (local.split(".").some((atom) => !ATEXT.test(atom)))
    return bad("The part before the @ is not valid (check for dots at the start, the end, or twice in a row).");

  const domain = toAsciiDomain(rawDomain.replace(/\.$/, ""));
  if (!domain) return bad("The domain after the @ is not valid.");
  const labels = domain.split(".");
  if (labels.length < 2) return bad("The domain needs a dot, like example.com.");
  if (domain.length > 253 || labels.some((l) => !LABEL.test(l))) return bad("The domain after the @ is not valid.");
  const tld = labels[labels.length - 1]!;
  if (!/^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/.test(tld))
    return bad("The domain does not end in a real top-level domain.");
  for (const label of labels) {
    if (!label.startsWith("xn--")) continue;
    let unicode: string;
    try {
      unicode = toUnicode(label);
    } catch {
      return bad("The domain after the @ is not valid.");
    }
    if (mixesScripts(unicode))
      return bad("The domain mixes look-alike alphabets (for example Latin and Cyrillic letters).");
  }

  const email = `${local}@${domain}`;
  if (email.length > 254) return bad("That address is longer than 254 characters.");
  for (let i = 0; i < labels.length - 1; i++) {
    const suffix = labels.slice(i).join(".");
    if (blocked.has(suffix))
      return {
        ok: false,
        code: "domain_blocked",
        message: `Addresses at ${suffix} cannot subscribe. Please use a permanent address.`,
      };
  }
  return { ok: true, email, key: mailboxKey(email), domain };
}

/**
 * The mailbox an address reaches, for "one row per mailbox" and every per-address limit: lower case, a `+tag` dropped
 * (every major provider delivers a+anything@ to a@), and for Gmail the dots too (googlemail.com is gmail.com). The
 * address itself is kept as the person typed it; migration 0008 applies the same rule in SQL.
 */
export function mailboxKey(email: string): string {
  const lower = email.toLowerCase();
  const at = lower.lastIndexOf("@");
  let local = lower.slice(0, at);
  let domain = lower.slice(at + 1);
  const plus = local.indexOf("+");
  if (plus > 0) local = local.slice(0, plus);
  if (domain === "gmail.com" || domain === "googlemail.com") {
    local = local.replaceAll(".", "");
    domain = "gmail.com";
  }
  return `${local}@${domain}`;
}

/** Every key an address may be stored or suppressed under: its mailbox, and its lower-cased form (rows and suppression entries from before mailbox keys). */
export const addressKeys = (email: string) => [...new Set([mailboxKey(email), email.trim().toLowerCase()])];

function toAsciiDomain(domain: string): string | null {
  // The URL parser applies UTS 46 (case folding, width mapping, punycode) and rejects forbidden code points;
  // the characters it would treat as URL syntax are refused first.
  if (!domain || /[/?#@:%[\]\\^|]/.test(domain)) return null;
  try {
    const host = new URL(`http://${domain}/`).hostname;
    if (/^[\d.]+$/.test(host)) return null; // an IPv4 literal, not a mail domain
    return host;
  } catch {
    return null;
  }
}

// Scripts that visually impersonate Latin letters; mixing any two of them within one label is refused.
const SCRIPTS: [string, RegExp][] = [
  ["Latin", /\p{Script=Latin}/u],
  ["Cyrillic", /\p{Script=Cyrillic}/u],
  ["Greek", /\p{Script=Greek}/u],
  ["Armenian", /\p{Script=Armenian}/u],
  ["Cherokee", /\p{Script=Cherokee}/u],
  ["Coptic", /\p{Script=Coptic}/u],
];

export function mixesScripts(label: string): boolean {
  const seen = new Set<string>();
  for (const ch of label) {
    for (const [name, re] of SCRIPTS) if (re.test(ch)) seen.add(name);
  }
  return seen.size > 1;
}
