import { html } from "hono/html";
import type { Notice } from "./dashboard-issues";
import type { Html } from "./page";

/** The dashboard's subscriber pages: search by address, the record found, CSV import and export, erasure. */

/** A subscriber as the admin API's lookup answers it (src/db/privacy.ts exportSubscriber). */
export interface SubscriberRecord {
  email: string;
  status: string;
  source: string;
  subscribed_at: string | null;
  consent: {
    given_at: string | null;
    source_origin: string | null;
    ip_hash: string | null;
    confirmed_at: string | null;
  };
  unsubscribed_at: string | null;
  paused_until: string | null;
  issues_received: string[];
  topics: string[];
  cadence: string;
  cadence_from_week: string | null;
}

export interface Suppression {
  reason: string;
  since: string;
}

/** GET /admin/subscribers?email=…: `null` subscriber with a suppression is an erased but suppressed address. */
export interface Lookup {
  id?: number;
  subscriber: SubscriberRecord | null;
  suppression: Suppression | null;
}

/** A dashboard import as its page shows it (src/db/imports.ts), while it runs and once done. */
export interface ImportReport {
  file: string;
  status: "importing" | "done" | "failed";
  error: string | null;
  rows: number;
  /** Valid addresses in the file (each once), and how many were handled so far. */
  valid: number;
  validDone: number;
  imported: number;
  /** Already known, suppressed, or repeated in the file. */
  skipped: number;
  invalid: number;
  errors: { line: number; value: string; error: string }[];
}

export interface RecentImport {
  id: number;
  file: string;
  /** ISO time of the upload. */
  uploaded: string;
  status: ImportReport["status"];
  valid: number;
  validDone: number;
  imported: number;
  invalid: number;
}

const row = (label: string, value: unknown) => html`<tr><th scope="row">${label}</th><td>${value ?? "–"}</td></tr>
`;

function found(l: Lookup, base: string): Html {
  const s = l.subscriber;
  const suppression = l.suppression
    ? html`<p class="err">Suppressed (${l.suppression.reason}) since ${l.suppression.since}: nothing is sent to this address.</p>`
    : html`<p class="muted">Not on the suppression list.</p>`;
  if (!s) return html`<p>Erased: only its suppression entry (a hash of the address) is kept.</p>${suppression}`;
  return html`<h2>${s.email}</h2>
<div class="scroll" role="region" aria-label="Subscriber" tabindex="0"><table>
<tbody>
${row("Status", s.status)}${row("Source", s.source)}${row("Signed up", s.subscribed_at)}${row("Consent given", s.consent.given_at)}${row("Consent origin", s.consent.source_origin)}${row("Consent IP hash", s.consent.ip_hash)}${row("Confirmed", s.consent.confirmed_at)}${row("Unsubscribed", s.unsubscribed_at)}${row("Paused until", s.paused_until)}${row("Topics", s.topics.length ? s.topics.join(", ") : "all")}${row("Cadence", s.cadence_from_week ? `${s.cadence} (from ${s.cadence_from_week})` : s.cadence)}${row("Issues received", s.issues_received.length)}</tbody></table></div>
${suppression}
${
  l.id
    ? html`<form method="post" action="${base}/${l.id}/erase"><button type="submit" class="secondary">Erase this subscriber</button></form>`
    : ""
}`;
}

export const subscribersPage = (m: {
  base: string;
  overview: string;
  email: string;
  lookup: Lookup | null;
  notice?: Notice;
  /** The latest dashboard imports, newest first. */
  imports: RecentImport[];
}): Html => html`<p><a href="${m.overview}">Overview</a></p>
<h1>Subscribers</h1>
${m.notice ? html`<p class="${m.notice.ok ? "ok" : "err"}" role="${m.notice.ok ? "status" : "alert"}">${m.notice.text}</p>` : ""}
<form method="get" action="${m.base}">
<label for="email">Find a subscriber by address (any letter case)</label>
<div class="row"><input id="email" name="email" type="text" required maxlength="320" autocomplete="off" value="${m.email}"><button type="submit" class="secondary">Search</button></div>
</form>
${m.lookup ? found(m.lookup, m.base) : m.email ? html`<p>No subscriber with that address.</p>` : ""}
<h2>Import</h2>
<form method="post" enctype="multipart/form-data" action="${m.base}/import">
<label for="file">A CSV file with a header line that has an <code>email</code> column (up to 50,000 rows, 5 MiB). New addresses are added as active; known ones are skipped, never reactivated.</label>
<div class="row"><input id="file" name="file" type="file" required accept=".csv,text/csv"><button type="submit">Import</button></div>
</form>
<p class="muted">The whole file is checked first: a file without an <code>email</code> column, or with too many rows, is refused and nothing is imported. The addresses are then imported in the background; the import's page shows its progress and the rows that were rejected, and can be left and found again below.</p>
${
  m.imports.length
    ? html`<div class="scroll" role="region" aria-label="Recent imports" tabindex="0"><table>
