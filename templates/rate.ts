import { html } from "hono/html";
import type { Html } from "./page";

/** The pages behind a digest's "more like this" / "less like this" links. */

export type RateDirection = "more" | "less";

export interface RatePromptModel {
  /** The form's action: the link itself, built from PUBLIC_URL and the token. */
  action: string;
  week: string;
  paperId: string;
  title: string;
  direction: RateDirection;
  /** The reader's current rating of this paper, if any. */
  current: RateDirection | null;
  name: string;
}

const effect = (d: RateDirection) =>
  d === "more"
    ? "You'll see more papers like this in your For you section."
    : "You'll see fewer papers like this in your For you section.";

const label = (d: RateDirection) => (d === "more" ? "More like this" : "Less like this");

/** One button, nothing submitted by itself: a link scanner that opens (and even runs) the page rates nothing. */
export const ratePrompt = (m: RatePromptModel): Html => html`<h1>${label(m.direction)}?</h1>
<p><strong>${m.title}</strong></p>
<p>${effect(m.direction)}</p>
${
  m.current === m.direction
    ? html`<p class="muted">You already rated this paper this way: pressing the button again changes nothing.</p>`
    : m.current
      ? html`<p class="muted">This replaces your earlier “${label(m.current).toLowerCase()}” on this paper.</p>`
      : ""
}
<form method="post" action="${m.action}">
<input type="hidden" name="w" value="${m.week}">
<input type="hidden" name="p" value="${m.paperId}">
<input type="hidden" name="d" value="${m.direction}">
<button type="submit">${label(m.direction)}</button>
</form>
<footer class="muted">${m.name}</footer>`;

export interface RatedModel {
  title: string;
  direction: RateDirection;
  previous: RateDirection | null;
  /** False when the reader had already rated the paper this way. */
  changed: boolean;
  /** What the rating moved, as readers see it: topic names and the paper's keywords. */
  topics: string[];
  keywords: string[];
  name: string;
}

const list = (xs: string[]) =>
  xs.length <= 1 ? (xs[0] ?? "") : `${xs.slice(0, -1).join(", ")} and ${xs[xs.length - 1]}`;

function learned(m: RatedModel): Html {
  if (!m.topics.length && !m.keywords.length)
    return html`<p>This paper has no topics or keywords to learn from, so your For you section stays as it was. The rating is kept.</p>`;
  const about = [
    m.topics.length ? `on ${list(m.topics)}` : "",
    m.keywords.length ? `about ${list(m.keywords)}` : "",
  ].filter(Boolean);
  return html`<p>Papers ${about.join(" or ")} will rank ${m.direction === "more" ? "higher" : "lower"} in your For you section.</p>`;
}

export const ratedPage = (m: RatedModel): Html => html`<h1>${
  m.changed ? (m.direction === "more" ? "Noted: more like this" : "Noted: less like this") : "Already noted"
}</h1>
<p><strong>${m.title}</strong></p>
${
  m.changed
    ? html`${learned(m)}${
        m.previous ? html`<p class="muted">This replaces your earlier “${label(m.previous).toLowerCase()}”.</p>` : ""
      }`
    : html`<p>You had already rated this paper “${label(m.direction).toLowerCase()}”: nothing changed.</p>`
}
<p class="muted">The last rating of a paper is the one that counts: you can change your mind from the same email.</p>
<footer class="muted">${m.name}</footer>`;
