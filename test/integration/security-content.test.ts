/**
 * Content from outside is data, never instructions: placeholders in a paper are printed as they are (personal links
 * are placed by the template), control characters in paper text are stripped, an address that starts like a formula
 * cannot run in the operator's spreadsheet, and a huge CSV import is cut off at its row cap.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { config } from "../../src/config";
import { handleDigestJob } from "../../src/digest/consume";
import type { DigestJob } from "../../src/digest/jobs";
import { csvField, parseCsv } from "../../src/lib/csv";
import type { Paper } from "../../src/papers/paper";
import { parsePaper } from "../../src/papers/paper";
import { call, outboxFor, subscribeJson } from "../support/helpers";
import { holdingQueue } from "../support/queues";

const auth = { authorization: `Bearer ${env.ADMIN_TOKEN}` };

describe("third-party paper text", () => {
  it("a paper carrying placeholders gets them printed literally; no other host ever receives a personal token", async () => {
    const week = "2026-W20";
    const hostile: Paper = {
      id: "2605.00001",
      title: "Tokens {{manage_url}} and {{{RESEND_UNSUBSCRIBE_URL}}}",
      summary: "Read %7B%7Bmanage_url%7D%7D at {{unsubscribe_url}}.",
      authors: ["{{manage_url}}"],
      upvotes: 10,
      numComments: 0,
      publishedAt: null,
      submittedOnDailyAt: null,
      withdrawn: false,
      githubRepo: "https://github.com/evil/{{unsubscribe_url}}",
      githubStars: null,
      projectPage: "https://evil.example/collect?t={{manage_url}}&u={{unsubscribe_url}}",
      keywords: ["{{manage_url}}", "{{unsubscribe_url}}"],
      tldr: "TL;DR {{manage_url}} {{{RESEND_UNSUBSCRIBE_URL}}}",
      topics: [],
    };
    const email = "holes-reader@example.com";
    await env.DB.prepare(
      "INSERT INTO subscribers (email, email_key, status, source, created_at, consent_at, confirmed_at, link_key) VALUES (?1, ?1, 'active', 'api', 0, 0, 0, 'feedfacefeedfacefeedfacefeedface')",
    )
      .bind(email)
      .run();
    await env.DB.prepare(
      "INSERT INTO issues (week, status, subject, papers, html, text, started_at) VALUES (?, 'sending', 's', ?, '', '', 0)",
    )
      .bind(week, JSON.stringify([hostile]))
      .run();
    const hold = holdingQueue<DigestJob>();
    const e = { ...env, DIGEST_QUEUE: hold.queue };
    await handleDigestJob({ kind: "fanout", week }, 1, e, config(e));
    for (const job of hold.held.filter((j) => j.kind === "batch")) await handleDigestJob(job, 1, e, config(e));
    const mail = (await outboxFor(email)).find((m) =>
      JSON.parse(m.tags).some((t: { value: string }) => t.value === week),
    )!;
    expect(mail).toBeDefined();
    for (const body of [mail.html, mail.text]) {
      expect(body).toContain("{{manage_url}}");
      expect(body).toContain("{{{RESEND_UNSUBSCRIBE_URL}}}");
      expect(body).toContain("%7B%7Bmanage_url%7D%7D");
    }
    // Every URL that carries a personal token points at this newsletter, nowhere else.
    const urls = [...mail.html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!.replaceAll("&amp;", "&"));
    for (const url of urls)
      if (/\/(manage|unsubscribe|rate)\/[\w-]+\.[\w-]+/.test(url))
        expect(new URL(url).origin, url).toBe("http://127.0.0.1:8787");
    expect(urls.filter((u) => u.includes("/manage/"))).toHaveLength(1);
    expect(urls.filter((u) => u.includes("/unsubscribe/"))).toHaveLength(1);
    // The rating links: two per paper shown, each naming a paper of this issue.
    const rating = urls.filter((u) => u.includes("/rate/"));
    expect(rating.length).toBeGreaterThan(0);
    for (const u of rating) expect(new URL(u).searchParams.get("w")).toBe(week);
  });

  it("paper text is data: control characters stripped, strings well-formed; the feed stays valid XML", async () => {
    const p = parsePaper({
      paper: {
        id: "2605.00002",
        title: "Evil\u0001title\u001b[31m with \ud800 surrogate",
        summary: "line\u0000break\u0085",
        authors: [{ name: "Eve\u0007" }],
      },
    })!;
    expect(p.title).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(p.summary).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(p.title.isWellFormed()).toBe(true);
    expect(p.authors[0]).toBe("Eve");
    // An issue stored before this (its subject carries a control character) no longer breaks the feed.
    await env.DB.prepare(
      "INSERT INTO issues (week, status, subject, papers, html, text, started_at) VALUES ('2026-W21', 'sent', ?, '[]', '', '', 0)",
    )
      .bind("Week \u0001 21 \ud800")
      .run();
    const feed = await (await call("/feed.xml")).text();
    expect(feed).toContain("Week  21");
    expect(feed).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    expect(feed.isWellFormed()).toBe(true);
  });
});

describe("spreadsheets", () => {
  it("CSV exports neutralise spreadsheet formulas (an address may legally start with =)", async () => {
    expect((await subscribeJson("=1+2@example.org")).status).toBe(202);
    const csv = await (await call("/admin/subscribers/export", { headers: auth })).text();
    expect(csv).toContain("\n'=1+2@example.org,");
    expect(csvField("+cmd")).toBe("'+cmd");
    expect(csvField("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvField("-2")).toBe("'-2");
    expect(csvField("\tx")).toBe("'\tx");
    expect(csvField("plain@example.org")).toBe("plain@example.org");
  });

  it("the CSV import stops parsing at its row cap", async () => {
    expect(parseCsv(`email\n${"a@b.co\n".repeat(200)}`, 10)).toHaveLength(11);
    const body = `email\n${"x@y.io\n".repeat(60_000)}`;
    const res = await call("/admin/subscribers/import", {
      method: "POST",
      headers: { ...auth, "content-type": "text/csv" },
      body,
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: "too_many_rows" } });
  });
});
