import { type Context, Hono } from "hono";
import { CADENCE_NAMES, erasedPage, managePage } from "../../templates/pages";
import { eraseSubscriber, exportSubscriber } from "../db/privacy";
import type { Subscriber } from "../db/schema";
import {
  type DB,
  database,
  getSubscriber,
  resubscribe,
  setCadence,
  setPause,
  setTopics,
  unsubscribe,
} from "../db/subscribers";
import { cadenceFor } from "../digest/cadence";
import { readBody } from "../lib/body";
import { noStore, secure } from "../lib/headers";
import { ApiError, type AppEnv, limitBody, PageError } from "../lib/http";
import { dayLabel, formatWeek, isoWeekOf, parseWeek, weekDays } from "../lib/week";
import { cadenceField, topicsField } from "./choices";
import { type LinkEnv, personalLink, type TokenParam } from "./guards";
import { render } from "./render";

/** The preferences page behind each subscriber's manage link: topics, pause for N weeks, resume, unsubscribe. */
export const manage = new Hono<AppEnv>();

const WEEK_MS = 7 * 24 * 3600 * 1000;
export const MAX_PAUSE_WEEKS = 12;

manage.use(secure("page"));

/** The page for a subscriber: the row the link check already read, or (after an action) read again. */
async function show(c: Context<LinkEnv, string, TokenParam>, db: DB, who: number | Subscriber, notice?: string) {
  const cfg = c.get("cfg");
  const sub = typeof who === "number" ? await getSubscriber(db, who) : who;
  if (!sub)
    throw new PageError(
      404,
      "not_found",
      { title: "Not found", heading: "Subscription not found", retry: { path: "/", label: "Subscribe" } },
      "This subscription no longer exists. You can sign up again at any time.",
    );
  // Built from PUBLIC_URL and the token alone: whatever query string the link was opened with, the forms and the data
  // link point at the page itself.
  const action = new URL(`/manage/${c.req.valid("param").token}`, cfg.publicUrl).toString();
  return render(
    c,
    "Your subscription",
    managePage({
      action,
      name: cfg.newsletterName,
      email: sub.email,
      status: sub.status,
      pausedUntil: sub.pausedUntil,
      topics: sub.topics ?? [],
      cadence: cadenceView(sub, Date.now()),
      notice,
    }),
  );
}

/**
 * The reader's cadence for the page: the one chosen, the one this week's papers follow, and the Monday from which a
 * switch made this week applies (src/digest/cadence.ts), or null when none waits.
 */
function cadenceView(sub: Subscriber, now: number) {
  const week = formatWeek(isoWeekOf(new Date(now)));
  const waiting = sub.cadenceFrom !== null && sub.cadenceFrom > week ? parseWeek(sub.cadenceFrom) : null;
  return {
    chosen: sub.cadence,
    now: cadenceFor(sub, week),
    switchFrom: waiting ? dayLabel(weekDays(waiting)[0]!) : null,
  };
}

manage.get("/:token", personalLink("manage"), async (c) => show(c, database(c.env.DB), c.get("link").sub));

/** Download my data: a GET that changes nothing. */
manage.get("/:token/data.json", personalLink("manage"), async (c) => {
  const data = await exportSubscriber(c.env.DB, c.get("link").sub.id);
  if (!data) throw new ApiError(404, "not_found", "This subscription no longer exists.");
  noStore(c);
  c.header("Content-Disposition", 'attachment; filename="my-newsletter-data.json"');
  return c.json(data);
});

manage.post("/:token", limitBody(4096), personalLink("manage"), async (c) => {
  const { sub } = c.get("link");
  const body = await readBody(c, ["topics", "cadence"]);
  const { fields, lists } = body;
  const db = database(c.env.DB);
  const now = Date.now();
  switch (fields.action) {
    case "topics":
      // No box ticked sends no field at all: that is the choice "none".
      await setTopics(db, sub.id, topicsField(lists.topics));
      return show(c, db, sub.id, "Saved: your topics are updated.");
    case "cadence": {
      // No radio chosen sends no field: asked to save a cadence, that is a 422 like any other value.
      const to = cadenceField({ ...body, lists: { cadence: lists.cadence ?? [] } }) ?? sub.cadence;
      if (sub.status !== "active" && sub.status !== "pending")
        throw new ApiError(
          409,
          "not_subscribed",
          "Resubscribe first: how often is a choice for readers who get the newsletter.",
        );
      const changed = await setCadence(db, sub.id, to, now);
      const after = await getSubscriber(db, sub.id);
      const waits = after ? cadenceView(after, now).switchFrom : null;
      const notice = !changed
        ? `Nothing to change: you chose ${CADENCE_NAMES[to]}.`
        : waits
          ? `Saved: you get ${CADENCE_NAMES[to]} from the papers of the week of ${waits}.`
          : `Saved: you get ${CADENCE_NAMES[to]}.`;
      return show(c, db, after ?? sub.id, notice);
    }
    case "pause": {
      const weeks = Number(fields.weeks);
      if (!Number.isInteger(weeks) || weeks < 1 || weeks > MAX_PAUSE_WEEKS)
        throw new ApiError(422, "invalid_weeks", `Choose a pause between 1 and ${MAX_PAUSE_WEEKS} weeks.`);
      await setPause(db, sub.id, now + weeks * WEEK_MS);
      return show(c, db, sub.id, `Paused for ${weeks} week${weeks > 1 ? "s" : ""}.`);
    }
    case "resume":
      await setPause(db, sub.id, null);
      return show(c, db, sub.id, "Welcome back: the digest resumes next Monday.");
    case "unsubscribe":
      await unsubscribe(db, sub.id, now);
      return show(c, db, sub.id, "You are unsubscribed.");
    case "resubscribe":
      await resubscribe(db, sub.id, now);
      return show(c, db, sub.id, "You are subscribed again.");
    case "erase":
      if (fields.confirm !== "yes")
        throw new ApiError(422, "confirm_required", "Tick the box to confirm that everything should be deleted.");
      await eraseSubscriber(c.env.DB, sub.id, now);
      return render(c, "Data erased", erasedPage(new URL("/", c.get("cfg").publicUrl).toString()));
    default:
      throw new ApiError(
        422,
        "invalid_action",
        "Unknown action: choose topics, cadence, pause, resume, unsubscribe, resubscribe or erase.",
      );
  }
});
