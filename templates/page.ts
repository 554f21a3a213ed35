import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export interface PageShell {
  title: string;
  /** CSP nonce for the inline style and script. */
  nonce: string;
  siteName: string;
  body: Html;
  /** Extra markup for <head> (scripts carrying the nonce). */
  head?: Html;
  /** Compact layout for pages shown inside an iframe. */
  framed?: boolean;
  /** A wider column, for the operator's dashboard (tables and charts). */
  wide?: boolean;
}

// One stylesheet for every page: readable, high contrast in both colour schemes.
export const SITE_CSS = `
:root{color-scheme:light dark;--bg:#f6f7f9;--card:#fff;--fg:#111827;--muted:#4b5563;--line:#d1d5db;--accent:#b45309;--btn:#111827;--btn-fg:#fff;--ok:#166534;--err:#b91c1c}
@media (prefers-color-scheme:dark){:root{--bg:#0b0f17;--card:#151b26;--fg:#f3f4f6;--muted:#c2c8d0;--line:#374151;--accent:#fbbf24;--btn:#fbbf24;--btn-fg:#111827;--ok:#86efac;--err:#fca5a5}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:36rem;margin:0 auto;padding:2.5rem 1.25rem}
body.framed main{padding:.75rem;max-width:none}
body.wide main{max-width:64rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:1.5rem}
body.framed .card{border:0;padding:.25rem;background:transparent}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 .5rem}
p{margin:.5rem 0}
.muted{color:var(--muted)}
a{color:var(--accent)}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=email],input[type=text],select{width:100%;font:inherit;padding:.6rem .75rem;border:1px solid var(--line);border-radius:8px;background:var(--card);color:var(--fg)}
input:focus-visible,button:focus-visible,select:focus-visible,a:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
button{font:inherit;font-weight:600;margin-top:.75rem;padding:.6rem 1.1rem;border:0;border-radius:8px;background:var(--btn);color:var(--btn-fg);cursor:pointer}
button.secondary{background:transparent;color:var(--fg);border:1px solid var(--line)}
.row{display:flex;gap:.5rem;flex-wrap:wrap;align-items:end}
.row>*{flex:1 1 14rem}
.row button{flex:0 0 auto}
fieldset{border:1px solid var(--line);border-radius:8px;margin:.75rem 0 0;padding:.25rem .75rem .75rem;min-width:0}
legend{font-weight:600;padding:0 .25rem}
.choices{display:grid;grid-template-columns:repeat(auto-fill,minmax(13rem,1fr));gap:.25rem .75rem}
.choices label{display:flex;gap:.5rem;align-items:baseline;font-weight:400;margin:0}
.hp{position:absolute!important;left:-10000px!important;width:1px;height:1px;overflow:hidden}
.ok{color:var(--ok)}.err{color:var(--err)}
form.inline{display:inline}
footer{margin-top:1.5rem;font-size:.875rem}
pre{white-space:pre-wrap;word-break:break-word}
h2{font-size:1.125rem;margin:1.5rem 0 .5rem}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.9375rem}
caption{text-align:left;font-size:.875rem;padding-bottom:.25rem}
th,td{text-align:left;padding:.375rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
td.n{text-align:right;white-space:nowrap}
progress{width:100%;height:1rem}
figure.chart{margin:0}
.series-signups{stroke:var(--accent)}.series-confirmations{stroke:var(--ok)}.series-unsubscribes{stroke:var(--err)}
input[type=password]{width:100%;font:inherit;padding:.6rem .75rem;border:1px solid var(--line);border-radius:8px;background:var(--card);color:var(--fg)}
`;

export function page(p: PageShell): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${p.title} · ${p.siteName}</title>
<style nonce="${p.nonce}">${raw(SITE_CSS)}</style>
${p.head ?? ""}
</head>
<body class="${p.framed ? "framed" : p.wide ? "wide" : ""}">
<main>
<div class="card">
${p.body}
</div>
</main>
</body>
</html>`;
}
