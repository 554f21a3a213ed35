import { prune } from "../db/privacy";
import { formatWeek, previousDay, previousWeek } from "../lib/week";
import { type Edition, parseEdition, receivesSql } from "./cadence";
import { getIssue, type Issue, startIssue } from "./issues";

/** wrangler.toml's crons. To change a time, change it there and here together. */
export const CRONS = { weekly: "0 8 * * 1", daily: "0 8 * * *", housekeeping: "0 3 * * *" } as const;

/**
 * Monday 08:00 UTC: the weekly issue of the ISO week that just ended. Every day at 08:00 UTC: the daily edition of
 * the UTC day that just ended, when someone reads daily. 03:00 UTC: housekeeping. Starting is idempotent per edition,
 * so a repeated trigger sends nothing new. Any other schedule starts the weekly issue (as before daily editions).
 */
export async function runSchedule(controller: ScheduledController, env: Env) {
  const at = new Date(controller.scheduledTime);
  if (controller.cron === CRONS.housekeeping) {
    console.log("housekeeping", await prune(env.DB, controller.scheduledTime));
    return;
  }
  if (controller.cron === CRONS.daily) {
    const day = previousDay(at);
    const issue = await startDailyEdition(env, day, controller.scheduledTime);
    console.log("digest: scheduled", { cron: controller.cron, day, status: issue?.status ?? "no daily readers" });
    return;
  }
  const week = formatWeek(previousWeek(at));
  const issue = await startIssue(env, week, controller.scheduledTime);
  console.log("digest: scheduled", { cron: controller.cron, week, status: issue.status });
}

/**
 * The cron's daily edition: started only when someone may receive it (one indexed read; an edition already started,
 * by an operator say, is resumed whatever). Null when nobody reads daily: no record, no call to Hugging Face, nothing
 * in the archive.
 */
export async function startDailyEdition(env: Env, day: string, now = Date.now()): Promise<Issue | null> {
  const edition = parseEdition(day)!;
  const known = await getIssue(env.DB, day);
  if (!known && !(await hasReaders(env.DB, edition, now))) return null;
  return startIssue(env, day, now);
}

const hasReaders = async (d1: D1Database, e: Edition, now: number) =>
  (await d1
    .prepare(
      `SELECT 1 FROM subscribers WHERE ${receivesSql(e.cadence)} AND (paused_until IS NULL OR paused_until <= ?) LIMIT 1`,
    )
    .bind(e.week, now)
    .first()) !== null;
