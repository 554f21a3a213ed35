/**
 * Email-quality checks on a rendered digest (and the confirmation and welcome emails), run in Node:
 *  - caniemail lint (@jsx-email/doiuse-email) for Gmail, Outlook, Apple Mail and Yahoo: no errors;
 *  - SpamAssassin (local rules only, no network tests) on a full RFC 5322 message: score <= 1.0;
 *  - the digest HTML stays under Gmail's 102 KB clipping limit (aim: 40 KB).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { doIUseEmail } from "@jsx-email/doiuse-email";
import { afterAll, describe, expect, it } from "vitest";
import { FROM, renderLifecycleEmails, renderSampleDigest, TO, WEEK } from "./digest-fixture";

const CLIENTS = ["gmail.*", "outlook.*", "apple-mail.*", "yahoo.*"];

/** Flagged in every email whatever its markup, and harmless to readers. Nothing else may be allowlisted. */
const ALLOWED: { feature: string; why: string }[] = [
  {
    feature: "<body> element",
    why: "clients that drop <body> keep its content; only the body's own inline styles are lost, and the outer table repeats the background",
  },
  {
    feature: "role attribute",
    why: 'role="presentation" tells screen readers the layout tables are not data; clients that strip it render the same',
  },
];

function lint(html: string) {
  const result = doIUseEmail(html, { emailClients: CLIENTS });
  const errors = result.success ? [] : result.errors;
  const allowed = (e: string) => ALLOWED.some((a) => e.startsWith(`\`${a.feature}\``));
  return {
    errors: errors.filter((e) => !allowed(e)),
    allowlisted: [...new Set(errors.filter(allowed))],
    warnings: result.warnings.length,
  };
}

/** The global edition, and a reader's personal one ("Top of the week" + "For you"). */
const EDITIONS = ["global", "personal"] as const;

describe("caniemail lint (Gmail, Outlook, Apple Mail, Yahoo)", () => {
  it.each(EDITIONS)("the %s digest has no unsupported feature beyond the allowlist", async (edition) => {
    const { html } = await renderSampleDigest({ personal: edition === "personal" });
    const r = lint(html);
    console.log(
      `${edition} digest: ${r.errors.length} errors, ${r.allowlisted.length} allowlisted (${ALLOWED.map((a) => a.feature).join(", ")}), ${r.warnings} partial-support warnings`,
    );
    expect(r.errors).toEqual([]);
  });

  it("the confirmation and welcome emails have no unsupported feature beyond the allowlist", async () => {
    for (const [name, email] of Object.entries(await renderLifecycleEmails())) {
      const r = lint(email.html);
      console.log(
        `${name}: ${r.errors.length} errors, ${r.allowlisted.length} allowlisted, ${r.warnings} partial-support warnings`,
      );
      expect(r.errors, name).toEqual([]);
    }
  });
});

describe("HTML size", () => {
  it.each(EDITIONS)("the %s digest stays under Gmail's 102 KB clipping limit", async (edition) => {
    const { html, papers } = await renderSampleDigest({ personal: edition === "personal" });
    if (edition === "personal") {
      expect(html).toContain("For you");
      expect(papers.length).toBeGreaterThan(5); // the top 5 and what the sample week has for this reader
    } else expect(papers).toHaveLength(10);
    const bytes = Buffer.byteLength(html, "utf8");
    console.log(
      `${edition} digest HTML (${papers.length} papers): ${(bytes / 1024).toFixed(1)} KB — aim 40 KB, Gmail clips at 102 KB`,
    );
    expect(bytes).toBeLessThan(102 * 1024);
  });
});

// ---- RFC 5322 / MIME -------------------------------------------------------------------------------------------

/** Quoted-printable (RFC 2045): CRLF line ends, lines of at most 76 characters, =XX never split. */
function quotedPrintable(s: string): string {
  const lines = s.replace(/\r?\n/g, "\n").split("\n");
  return lines
    .map((line) => {
      const bytes = Buffer.from(line, "utf8");
      let out = "";
      let cur = "";
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i]!;
        const last = i === bytes.length - 1;
        const literal = (b >= 33 && b <= 126 && b !== 61) || ((b === 32 || b === 9) && !last);
        const tok = literal ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, "0")}`;
        if (cur.length + tok.length > 75) {
          out += `${cur}=\r\n`;
          cur = "";
        }
        cur += tok;
      }
      return out + cur;
    })
    .join("\r\n");
}

function decodeQuotedPrintable(s: string): string {
  const bin = s.replace(/=\r\n/g, "");
  const bytes: number[] = [];
  for (let i = 0; i < bin.length; i++) {
    if (bin[i] === "=") {
      bytes.push(parseInt(bin.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(bin.charCodeAt(i));
  }
  return Buffer.from(bytes).toString("utf8").replace(/\r\n/g, "\n");
}

/** An RFC 2047 header value: plain if ASCII, else UTF-8 base64 encoded-words of at most 75 characters, folded. */
function headerValue(s: string): string {
  if (/^[\x20-\x7e]*$/.test(s)) return s;
  const words: string[] = [];
  let chunk = "";
  for (const ch of s) {
    if (Buffer.byteLength(chunk + ch, "utf8") > 45) {
      words.push(chunk);
      chunk = "";
    }
    chunk += ch;
  }
  words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, "utf8").toString("base64")}?=`).join("\r\n ");
}

