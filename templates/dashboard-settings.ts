import { html } from "hono/html";
import type { Html } from "./page";

/** The dashboard's settings page: a production checklist, the effective configuration, and which secrets are set. */

export type CheckState = "ok" | "missing" | "check by hand" | "optional" | "recommended";

export interface Check {
  name: string;
  state: CheckState;
  /** One line: what it means, or what to do about it. */
  todo: string;
}

export interface SettingsModel {
  overview: string;
  checks: Check[];
  /** Non-secret settings with their effective values. */
  settings: [name: string, value: string][];
  /** Secrets by name, only whether each is set. */
  secrets: [name: string, set: boolean][];
}

const stateClass = (s: CheckState) => (s === "ok" ? "ok" : s === "missing" ? "err" : "muted");

export const settingsPage = (m: SettingsModel): Html => html`<p><a href="${m.overview}">Overview</a></p>
<h1>Settings</h1>
<h2>Production checklist</h2>
<div class="scroll" role="region" aria-label="Production checklist" tabindex="0"><table>
<caption class="muted">What can be checked from inside the Worker is marked ok or missing; the rest is checked by hand</caption>
<thead><tr><th scope="col">Item</th><th scope="col">State</th><th scope="col">What to do</th></tr></thead>
<tbody>
${m.checks.map(
  (k) =>
    html`<tr><th scope="row">${k.name}</th><td class="${stateClass(k.state)}">${k.state}</td><td>${k.todo}</td></tr>
`,
)}</tbody></table></div>
<h2>Configuration</h2>
<div class="scroll" role="region" aria-label="Configuration" tabindex="0"><table>
<caption class="muted">Effective values, defaults applied</caption>
<thead><tr><th scope="col">Variable</th><th scope="col">Value</th></tr></thead>
<tbody>
${m.settings.map(
  ([name, value]) => html`<tr><th scope="row">${name}</th><td>${value}</td></tr>
`,
)}</tbody></table></div>
<h2>Secrets</h2>
<div class="scroll" role="region" aria-label="Secrets" tabindex="0"><table>
<caption class="muted">Only whether each is set; values are never shown</caption>
<thead><tr><th scope="col">Secret</th><th scope="col">State</th></tr></thead>
<tbody>
${m.secrets.map(
  ([name, set]) =>
    html`<tr><th scope="row">${name}</th><td class="${set ? "ok" : "muted"}">${set ? "set" : "not set"}</td></tr>
`,
)}</tbody></table></div>`;
