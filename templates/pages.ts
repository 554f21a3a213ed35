import { html } from "hono/html";
import type { Cadence } from "../src/db/schema";
import { TOPICS } from "../src/papers/topics";
import type { Html } from "./page";

/** Everything the signup form needs; shared by /form, the landing page and the embed script. */
export interface FormModel {
  action: string;
  /** Signed render time (anti-bot): a person needs a few seconds to type an address. */
  ts: string;
  framed: boolean;
  turnstileSiteKey?: string;
  heading?: string;
  description?: string;
  button?: string;
  /** Offer topic checkboxes (/form?topics=1); off: the one-field form. */
  topics?: boolean;
  /** Offer the weekly/daily choice (/form?cadence=1); off: weekly, the default. */
  cadence?: boolean;
}

export const DEFAULT_TEXT = {
  heading: "Get trending papers in your email inbox",
  description: "Every Monday: the week's most upvoted ML papers on Hugging Face. One email a week, one click to leave.",
  button: "Subscribe",
  success: "Almost there: check your inbox and click the link to confirm.",
  topicsLegend: "Topics (optional)",
  topicsHint: "Tick any: your digest adds the week's new papers on them to its top papers.",
  cadenceLegend: "How often",
  cadenceWeekly: "Weekly: every Monday, the week's top papers",
  cadenceDaily: "Daily: every morning, the previous day's papers",
};

/**
 * The topic checkboxes (every topic, `chosen` ticked), one repeated "topics" field: what the signup form and the
 * preferences page post. No box ticked posts no field, which reads as "no topics".
 */
export const topicFieldset = (legend: string, hint: string, chosen: readonly string[] = []): Html =>
  html`<fieldset><legend>${legend}</legend>
<p class="muted">${hint}</p>
<div class="choices">
${TOPICS.map(
  ({ id, name }) =>
    html`<label><input type="checkbox" name="topics" value="${id}"${chosen.includes(id) ? " checked" : ""}> ${name}</label>
`,
)}</div>
</fieldset>`;

export function subscribeForm(f: FormModel): Html {
  const button = html`<button type="submit">${f.button ?? DEFAULT_TEXT.button}</button>`;
  return html`<form method="post" action="${f.action}" novalidate>
<h1 id="form-title">${f.heading ?? DEFAULT_TEXT.heading}</h1>
<p class="muted">${f.description ?? DEFAULT_TEXT.description}</p>
<div class="row">
<div><label for="email">Email address</label>
<input id="email" name="email" type="email" required autocomplete="email" inputmode="email" maxlength="254" placeholder="you@example.com"></div>
${f.topics || f.cadence ? "" : button}
</div>
${f.cadence ? cadenceFieldset(DEFAULT_TEXT.cadenceLegend) : ""}
${f.topics ? topicFieldset(DEFAULT_TEXT.topicsLegend, DEFAULT_TEXT.topicsHint) : ""}
${f.topics || f.cadence ? button : ""}
<div class="hp" aria-hidden="true"><label for="website">Leave this field empty</label><input id="website" name="website" type="text" tabindex="-1" autocomplete="off"></div>
<input type="hidden" name="ts" value="${f.ts}">
${f.framed ? html`<input type="hidden" name="_frame" value="1">` : ""}
${f.turnstileSiteKey ? html`<div class="cf-turnstile" data-sitekey="${f.turnstileSiteKey}"></div>` : ""}
</form>`;
}

/** Turnstile's widget script for the form page's <head>, under the page's CSP nonce. */
export const turnstileScript = (nonce: string): Html =>
  html`<script nonce="${nonce}" src="https://challenges.cloudflare.com/turnstile/v0/api.js" async defer></script>`;

export const thanksPage = (home: string): Html => html`<h1>Check your inbox</h1>
<p>${DEFAULT_TEXT.success}</p>
<p class="muted">The link works for 7 days. Nothing arrived? Look in the spam folder, or <a href="${home}">try again</a> in a few minutes.</p>`;

export const errorPage = (
  title: string,
  message: string,
  retry?: { href: string; label: string },
): Html => html`<h1>${title}</h1>
<p role="alert">${message}</p>
${retry ? html`<p><a href="${retry.href}">${retry.label}</a></p>` : ""}`;

/** One button, nothing submitted by itself: a link scanner that opens (and even runs) the page confirms nothing. */
export const confirmPrompt = (action: string, name: string): Html => html`<h1>Confirm your subscription</h1>
<p>One more step to receive ${name} every week.</p>
<form id="confirm" method="post" action="${action}"><button type="submit">Confirm my subscription</button></form>`;

/** When a reader's emails come, by cadence: the confirmation and resubscribe pages say it. */
const ARRIVES: Record<Cadence, string> = { weekly: "every Monday", daily: "every morning with new papers" };

export const confirmedPage = (
  manageUrl: string,
  name: string,
  already: boolean,
  cadence: Cadence,
): Html => html`<h1>${already ? "You are already subscribed" : "You're subscribed!"}</h1>
<p>${name} will arrive ${ARRIVES[cadence]}. A welcome email is on its way${already ? " (or already arrived)" : ""}.</p>
<p class="muted">You can pause or leave at any time: <a href="${manageUrl}">manage your subscription</a>.</p>`;

export const unsubscribePrompt = (action: string, name: string): Html => html`<h1>Unsubscribe?</h1>
<p>You will stop receiving ${name}.</p>
<form method="post" action="${action}"><input type="hidden" name="confirm" value="1"><button type="submit">Unsubscribe</button></form>`;

