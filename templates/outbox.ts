import { html } from "hono/html";
import type { Html } from "./page";

export interface OutboxItem {
  id: number;
  to: string;
  from: string;
  subject: string;
  createdAt: number;
  text?: string;
  headers?: Record<string, string> | null;
}

const when = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 19);

export const outboxList = (items: OutboxItem[]): Html => html`<h1>Outbox</h1>
<p class="muted">Local development: with no RESEND_API_KEY, every email lands here instead of being sent. Newest first.</p>
${
  items.length
    ? html`<ul>${items.map((m) => html`<li><a href="/dev/outbox/${m.id}">${m.subject}</a><br><span class="muted">to ${m.to} · ${when(m.createdAt)}</span></li>`)}</ul>`
    : html`<p>No emails yet. <a href="/">Subscribe</a> to see the confirmation arrive.</p>`
}`;

export const outboxItem = (m: OutboxItem & { text: string }): Html => {
  const links = [...new Set(m.text.match(/https?:\/\/[^\s<>"]+/g) ?? [])];
  return html`<p><a href="/dev/outbox">← Outbox</a></p>
<h1>${m.subject}</h1>
<p class="muted">From ${m.from}<br>To ${m.to}<br>${when(m.createdAt)}</p>
${Object.keys(m.headers ?? {}).length ? html`<p class="muted">${Object.entries(m.headers!).map(([k, v]) => html`${k}: ${v}<br>`)}</p>` : ""}
${links.length ? html`<h2>Links</h2><ul>${links.map((l) => html`<li><a href="${l}">${l}</a></li>`)}</ul>` : ""}
<h2>HTML version</h2>
<p><a href="/dev/outbox/${m.id}/html">Open the HTML version</a></p>
<h2>Text version</h2>
<pre>${m.text}</pre>`;
};
