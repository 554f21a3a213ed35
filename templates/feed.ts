/** The Atom feed (RFC 4287) of the latest issues, each carrying its whole web version as HTML content. */
export interface FeedModel {
  name: string;
  /** The feed's own URL: its id and rel="self" link. */
  selfUrl: string;
  archiveUrl: string;
  entries: FeedEntry[];
}

export interface FeedEntry {
  /** The web version: the entry's id and rel="alternate" link. */
  url: string;
  title: string;
  /** Unix ms. */
  updated: number;
  /** The web version's HTML, escaped into the entry. */
  content: string;
}

/** XML text: escaped, and stripped of what XML 1.0 cannot carry at all (C0 controls but tab, LF, CR; lone surrogates). */
const xml = (s: string) =>
  s
    .toWellFormed()
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "")
    .replace(/[<>&'"]/g, (ch) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[ch]!);

const iso = (ms: number) => new Date(ms).toISOString();

/** The feed is as new as its newest entry (the epoch when there is none). */
export function atomFeed(f: FeedModel): string {
  const entries = f.entries.map(
    (e) =>
      `<entry><id>${xml(e.url)}</id><title>${xml(e.title)}</title><link rel="alternate" type="text/html" href="${xml(e.url)}"/><updated>${iso(e.updated)}</updated><content type="html">${xml(e.content)}</content></entry>`,
  );
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>${xml(f.selfUrl)}</id><title>${xml(f.name)}</title><updated>${iso(f.entries[0]?.updated ?? 0)}</updated><author><name>${xml(f.name)}</name></author><link rel="self" href="${xml(f.selfUrl)}"/><link rel="alternate" type="text/html" href="${xml(f.archiveUrl)}"/>${entries.join("")}</feed>`;
}
