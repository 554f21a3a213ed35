import { digestEmail } from "../../templates/digest";
import type { Config } from "../config";
import { HuggingFaceSource, type PaperSource } from "../papers/huggingface";
import type { Paper } from "../papers/paper";
import { sampleSource } from "../papers/sample";
import { selectPapers } from "./select";
import { type MeteredDb, sentPaperIds } from "./store";
import { parseWeek, weekDays } from "./week";

/** An issue's content: where its papers come from, which it picks, and how it reads. No sending here. */

export const paperSource = (cfg: Config): PaperSource =>
  cfg.papersSource === "sample" ? sampleSource : new HuggingFaceSource({ baseUrl: cfg.hfApiUrl, token: cfg.hfToken });

export function dateRange(week: string): string {
  const w = parseWeek(week)!;
  const days = weekDays(w).map((d) => new Date(`${d}T00:00:00Z`));
  const first = days[0]!;
  const last = days[6]!;
  const day = (d: Date, withMonth: boolean) =>
    d.toLocaleDateString("en-GB", { day: "numeric", ...(withMonth ? { month: "long" } : {}), timeZone: "UTC" });
  const sameMonth = first.getUTCMonth() === last.getUTCMonth();
  return `${day(first, !sameMonth)}–${day(last, true)} ${last.getUTCFullYear()}`;
}

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
