import { html } from "hono/html";
import type { Html } from "./page";

/** System fonts first, Arial as the fallback every client has. */
export const FONT = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;";

/**
 * The frame every email shares: table layout and inline styles, the subset Gmail, Outlook, Apple Mail and Yahoo
 * all render (no CSS in <head>, no border-radius: Outlook for Windows ignores it), a 600 px column that shrinks on
 * phones, and the preheader as the visible first line (hidden preheaders need CSS some clients drop, and hidden
 * text is what spam filters look for). Colours are light-scheme colours with enough contrast to survive a client
 * darkening them. `rows` are the <tr>s of the white card.
 */
export function emailShell(m: { title: string; preheader: string; rows: Html }): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<meta name="supported-color-schemes" content="light">
<title>${m.title}</title>
</head>
<body style="margin:0;padding:0;background-color:#f3f4f6;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f3f4f6;">
<tr><td align="center" style="padding:12px 10px 20px 10px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;">
<tr><td style="padding:0 0 10px 0;${FONT}font-size:13px;line-height:18px;color:#4b5563;">${m.preheader}</td></tr>
</table>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;background-color:#ffffff;border:1px solid #d1d5db;">
${m.rows}
</table>
</td></tr>
</table>
</body>
</html>`;
}
