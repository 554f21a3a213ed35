import { html } from "hono/html";
import type { Html } from "./page";

/** One published issue, as the archive lists it. */
export interface ArchiveEntry {
  /** "2026-W47" */
  week: string;
  /** "16–22 November 2026" */
  dateRange: string;
  subject: string;
}

/** The archive page's body: every published issue, newest first, each linking to its web version. */
export const archiveList = (name: string, issues: ArchiveEntry[]): Html => html`<h1>${name}: all issues</h1>
<p class="muted"><a href="/">Subscribe</a> · <a href="/feed.xml">Atom feed</a></p>
${issues.length ? html`<ul>${issues.map((r) => html`<li><a href="/archive/${r.week}">${r.dateRange}</a><br><span class="muted">${r.subject}</span></li>`)}</ul>` : html`<p>No issues yet.</p>`}`;
