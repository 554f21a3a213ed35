import { html } from "hono/html";
import type { Html } from "./page";

/** One published issue, as the archive lists it. */
export interface ArchiveEntry {
  /** "2026-W47" or "2026-11-30" */
  week: string;
  cadence: "weekly" | "daily";
  /** "16–22 November 2026" or "Monday 30 November 2026" */
  dateRange: string;
  subject: string;
}

/** The archive page's body: every published edition, newest first, each linking to its web version; filterable by cadence. */
export const archiveList = (name: string, issues: ArchiveEntry[], only?: "weekly" | "daily"): Html => {
  const tab = (label: string, href: string, on: boolean) =>
    on ? html`<strong aria-current="page">${label}</strong>` : html`<a href="${href}">${label}</a>`;
  return html`<h1>${name}: ${only === "daily" ? "daily editions" : only === "weekly" ? "weekly issues" : "all issues"}</h1>
<p class="muted"><a href="/">Subscribe</a> · Atom feeds: <a href="/feed.xml">weekly</a>, <a href="/feed/daily.xml">daily</a></p>
<nav aria-label="Cadence"><p>${tab("All", "/archive", !only)} · ${tab("Weekly", "/archive?cadence=weekly", only === "weekly")} · ${tab("Daily", "/archive?cadence=daily", only === "daily")}</p></nav>
${issues.length ? html`<ul>${issues.map((r) => html`<li><a href="/archive/${r.week}">${r.dateRange}</a> <span class="muted">(${r.cadence})</span><br><span class="muted">${r.subject}</span></li>`)}</ul>` : html`<p>No issues yet.</p>`}`;
};
