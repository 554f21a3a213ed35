import { html } from "hono/html";
import type { Html } from "./page";

/** The dashboard's issue pages: the list, one issue's run record and controls, and the confirmation step. */

/** The run record as the admin API answers it (src/routes/digests.ts runRecord). */
export interface RunRecord {
  week: string;
  status: string;
  subject: string;
  recipients: number;
  sent: number;
  dropped: number;
  rejected: number;
  batches: number;
  batches_sent: number;
  failures: number;
  retries: number;
  api_calls: number;
  delivered: number;
  bounced: number;
  complained: number;
  fanout_done: boolean;
  paused_reason: string | null;
  last_error: string | null;
  started_at: string;
  finished_at: string | null;
}

export interface Notice {
  ok: boolean;
  text: string;
}

const pct = (n: number, of: number) => (of > 0 ? `${((100 * n) / of).toFixed(1)} %` : "–");

export const issuesPage = (m: {
  issues: RunRecord[];
  base: string;
  overview: string;
}): Html => html`<p><a href="${m.overview}">Overview</a></p>
<h1>Issues and editions</h1>
<form method="get" action="${m.base}/go">
<label for="key">Open an edition by its key (a week like 2026-W47, or a day like 2026-11-30)</label>
<div class="row"><input id="key" name="key" type="text" required pattern="\\d{4}-(W\\d{2}|\\d{2}-\\d{2})" maxlength="10"><button type="submit" class="secondary">Open</button></div>
</form>
${
  m.issues.length
    ? html`<div class="scroll" role="region" aria-label="Issues" tabindex="0"><table>
<caption class="muted">Newest first</caption>
<thead><tr><th scope="col">Edition</th><th scope="col">Status</th><th scope="col">Sent</th><th scope="col">Delivered</th><th scope="col">Bounced</th><th scope="col">Complained</th></tr></thead>
<tbody>
${m.issues.map(
  (
    i,
  ) => html`<tr><th scope="row"><a href="${m.base}/${encodeURIComponent(i.week)}">${i.week}</a></th><td>${i.status}</td><td class="n">${i.sent} / ${i.recipients}</td><td class="n">${pct(i.delivered, i.sent)}</td><td class="n">${pct(i.bounced, i.sent)}</td><td class="n">${pct(i.complained, i.sent)}</td></tr>
`,
)}</tbody></table></div>`
    : html`<p class="muted">No issue yet.</p>`
}`;

/** A POST button to one of the issue's actions; the next page asks to confirm. */
const actionButton = (action: string, name: string, label: string, secondary = true) =>
  html`<form method="post" action="${action}/${name}" class="inline"><button type="submit"${secondary ? html` class="secondary"` : ""}>${label}</button></form> `;

export function issuePage(m: {
  key: string;
  record: RunRecord | null;
  notice?: Notice;
  action: string;
  list: string;
}): Html {
  const r = m.record;
  const controls = !r
    ? [actionButton(m.action, "send", "Send now", false)]
    : [
        r.status === "sending" ? actionButton(m.action, "pause", "Pause") : "",
        r.status === "paused" ? actionButton(m.action, "resume", "Resume", false) : "",
        ["building", "sending", "paused"].includes(r.status) ? actionButton(m.action, "cancel", "Cancel") : "",
        r.failures > 0 && r.status !== "cancelled"
          ? actionButton(m.action, "retry-failed", "Retry failed batches")
          : "",
      ];
  return html`<p><a href="${m.list}">All issues</a></p>
<h1>Issue ${m.key}</h1>
${m.notice ? html`<p class="${m.notice.ok ? "ok" : "err"}" role="${m.notice.ok ? "status" : "alert"}">${m.notice.text}</p>` : ""}
${
  r
    ? html`<p><strong>${r.status}</strong>${r.subject ? html` · ${r.subject}` : ""}</p>
${r.paused_reason ? html`<p class="err">Paused: ${r.paused_reason}</p>` : ""}
${r.last_error ? html`<p class="err">Last error: ${r.last_error}</p>` : ""}
<label for="progress">Sent ${r.sent} of ${r.recipients}${r.fanout_done ? "" : " so far (still adding recipients)"}</label>
<progress id="progress" max="${Math.max(1, r.recipients)}" value="${r.sent}">${pct(r.sent, r.recipients)}</progress>
<div class="scroll" role="region" aria-label="Run record" tabindex="0"><table>
<caption class="muted">Run record${r.status === "building" || r.status === "sending" ? " (this page refreshes every 5 seconds)" : ""}</caption>
<tbody>
<tr><th scope="row">Batches sent</th><td class="n">${r.batches_sent} / ${r.batches}</td></tr>
<tr><th scope="row">Failed batches</th><td class="n">${r.failures}</td></tr>
<tr><th scope="row">Resend calls (retries)</th><td class="n">${r.api_calls} (${r.retries})</td></tr>
<tr><th scope="row">Dropped before sending</th><td class="n">${r.dropped}</td></tr>
<tr><th scope="row">Refused by Resend</th><td class="n">${r.rejected}</td></tr>
<tr><th scope="row">Delivered</th><td class="n">${r.delivered} (${pct(r.delivered, r.sent)})</td></tr>
<tr><th scope="row">Bounced</th><td class="n">${r.bounced} (${pct(r.bounced, r.sent)})</td></tr>
<tr><th scope="row">Complained</th><td class="n">${r.complained} (${pct(r.complained, r.sent)})</td></tr>
<tr><th scope="row">Started</th><td>${r.started_at}</td></tr>
<tr><th scope="row">Finished</th><td>${r.finished_at ?? "–"}</td></tr>
</tbody></table></div>`
    : html`<p class="muted">Not started yet: nothing has been built or sent for ${m.key}.</p>`
}
<p>${controls}</p>
<h2>Preview and test</h2>
<p><a href="${m.action}/preview">Preview the email</a> (opens the rendered issue; nothing is sent)</p>
<form method="post" action="${m.action}/test">
<label for="test-email">Send a test to</label>
<div class="row"><input id="test-email" name="email" type="email" required autocomplete="email" maxlength="254"><button type="submit" class="secondary">Send test</button></div>
</form>`;
}

export const confirmActionPage = (m: {
  key: string;
  label: string;
  question: string;
  action: string;
  back: string;
}): Html => html`<h1>${m.label}: ${m.key}</h1>
<p>${m.question}</p>
<form method="post" action="${m.action}">
<input type="hidden" name="confirm" value="yes">
<button type="submit">Yes, ${m.label.toLowerCase()}</button>
</form>
<p><a href="${m.back}">No, go back</a></p>`;
