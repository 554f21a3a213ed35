import { Hono } from "hono";
import { html } from "hono/html";
import { digestWebPage } from "../../templates/digest";
import { ApiError, type AppEnv, pageSecurity } from "../lib/http";
import { render } from "../lib/render";
import { dateRange, parseWeek } from "../lib/week";
import type { Paper } from "../papers/paper";

/** The public archive: every issue that went out, its web version, and an Atom feed with full content. */
export const archive = new Hono<AppEnv>();

type Published = { week: string; subject: string; papers: string; started_at: number; finished_at: number | null };
const PUBLISHED =
  "SELECT week, subject, papers, started_at, finished_at FROM issues WHERE status IN ('sending', 'sent') AND papers IS NOT NULL";

archive.get("/archive", pageSecurity({ frameable: false }), async (c) => {
  const { results } = await c.env.DB.prepare(`${PUBLISHED} ORDER BY week DESC LIMIT 520`).all<Published>();
  const cfg = c.get("cfg");
  c.header("Cache-Control", "public, max-age=300");
  return render(
    c,
    "Archive",
    html`<h1>${cfg.newsletterName}: all issues</h1>
<p class="muted"><a href="/">Subscribe</a> · <a href="/feed.xml">Atom feed</a></p>
${results.length ? html`<ul>${results.map((r) => html`<li><a href="/archive/${r.week}">${dateRange(r.week)}</a><br><span class="muted">${r.subject}</span></li>`)}</ul>` : html`<p>No issues yet.</p>`}`,
  );
});

archive.get("/archive/:week", async (c) => {
  const week = c.req.param("week");
  if (!parseWeek(week)) throw new ApiError(404, "not_found", "No issue for that week.");
  const row = await c.env.DB.prepare(`${PUBLISHED} AND week = ?`).bind(week).first<Published>();
  if (!row) throw new ApiError(404, "not_found", "No issue for that week.");
  const cfg = c.get("cfg");
  const page = await digestWebPage({
    name: cfg.newsletterName,
    week,
    dateRange: dateRange(week),
    papers: JSON.parse(row.papers) as Paper[],
    archiveUrl: new URL(`/archive/${week}`, cfg.publicUrl).toString(),
    homeUrl: cfg.publicUrl.toString(),
    postalAddress: cfg.postalAddress,
  });
  // The email's own markup (inline styles only, no script): a CSP that allows exactly that.
  c.header(
    "Content-Security-Policy",
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  );
  c.header("X-Frame-Options", "DENY");
  c.header("Cache-Control", "public, max-age=3600");
  return c.html(page);
});

/** XML text: escaped, and stripped of what XML 1.0 cannot carry at all (C0 controls but tab, LF, CR; lone surrogates). */
const xml = (s: string) =>
  s
    .toWellFormed()
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "")
    .replace(/[<>&'"]/g, (ch) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[ch]!);

archive.get("/feed.xml", async (c) => {
  const cfg = c.get("cfg");
  const { results } = await c.env.DB.prepare(`${PUBLISHED} ORDER BY week DESC LIMIT 20`).all<Published>();
  const base = cfg.publicUrl;
  const entries = await Promise.all(
    results.map(async (r) => {
      const url = new URL(`/archive/${r.week}`, base).toString();
      const content = await digestWebPage({
        name: cfg.newsletterName,
        week: r.week,
        dateRange: dateRange(r.week),
        papers: JSON.parse(r.papers),
        archiveUrl: url,
        homeUrl: base.toString(),
        postalAddress: cfg.postalAddress,
      });
      const updated = new Date(r.finished_at ?? r.started_at).toISOString();
      return `<entry><id>${xml(url)}</id><title>${xml(r.subject)}</title><link rel="alternate" type="text/html" href="${xml(url)}"/><updated>${updated}</updated><content type="html">${xml(content)}</content></entry>`;
    }),
  );
  const updated = results[0]
    ? new Date(results[0].finished_at ?? results[0].started_at).toISOString()
    : new Date(0).toISOString();
  const feed = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>${xml(new URL("/feed.xml", base).toString())}</id><title>${xml(cfg.newsletterName)}</title><updated>${updated}</updated><author><name>${xml(cfg.newsletterName)}</name></author><link rel="self" href="${xml(new URL("/feed.xml", base).toString())}"/><link rel="alternate" type="text/html" href="${xml(new URL("/archive", base).toString())}"/>${entries.join("")}</feed>`;
  c.header("Cache-Control", "public, max-age=600");
  return c.body(feed, 200, { "Content-Type": "application/atom+xml; charset=utf-8" });
});
