import { html } from "hono/html";
import type { RecentIssue } from "../src/db/overview";
import type { Cadence, Status } from "../src/db/schema";
import { type ActivityRow, activityChart } from "./chart";
import type { Html } from "./page";

/** The operator's dashboard (/admin): sign-in and the overview. Server-rendered, no script. */

export const signInPage = (action: string, error?: string): Html => html`<h1>Dashboard sign-in</h1>
<p class="muted">Sign in with the deployment's admin token (ADMIN_TOKEN). The session lasts 12 hours.</p>
${error ? html`<p id="sign-in-error" class="err" role="alert">${error}</p>` : ""}
<form method="post" action="${action}">
<label for="token">Admin token</label>
${
  error
    ? html`<input id="token" name="token" type="password" required autocomplete="current-password" maxlength="512" aria-invalid="true" aria-describedby="sign-in-error">`
    : html`<input id="token" name="token" type="password" required autocomplete="current-password" maxlength="512">`
}
<button type="submit">Sign in</button>
</form>`;

export interface OverviewModel {
  name: string;
  signOut: string;
  /** The dashboard's own URL (/admin on PUBLIC_URL): the other pages are below it. */
  base: string;
  subscribers: Record<Status, number>;
  cadence: Record<Cadence, number>;
  suppressed: number;
  /** Each with its complaint breaker's state (src/digest/issues.ts breakerState). */
  issues: (RecentIssue & { breaker: string })[];
  /** Signups, confirmations and unsubscribes per week, oldest first. */
  activity: ActivityRow[];
  /** Things that need the operator: a paused or failed issue, a quota pause, a missing webhook secret. */
  attention: string[];
}

const pct = (n: number, of: number) => (of > 0 ? `${((100 * n) / of).toFixed(1)} %` : "–");
const cell = (n: number, of: number) => html`<td class="n">${n} <span class="muted">(${pct(n, of)})</span></td>`;

export const overviewPage = (m: OverviewModel): Html => html`<h1>${m.name}: overview</h1>
<nav aria-label="Dashboard"><a href="${m.base}/issues">Issues and editions</a> · <a href="${m.base}/readers">Subscribers</a> · <a href="${m.base}/settings">Settings</a></nav>
<form method="post" action="${m.signOut}" class="inline"><button type="submit" class="secondary">Sign out</button></form>
<h2>Needs attention</h2>
${
  m.attention.length
    ? html`<ul>${m.attention.map((a) => html`<li class="err">${a}</li>`)}</ul>`
    : html`<p class="ok">Nothing: every issue is sent or sending, and mail flows.</p>`
}
<h2>Subscribers</h2>
<div class="scroll" role="region" aria-label="Subscribers" tabindex="0"><table>
<caption class="muted">By status; active readers by cadence; addresses on the suppression list</caption>
<thead><tr><th scope="col">Active</th><th scope="col">Weekly</th><th scope="col">Daily</th><th scope="col">Pending</th><th scope="col">Unsubscribed</th><th scope="col">Suppressed</th><th scope="col">Suppression list</th></tr></thead>
<tbody><tr><td class="n">${m.subscribers.active}</td><td class="n">${m.cadence.weekly}</td><td class="n">${m.cadence.daily}</td><td class="n">${m.subscribers.pending}</td><td class="n">${m.subscribers.unsubscribed}</td><td class="n">${m.subscribers.suppressed}</td><td class="n">${m.suppressed}</td></tr></tbody>
</table></div>
<h2>List growth</h2>
${activityChart(m.activity, `Signups, confirmations and unsubscribes per week, last ${m.activity.length} weeks`, "growth")}
<h2>Latest issues</h2>
${
  m.issues.length
    ? html`<div class="scroll" role="region" aria-label="Latest issues" tabindex="0"><table>
<caption class="muted">Newest first; rates are of the emails sent; the complaint breaker pauses an issue over 0.1 % complaints</caption>
<thead><tr><th scope="col">Edition</th><th scope="col">Status</th><th scope="col">Recipients</th><th scope="col">Delivered</th><th scope="col">Bounced</th><th scope="col">Complained</th><th scope="col">Complaint breaker</th></tr></thead>
<tbody>
${m.issues.map(
  (
    i,
  ) => html`<tr><th scope="row"><a href="${m.base}/issues/${encodeURIComponent(i.week)}">${i.week}</a> <span class="muted">${i.cadence}</span></th><td>${i.status}${i.paused_reason ? html`<br><span class="muted">${i.paused_reason}</span>` : ""}</td><td class="n">${i.recipients}</td>${cell(i.delivered, i.sent)}${cell(i.bounced, i.sent)}${cell(i.complained, i.sent)}<td${i.breaker === "tripped" ? html` class="err"` : ""}>${i.breaker}</td></tr>
`,
)}</tbody>
</table></div>`
    : html`<p class="muted">No issue yet.</p>`
}`;
