import { html } from "hono/html";
import type { Html } from "./page";

export interface ActivityRow {
  week: string;
  signups: number;
  confirmations: number;
  unsubscribes: number;
}

/** Drawing area inside the 640×220 viewBox: y axis labels on the left, week labels and the legend below. */
export const PLOT = { left: 44, right: 628, top: 12, bottom: 168 } as const;

/** The three series: distinct dash patterns, so they differ without colour too (page CSS may colour the classes). */
const SERIES = [
  { key: "signups", label: "Signups", dash: "" },
  { key: "confirmations", label: "Confirmations", dash: "8 4" },
  { key: "unsubscribes", label: "Unsubscribes", dash: "2 3" },
] as const;

/** The smallest step of 1, 2 or 5 × 10ⁿ leaving at most 3 gridlines above zero. */
function tickStep(max: number) {
  for (let p = 1; ; p *= 10) for (const m of [1, 2, 5]) if (max / (m * p) < 4) return m * p;
}

const fmt = (n: number) => String(Math.round(n * 10) / 10);

/**
 * Weekly activity as an inline SVG line chart (no script, currentColor for both colour schemes) with its data in a
 * table beside it. `id` prefixes the SVG's ids; give each chart on a page its own (by default, from the title).
 */
export function activityChart(rows: ActivityRow[], title: string, id = slug(title)): Html {
  const max = Math.max(1, ...rows.flatMap((r) => [r.signups, r.confirmations, r.unsubscribes]));
  const step = tickStep(max);
  const ticks = Array.from({ length: Math.floor(max / step) + 1 }, (_, i) => i * step);
  const n = rows.length;
  const x = (i: number) =>
    n > 1 ? PLOT.left + (i * (PLOT.right - PLOT.left)) / (n - 1) : (PLOT.left + PLOT.right) / 2;
  const y = (v: number) => PLOT.bottom - (v / max) * (PLOT.bottom - PLOT.top);
  const titleId = `${id}-title`;
  const descId = `${id}-desc`;
  return html`<figure class="chart">
<svg role="img" aria-labelledby="${titleId} ${descId}" viewBox="0 0 640 220" width="100%" font-size="11" fill="currentColor">
<title id="${titleId}">${title}</title>
<desc id="${descId}">Signups, confirmations and unsubscribes per week, ${rows[0]?.week ?? ""} to ${rows[n - 1]?.week ?? ""}; the data table follows.</desc>
<g class="grid" stroke="currentColor" stroke-opacity="0.25">${ticks.map(
    (t) => html`<line x1="${PLOT.left}" x2="${PLOT.right}" y1="${fmt(y(t))}" y2="${fmt(y(t))}"/>`,
  )}</g>
<g class="y-labels" text-anchor="end">${ticks.map(
    (t) => html`<text x="${PLOT.left - 6}" y="${fmt(y(t) + 4)}">${t}</text>`,
  )}</g>
<g class="x-labels" text-anchor="middle">${rows.map((r, i) =>
    (n - 1 - i) % 4 === 0 ? html`<text x="${fmt(x(i))}" y="${PLOT.bottom + 16}">${r.week.slice(5)}</text>` : "",
  )}</g>
${SERIES.map(
  (s) =>
    html`<polyline class="series-${s.key}" fill="none" stroke="currentColor" stroke-width="2"${dash(s.dash)} points="${rows
      .map((r, i) => `${fmt(x(i))},${fmt(y(r[s.key]))}`)
      .join(" ")}"/>`,
)}
<g class="legend">${SERIES.map(
    (s, i) =>
      html`<line class="series-${s.key}" x1="${PLOT.left + i * 150}" x2="${PLOT.left + i * 150 + 28}" y1="206" y2="206" stroke="currentColor" stroke-width="2"${dash(s.dash)}/><text x="${PLOT.left + i * 150 + 34}" y="210">${s.label}</text>`,
  )}</g>
</svg>
<details><summary>Data table</summary>
<table>
<caption>${title}</caption>
<thead><tr><th scope="col">Week</th><th scope="col">Signups</th><th scope="col">Confirmations</th><th scope="col">Unsubscribes</th></tr></thead>
<tbody>
${rows.map(
  (r) =>
    html`<tr><th scope="row">${r.week}</th><td>${r.signups}</td><td>${r.confirmations}</td><td>${r.unsubscribes}</td></tr>
`,
)}</tbody>
</table>
</details>
</figure>`;
}

const dash = (d: string) => (d ? html` stroke-dasharray="${d}"` : "");

const slug = (s: string) =>
  `chart-${
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "") || "x"
  }`;