/** The unsubscribe URL is handed to mailbox providers (List-Unsubscribe): this page offers only a resubscribe button. */
export const unsubscribedPage = (resubscribeAction: string, name: string): Html => html`<h1>You're unsubscribed</h1>
<p>You will not receive ${name} any more. Sorry to see you go.</p>
<form method="post" action="${resubscribeAction}"><button type="submit" class="secondary">Unsubscribed by mistake? Resubscribe</button></form>`;

export const resubscribePrompt = (action: string, name: string): Html => html`<h1>Resubscribe?</h1>
<p>You will receive ${name} again.</p>
<form method="post" action="${action}"><button type="submit">Resubscribe</button></form>`;

export const resubscribedPage = (name: string, cadence: Cadence): Html => html`<h1>You're subscribed again</h1>
<p>${name} will arrive ${ARRIVES[cadence]}. The links in your earlier emails keep working to pause or leave.</p>`;

export interface ManageModel {
  action: string;
  name: string;
  email: string;
  status: string;
  pausedUntil: number | null;
  /** The reader's topic ids. */
  topics: readonly string[];
  /** The cadence chosen, the one this week's papers follow, and (when a switch waits for next week) its Monday. */
  cadence: { chosen: Cadence; now: Cadence; switchFrom: string | null };
  notice?: string;
}

export const CADENCE_NAMES: Record<Cadence, string> = { weekly: "the weekly digest", daily: "the daily edition" };

/** The cadence radios: weekly (the default, checked unless `chosen` says daily) or daily, one "cadence" field. */
export const cadenceFieldset = (legend: string, chosen: Cadence = "weekly"): Html =>
  html`<fieldset><legend>${legend}</legend>
<div class="choices">
<label><input type="radio" name="cadence" value="weekly"${chosen === "weekly" ? " checked" : ""}> ${DEFAULT_TEXT.cadenceWeekly}</label>
<label><input type="radio" name="cadence" value="daily"${chosen === "daily" ? " checked" : ""}> ${DEFAULT_TEXT.cadenceDaily}</label>
</div>
</fieldset>`;

const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function managePage(m: ManageModel): Html {
  const active = m.status === "active";
  const paused = active && m.pausedUntil !== null && m.pausedUntil > Date.now();
  return html`<h1>Your subscription</h1>
${m.notice ? html`<p class="ok" role="status">${m.notice}</p>` : ""}
<p><strong>${m.email}</strong>: ${
    paused
      ? `paused until ${dateOf(m.pausedUntil!)}`
      : active
        ? `receiving ${CADENCE_NAMES[m.cadence.now]}`
        : m.status === "pending"
          ? "waiting for confirmation"
          : "not subscribed"
  }.</p>
${
  active
    ? html`<form method="post" action="${m.action}">
<input type="hidden" name="action" value="pause">
<label for="weeks">Take a break</label>
<div class="row"><select id="weeks" name="weeks">
<option value="1">1 week</option><option value="2">2 weeks</option><option value="4" selected>4 weeks</option><option value="8">8 weeks</option><option value="12">12 weeks</option>
</select><button type="submit" class="secondary">Pause</button></div>
</form>
${paused ? html`<form method="post" action="${m.action}"><input type="hidden" name="action" value="resume"><button type="submit">Resume now</button></form>` : ""}
<form method="post" action="${m.action}"><input type="hidden" name="action" value="unsubscribe"><button type="submit" class="secondary">Unsubscribe</button></form>`
    : m.status === "unsubscribed"
      ? html`<form method="post" action="${m.action}"><input type="hidden" name="action" value="resubscribe"><button type="submit">Resubscribe</button></form>`
      : ""
}
${
  active || m.status === "pending"
    ? html`<form method="post" action="${m.action}">
<input type="hidden" name="action" value="cadence">
${cadenceFieldset("How often", m.cadence.chosen)}
${
  m.cadence.switchFrom
    ? html`<p class="muted">Your change to ${CADENCE_NAMES[m.cadence.chosen]} starts with the papers of the week of ${m.cadence.switchFrom}. Until then you get ${CADENCE_NAMES[m.cadence.now]}, so no paper reaches you twice and none is missed.</p>`
    : ""
}
<button type="submit">Save</button>
</form>`
    : ""
}
<form method="post" action="${m.action}">
<input type="hidden" name="action" value="topics">
${topicFieldset("Topics", "Tick what you want more of: your digest adds the week's new papers on these topics to its top papers. None ticked: the top papers only.", m.topics)}
<button type="submit">Save topics</button>
</form>
<h2>Your data</h2>
<p><a href="${m.action}/data.json" download>Download my data</a> (JSON: your address, status, consent record, topics and ratings).</p>
<form method="post" action="${m.action}">
<input type="hidden" name="action" value="erase">
<p><label><input type="checkbox" name="confirm" value="yes" required> Delete everything you hold about me</label></p>
<button type="submit" class="secondary">Erase my data</button>
</form>
<footer class="muted">${m.name}</footer>`;
}

export const erasedPage = (home: string): Html => html`<h1>Your data is erased</h1>
<p>Your address and everything we held about your subscription are gone. You will not hear from us again.</p>
<p class="muted">Changed your mind? You can <a href="${home}">subscribe again</a> at any time.</p>`;

export const landingPage = (
  embedSrc: string,
  formUrl: string,
  outboxUrl: string | null,
  name: string,
): Html => html`<h1>${name}</h1>
<p class="muted">A free weekly email with the most upvoted machine-learning papers on Hugging Face. <a href="/archive">Past issues</a></p>
<script src="${embedSrc}" async></script>
<noscript><p><a href="${formUrl}">Subscribe to ${name}</a></p></noscript>
${outboxUrl ? html`<footer class="muted">Local development: emails are captured in the <a href="${outboxUrl}">outbox</a>.</footer>` : ""}`;
