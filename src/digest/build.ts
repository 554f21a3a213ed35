import { digestEmail } from "../../templates/digest";
import type { Config } from "../config";
import { dateRange, parseWeek } from "../lib/week";
import type { Paper } from "../papers/paper";
import { paperSource } from "../papers/source";
import { markBuilt, markSkipped } from "./issues";
import { selectPapers } from "./select";
import { type MeteredDb, sentPaperIds } from "./store";

/** An issue's content: which papers it picks, how it reads, and freezing both on the issue. No sending here. */

/**
 * The issue as an email. Without `links` (the stored copy, previews, test sends) the personal links point at the
 * newsletter's home page; a recipient's email gets their own (src/digest/batch.ts).
 */
export async function renderIssue(
  cfg: Config,
  week: string,
  papers: Paper[],
  links?: { unsubscribe: string; manage: string },
) {
  const home = cfg.publicUrl.toString();
  return digestEmail({
    links: links ?? { unsubscribe: home, manage: home },
    name: cfg.newsletterName,
    week,
    dateRange: dateRange(week),
    papers,
    archiveUrl: new URL(`/archive/${week}`, cfg.publicUrl).toString(),
    homeUrl: cfg.publicUrl.toString(),
    postalAddress: cfg.postalAddress,
  });
}

/** The week's papers as the issue would pick them now (used by the build and by previews). */
export async function pickPapers(cfg: Config, db: MeteredDb, week: string) {
  const all = await paperSource(cfg).week(parseWeek(week)!);
  return selectPapers(all, { alreadySent: await sentPaperIds(db, week), size: cfg.digestSize });
}

/**
 * Builds the issue (status building): picks its papers and freezes them with the rendered content, so a re-run, the
 * archive and the feed all show what was sent. False when the week has no papers (the issue is skipped).
 */
export async function buildIssue(cfg: Config, db: MeteredDb, week: string): Promise<boolean> {
  const papers = await pickPapers(cfg, db, week);
  if (papers.length === 0) {
    await db.batch([markSkipped(week, Date.now())]);
    return false;
  }
  await db.batch([markBuilt(week, await renderIssue(cfg, week, papers), papers)]);
  return true;
}
