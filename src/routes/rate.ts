import { Hono } from "hono";
import { ratedPage, ratePrompt } from "../../templates/rate";
import { parseEdition } from "../digest/cadence";
import {
  canRate,
  currentRating,
  type Direction,
  directionOf,
  findRatedPaper,
  RATING,
  type RatedPaper,
  recordRating,
} from "../digest/ratings";
import { readFields } from "../lib/body";
import { secure } from "../lib/headers";
import { type AppEnv, limitBody, PageError } from "../lib/http";
import { TOPICS } from "../papers/topics";
import { goneLink, personalLink } from "./guards";
import { render } from "./render";

/**
 * A digest's "more like this" / "less like this" links: /rate/<token>?w=<week>&p=<paper>&d=more|less. The token
 * (purpose "rate") names the reader; the week, paper and direction are checked against the frozen papers.
 * - GET → a page with one button that posts the same values. Never changes state: scanners open every link.
 * - POST → records the rating (the last one counts; the same rating again changes nothing) and says what it changed.
 */
export const rate = new Hono<AppEnv>();

rate.use(secure("page"));

/** Longer than any arXiv id (2611.14207v12, hep-th/9901001v3): anything beyond is not a paper of ours. */
const MAX_PAPER_ID = 64;
const SHOWN_KEYWORDS = 5;

const toArchive = { path: "/archive", label: "See the archive" };

const incomplete = (message: string) =>
  new PageError(
    400,
    "invalid_rating",
    { title: "Invalid link", heading: "This rating link is not complete", retry: toArchive },
    message,
  );

const notFound = (message: string) =>
  new PageError(404, "paper_not_found", { title: "Not found", heading: "Paper not found", retry: toArchive }, message);

/** w, p and d, from the link's query (GET) or the button's form (POST). */
function wanted(fields: Record<string, string | undefined>) {
  const { w = "", p = "", d = "" } = fields;
  if (d !== "more" && d !== "less")
    throw incomplete("A rating says “more” or “less”. Copy the whole link from the email.");
  if (!parseEdition(w)) throw incomplete("The link does not name an issue. Copy the whole link from the email.");
  if (!p || p.length > MAX_PAPER_ID)
    throw incomplete("The link does not name a paper. Copy the whole link from the email.");
  return { week: w, paperId: p, direction: d as Direction };
}

async function paperOf(d1: D1Database, week: string, paperId: string): Promise<RatedPaper> {
  const found = await findRatedPaper(d1, week, paperId);
  if (found.ok) return found.paper;
  throw notFound(
    found.reason === "no_issue"
      ? `There is no issue for ${week} that could have carried this link.`
      : `This paper is not in the ${week} issue.`,
  );
}

const topicNames = new Map<string, string>(TOPICS.map((t) => [t.id, t.name]));

rate.get("/:token", personalLink("rate"), async (c) => {
  const cfg = c.get("cfg");
  const { sub } = c.get("link");
  const want = wanted(c.req.query());
  if (!canRate(sub.status)) throw goneLink();
  const paper = await paperOf(c.env.DB, want.week, want.paperId);
  const current = await currentRating(c.env.DB, sub.id, paper.id);
  return render(
    c,
    "Rate a paper",
    ratePrompt({
      // Built from PUBLIC_URL and the token alone: the values ride in the form, checked again by the POST.
      action: new URL(`/rate/${c.req.valid("param").token}`, cfg.publicUrl).toString(),
      week: want.week,
      paperId: paper.id,
      title: paper.title,
      direction: want.direction,
      current: current === null ? null : directionOf(current),
      name: cfg.newsletterName,
    }),
  );
});

rate.post("/:token", limitBody(2048), personalLink("rate"), async (c) => {
  const cfg = c.get("cfg");
  const { sub } = c.get("link");
  const want = wanted(await readFields(c));
  if (!canRate(sub.status)) throw goneLink();
  const paper = await paperOf(c.env.DB, want.week, want.paperId);
  const outcome = await recordRating(c.env.DB, sub.id, paper, want.week, RATING[want.direction]);
  if (outcome.kind === "gone") throw goneLink();
  if (outcome.kind === "busy")
    throw new PageError(
      503,
      "rating_busy",
      { title: "Please try again", heading: "Please try again", retry: toArchive },
      "Several ratings arrived at once and this one was not saved. Press the button again in a moment.",
    );
  return render(
    c,
    "Rating saved",
    ratedPage({
      title: paper.title,
      direction: want.direction,
      previous: outcome.previous === null ? null : directionOf(outcome.previous),
      changed: outcome.changed,
      topics: paper.topics.map((t) => topicNames.get(t) ?? t),
      keywords: paper.keywords.slice(0, SHOWN_KEYWORDS),
      name: cfg.newsletterName,
    }),
  );
});
