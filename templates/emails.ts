import { html } from "hono/html";
import type { Cadence } from "../src/db/schema";
import { emailShell, FONT } from "./email-shell";
import type { Html } from "./page";

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

/** A transactional email: the shared frame with one padded cell. */
const frame = (title: string, preheader: string, body: Html): Html =>
  emailShell({
    title,
    preheader,
    rows: html`<tr><td style="padding:28px 28px 24px 28px;${FONT}font-size:16px;line-height:24px;color:#111827;">${body}</td></tr>`,
  });

const button = (
  href: string,
  label: string,
) => html`<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:20px 0;"><tr>
<td style="background-color:#111827;"><a href="${href}" style="display:inline-block;padding:12px 22px;${FONT}font-size:16px;font-weight:bold;color:#ffffff;text-decoration:none;">${label}</a></td>
</tr></table>`;

/**
 * The double opt-in email. It carries the address and exactly one link, nothing else a stranger typed:
 * anyone can put any address in the form, so this mail must be useless for spam or phishing.
 */
export async function confirmationEmail(m: {
  name: string;
  email: string;
  confirmUrl: string;
}): Promise<RenderedEmail> {
  const subject = `Confirm your subscription to ${m.name}`;
  const body = html`<h1 style="margin:0 0 12px 0;font-size:22px;line-height:28px;">Confirm your subscription</h1>
<p style="margin:0 0 12px 0;">Someone, hopefully you, asked to send ${m.name}, the weekly digest of trending ML papers, to <strong>${m.email}</strong>.</p>
${button(m.confirmUrl, "Yes, subscribe me")}
<p style="margin:0;color:#4b5563;font-size:14px;line-height:20px;">The button works for 7 days. If you did not ask for this, ignore this email: without a click you will not hear from us again.</p>`;
  const text = `Confirm your subscription to ${m.name}

Someone, hopefully you, asked to send ${m.name}, the weekly digest of trending ML papers, to ${m.email}.

Confirm here (the link works for 7 days):
${m.confirmUrl}

If you did not ask for this, ignore this email: without a click you will not hear from us again.
`;
  return {
    subject,
    html: (await frame(subject, "One click to start receiving the week's trending papers.", body)).toString(),
    text,
  };
}

/** What the welcome email promises, by the cadence the reader chose (the preferences page can change it). */
const WHEN: Record<Cadence, { lead: string; span: string; first: string }> = {
  weekly: { lead: "Every Monday morning", span: "the past week", first: "Your first digest arrives on Monday." },
  daily: {
    lead: "Every morning",
    span: "the previous day",
    first: "Your first edition arrives the next morning with new papers.",
  },
};

export async function welcomeEmail(m: {
  name: string;
  homeUrl: string;
  manageUrl: string;
  unsubscribeUrl: string;
  cadence: Cadence;
}): Promise<RenderedEmail> {
  const subject = `Welcome to ${m.name}`;
  const when = WHEN[m.cadence];
  const body = html`<h1 style="margin:0 0 12px 0;font-size:22px;line-height:28px;">You're subscribed</h1>
<p style="margin:0 0 12px 0;">${when.lead} you will get the most upvoted machine-learning papers of ${when.span} on Hugging Face: titles, authors, a short abstract and links to the paper, code and project page.</p>
<p style="margin:0 0 12px 0;">Want a break? You can pause the digest for a few weeks or leave at any time.</p>
${button(m.manageUrl, "Manage your subscription")}
<p style="margin:0;color:#4b5563;font-size:14px;line-height:20px;">You receive this because you confirmed your subscription to ${m.name}. <a href="${m.unsubscribeUrl}" style="color:#4b5563;">Unsubscribe</a></p>`;
  const text = `Welcome to ${m.name}

${when.lead} you will get the most upvoted machine-learning papers of ${when.span} on Hugging Face.

Manage your subscription (pause or leave): ${m.manageUrl}
Unsubscribe: ${m.unsubscribeUrl}
`;
  return { subject, html: (await frame(subject, when.first, body)).toString(), text };
}
