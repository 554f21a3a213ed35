import { type DigestModel, digestEmail } from "../../templates/digest";
import type { Config } from "../config";
import { parseWeek } from "../lib/week";
import type { Paper } from "../papers/paper";
import { paperSource } from "../papers/source";
import { type Edition, parseEdition } from "./cadence";
import { markBuilt, markSkipped } from "./issues";
import { rankPapers } from "./select";
import { type MeteredDb, sentPaperIds } from "./store";

/** An issue's content: which papers it picks, how it reads, and freezing both on the issue. No sending here. */

/**
 * The issue as an email. Without `links` (the stored copy, previews, test sends) the personal links point at the
 * newsletter's home page and there are no rating links; a recipient's email gets their own (src/digest/emails.ts),
 * and a reader with preferences their "For you" section.
 */
export async function renderIssue(
  cfg: Config,
  week: string,
  papers: Paper[],
  opts: { links?: DigestModel["links"]; forYou?: DigestModel["forYou"] } = {},
) {
  const home = cfg.publicUrl.toString();
  const edition = parseEdition(week)!;
  return digestEmail({
    links: opts.links ?? { unsubscribe: home, manage: home },
    forYou: opts.forYou,
    name: cfg.newsletterName,
    week,
    cadence: edition.cadence,
    dateRange: edition.label,
    papers,
    archiveUrl: new URL(`/archive/${week}`, cfg.publicUrl).toString(),
    homeUrl: cfg.publicUrl.toString(),
    postalAddress: cfg.postalAddress,
  });
}

/** At most this many of the edition's other papers are kept for "For you" (it bounds the issue row and the fan-out's work). */
export const POOL_SIZE = 100;

/** The edition's papers as the issue would pick them now (used by the build and by previews). */
export async function pickPapers(cfg: Config, db: MeteredDb, week: string) {
  return (await pickIssue(cfg, db, week)).papers;
}

/**
 * The issue's papers (the global top) and its pool: the edition's next best new papers, for "For you" sections.
 * Papers an earlier edition of the same cadence sent are left out: "never a paper twice" holds per stream.
 */
export async function pickIssue(cfg: Config, db: MeteredDb, week: string) {
  const edition = parseEdition(week)!;
  const ranked = rankPapers(await editionPapers(cfg, edition), await sentPaperIds(db, edition));
  return { papers: ranked.slice(0, cfg.digestSize), pool: ranked.slice(cfg.digestSize, cfg.digestSize + POOL_SIZE) };
}

const editionPapers = (cfg: Config, e: Edition) =>
  e.cadence === "daily" ? paperSource(cfg).day(e.days[0]!) : paperSource(cfg).week(parseWeek(e.key)!);

/**
 * Builds the issue (status building): picks its papers and freezes them with the rendered content, so a re-run, the
 * archive and the feed all show what was sent. False when the week has no papers (the issue is skipped).
 */
export async function buildIssue(cfg: Config, db: MeteredDb, week: string): Promise<boolean> {
  const { papers, pool } = await pickIssue(cfg, db, week);
  if (papers.length === 0) {
    await db.batch([markSkipped(week, Date.now())]);
    return false;
  }
  await db.batch([markBuilt(week, await renderIssue(cfg, week, papers), papers, pool)]);
  return true;
}