/** "Mon, 23 Nov 2026 08:00:00 +0000" */
function rfc5322Date(d: Date): string {
  const [wd, day, mon, year, time] = d.toUTCString().split(" ");
  return `${wd} ${day} ${mon} ${year} ${time} +0000`;
}

function digestMessage(m: { subject: string; html: string; text: string; unsubscribe: string; date: Date }): string {
  const boundary = "=_papers_alt_6f1d2c";
  return [
    `From: ${FROM}`,
    `To: ${TO}`,
    `Subject: ${headerValue(m.subject)}`,
    `Date: ${rfc5322Date(m.date)}`,
    `Message-ID: <${WEEK}.4217.digest@news.example.org>`,
    "MIME-Version: 1.0",
    `List-Unsubscribe: <${m.unsubscribe}>`,
    "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    quotedPrintable(m.text),
    `--${boundary}`,
    "Content-Type: text/html; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    quotedPrintable(m.html),
    `--${boundary}--`,
    "",
  ].join("\r\n");
}

// ---- SpamAssassin ----------------------------------------------------------------------------------------------

const MAX_SCORE = 1.0;
const home = mkdtempSync(path.join(tmpdir(), "sa-home-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function spamassassin(message: string) {
  // -L: local tests only (no DNS blocklists, no Razor/Pyzor), -t: test mode, report appended to the message.
  // Bayes is off: it needs hundreds of trained messages before it scores anything, and would write a database.
  // A throwaway HOME and prefs file keep the run from touching ~/.spamassassin.
  const r = spawnSync("spamassassin", ["-L", "-t", "-p", path.join(home, "user_prefs"), "--cf=use_bayes 0"], {
    input: message,
    encoding: "utf8",
    env: { ...process.env, HOME: home },
    timeout: 60_000,
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT") {
    throw new Error(
      "spamassassin is not installed: run `apt-get install -y spamassassin` (Debian/Ubuntu; .ci/run does this). Its rules ship in /usr/share/spamassassin, no sa-update needed.",
    );
  }
  if (r.error) throw r.error;
  const status = /^X-Spam-Status: (.*(?:\r?\n[ \t].*)*)/m.exec(r.stdout)?.[1]?.replace(/\r?\n[ \t]+/g, " ");
  if (!status)
    throw new Error(`spamassassin gave no X-Spam-Status (exit ${r.status}):\n${r.stderr}\n${r.stdout.slice(-2000)}`);
  const score = Number(/score=(-?\d+(?:\.\d+)?)/.exec(status)?.[1]);
  const tests = (/tests=(.*?)(?:\s+\w+=|$)/.exec(status)?.[1] ?? "").split(/[,\s]+/).filter((t) => t && t !== "none");
  const report = r.stdout.slice(r.stdout.indexOf("Content analysis details:")).trim();
  return { score, tests, report };
}

describe("SpamAssassin (local rules only)", () => {
  it.each(EDITIONS)(`scores the %s digest at most ${MAX_SCORE}`, async (edition) => {
    const { subject, html, text, links } = await renderSampleDigest({ personal: edition === "personal" });
    const message = digestMessage({ subject, html, text, unsubscribe: links.unsubscribe, date: new Date() });
    // The message is what we mean it to be: both parts decode back to the rendered email.
    const parts = message.split(/\r\n--=_papers_alt_6f1d2c(?:--)?\r\n/);
    expect(decodeQuotedPrintable(parts[1]!.split("\r\n\r\n").slice(1).join("\r\n\r\n"))).toBe(text);
    expect(decodeQuotedPrintable(parts[2]!.split("\r\n\r\n").slice(1).join("\r\n\r\n"))).toBe(html);
    expect(message.split("\r\n").every((l) => l.length <= 998)).toBe(true);

    const sa = spamassassin(message);
    console.log(
      `SpamAssassin score ${sa.score} (limit ${MAX_SCORE}); rules hit: ${sa.tests.join(", ") || "none"}\n${sa.report}`,
    );
    // HTML_MESSAGE fires on any HTML mail: if it is missing, no rules were loaded and the score means nothing.
    expect(
      sa.tests,
      "SpamAssassin loaded no rules (Debian ships them in /usr/share/spamassassin; elsewhere run sa-update)",
    ).toContain("HTML_MESSAGE");
    expect(sa.score).toBeLessThanOrEqual(MAX_SCORE);
  });
});
