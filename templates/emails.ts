import { html } from "hono/html";
import type { Html } from "./page";

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

/**
 * The shared email frame: table layout and inline styles, the subset every major client renders (no border-radius:
 * Outlook for Windows ignores it). The preheader is the visible first line, as in the digest (templates/digest.ts).
 */
function frame(title: string, preheader: string, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="supported-color-schemes" content="light dark">
<title>${title}</title>
</head>
<body style="margin:0;padding:0;background-color:#f6f7f9;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f6f7f9;">
<tr><td align="center" style="padding:12px 12px 24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;">
<tr><td style="padding:0 0 10px 0;font-family:Arial,Helvetica,sans-serif;font-size:13px;line-height:18px;color:#4b5563;">${preheader}</td></tr>
</table>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;background-color:#ffffff;border:1px solid #d1d5db;">
<tr><td style="padding:28px 28px 24px 28px;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:24px;color:#111827;">
${body}
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>`;
}

const button = (href: string, label: string) => html`<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:20px 0;"><tr>
<td style="background-color:#111827;"><a href="${href}" style="display:inline-block;padding:12px 22px;font-family:Arial,Helvetica,sans-serif;font-size:16px;font-weight:bold;color:#ffffff;text-decoration:none;">${label}</a></td>
</tr></table>`;

/**
 * The double opt-in email. It carries the address and exactly one link, nothing else a stranger typed:
 * anyone can put any address in the form, so this mail must be useless for spam or phishing.
 */
export async function confirmationEmail(m: { name: string; email: string; confirmUrl: string }): Promise<RenderedEmail> {
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
  return { subject, html: (await frame(subject, "One click to start receiving the week's trending papers.", body)).toString(), text };
}

export async function welcomeEmail(m: { name: string; homeUrl: string; manageUrl: string; unsubscribeUrl: string }): Promise<RenderedEmail> {
  const subject = `Welcome to ${m.name}`;
  const body = html`<h1 style="margin:0 0 12px 0;font-size:22px;line-height:28px;">You're subscribed</h1>
<p style="margin:0 0 12px 0;">Every Monday morning you will get the most upvoted machine-learning papers of the past week on Hugging Face: titles, authors, a short abstract and links to the paper, code and project page.</p>
<p style="margin:0 0 12px 0;">Want a break? You can pause the digest for a few weeks or leave at any time.</p>
${button(m.manageUrl, "Manage your subscription")}
<p style="margin:0;color:#4b5563;font-size:14px;line-height:20px;">You receive this because you confirmed your subscription to ${m.name}. <a href="${m.unsubscribeUrl}" style="color:#4b5563;">Unsubscribe</a></p>`;
  const text = `Welcome to ${m.name}

Every Monday morning you will get the most upvoted machine-learning papers of the past week on Hugging Face.

Manage your subscription (pause or leave): ${m.manageUrl}
Unsubscribe: ${m.unsubscribeUrl}
`;
  return { subject, html: (await frame(subject, "Your first digest arrives on Monday.", body)).toString(), text };
}
