import type { Paper } from "../papers/paper";

export const DEFAULT_DIGEST_SIZE = 10;

/**
 * Picks the papers: dedupe by id (keeping the most upvoted copy), drop withdrawn papers and papers
 * sent in an earlier issue, rank by upvotes. Ties are broken deterministically — more comments, then the
 * earlier arrival on Daily Papers, then the id — so a re-run picks the same papers in the same order.
 */
export function selectPapers(
  papers: Paper[],
  opts: { alreadySent?: ReadonlySet<string>; size?: number } = {},
): Paper[] {
  return rankPapers(papers, opts.alreadySent).slice(0, opts.size ?? DEFAULT_DIGEST_SIZE);
}

/** Every paper of the week that may go out, best first (the top of the list is the issue; the rest its pool). */
export function rankPapers(papers: Paper[], alreadySent?: ReadonlySet<string>): Paper[] {
  const byId = new Map<string, Paper>();
  for (const p of papers) {
    const prev = byId.get(p.id);
    const best = !prev || p.upvotes > prev.upvotes ? p : prev;
    // A paper withdrawn in any of its copies stays withdrawn.
    byId.set(p.id, { ...best, withdrawn: p.withdrawn || (prev?.withdrawn ?? false) });
  }
  return [...byId.values()]
    .filter((p) => !p.withdrawn && !alreadySent?.has(p.id))
    .sort(
      (a, b) =>
        b.upvotes - a.upvotes ||
        b.numComments - a.numComments ||
        (a.submittedOnDailyAt ?? "").localeCompare(b.submittedOnDailyAt ?? "") ||
        a.id.localeCompare(b.id),
    );
}