<caption class="muted">Recent imports (kept 30 days)</caption>
<thead><tr><th scope="col">File</th><th scope="col">Uploaded</th><th scope="col">Status</th><th scope="col">Imported</th><th scope="col">Rejected</th></tr></thead>
<tbody>
${m.imports.map(
  (i) =>
    html`<tr><th scope="row"><a href="${m.base}/imports/${i.id}">${i.file}</a></th><td>${i.uploaded}</td><td>${i.status === "importing" ? `importing (${i.validDone} of ${i.valid})` : i.status}</td><td class="n">${i.imported}</td><td class="n">${i.invalid}</td></tr>\n`,
)}</tbody></table></div>`
    : ""
}
<h2>Export</h2>
<p><a href="${m.base}/export.csv" download>Download every subscriber as CSV</a></p>`;

/** Rejected rows listed on the page (all of them, up to the first 1,000, in the CSV it links to): pages stay small. */
export const REJECTED_ON_PAGE = 50;

export const importReportPage = (m: { base: string; report: ImportReport; rejectedCsv: string }): Html => {
  const r = m.report;
  const shown = r.errors.slice(0, REJECTED_ON_PAGE);
  const state =
    r.status === "importing"
      ? html`<p role="status">Importing: ${r.validDone} of ${r.valid} addresses handled (this page refreshes every 2 seconds).</p>`
      : r.status === "failed"
        ? html`<p class="err" role="alert">Import stopped: ${r.error}. The addresses handled before stay imported.</p>`
        : html`<p class="ok" role="status">Import done.</p>`;
  return html`<p><a href="${m.base}">Subscribers</a></p>
<h1>Import of ${r.file}</h1>
${state}
<label for="import-progress">${r.validDone} of ${r.valid} valid addresses handled</label>
<progress id="import-progress" max="${Math.max(1, r.valid)}" value="${r.valid ? r.validDone : 1}">${r.validDone} of ${r.valid}</progress>
<div class="scroll" role="region" aria-label="Import report" tabindex="0"><table>
<tbody>
<tr><th scope="row">Rows</th><td class="n">${r.rows}</td></tr>
<tr><th scope="row">Imported</th><td class="n">${r.imported}</td></tr>
<tr><th scope="row">Skipped (already known or repeated)</th><td class="n">${r.skipped}</td></tr>
<tr><th scope="row">Rejected</th><td class="n">${r.invalid}</td></tr>
</tbody></table></div>
${
  r.errors.length
    ? html`<h2>Rejected rows</h2>
<div class="scroll" role="region" aria-label="Rejected rows" tabindex="0"><table>
${r.invalid > shown.length ? html`<caption class="muted">The first ${shown.length} of ${r.invalid}</caption>` : ""}
<thead><tr><th scope="col">Line</th><th scope="col">Value</th><th scope="col">Why</th></tr></thead>
<tbody>
${shown.map((e) => html`<tr><td class="n">${e.line}</td><td>${e.value}</td><td>${e.error}</td></tr>\n`)}</tbody></table></div>
<p><a href="${m.rejectedCsv}">Download the rejected rows as CSV</a>${r.invalid > r.errors.length ? html` (the first ${r.errors.length} of ${r.invalid})` : ""}</p>`
    : html`<p class="ok">No row was rejected.</p>`
}`;
};

export const importErrorPage = (m: {
  base: string;
  message: string;
}): Html => html`<p><a href="${m.base}">Subscribers</a></p>
<h1>Import not done</h1>
<p class="err" role="alert">${m.message}</p>`;

export const confirmErasePage = (m: {
  email: string;
  action: string;
  back: string;
}): Html => html`<h1>Erase ${m.email}?</h1>
<p>Erase this subscriber for good, as "erase my data" does: the address, consent evidence, topics and ratings are deleted. A suppressed address keeps only its hashed suppression entry. This cannot be undone.</p>
<form method="post" action="${m.action}">
<input type="hidden" name="confirm" value="yes">
<button type="submit">Yes, erase</button>
</form>
<p><a href="${m.back}">No, go back</a></p>`;
