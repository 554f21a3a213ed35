import { type Context, Hono } from "hono";
import { validator } from "hono/validator";
import { archiveList } from "../../templates/archive";
import { digestWebPage } from "../../templates/digest";
import { atomFeed } from "../../templates/feed";
import type { Config } from "../config";
import { CADENCES, type Cadence } from "../db/schema";
import { type Edition, parseEdition } from "../digest/cadence";
import { listPublished } from "../digest/issues";
import { applyPolicy, secure } from "../lib/headers";
import { ApiError, type AppEnv } from "../lib/http";
import type { Paper } from "../papers/paper";
import { render } from "./render";

/** The public archive, mounted at /archive: every issue and daily edition that went out, and its web version. */
export const archive = new Hono<AppEnv>();

/** The Atom feeds of the latest editions, with full content: weekly at /feed.xml (and /feed/weekly.xml), daily at /feed/daily.xml. */
export const feed = new Hono<AppEnv>();

/** An edition's web version: the email without personal links. */
const webVersion = (cfg: Config, e: Edition, papers: Paper[], archiveUrl: string) =>
  digestWebPage({
    name: cfg.newsletterName,
    week: e.key,
    cadence: e.cadence,
    dateRange: e.label,
    papers,
    archiveUrl,
    homeUrl: cfg.publicUrl.toString(),
    postalAddress: cfg.postalAddress,
  });

/** `?cadence=weekly|daily` narrows a list; absent lists both. */
const cadenceQuery = validator("query", ({ cadence }) => {
  if (cadence === undefined || cadence === "") return { cadence: undefined };
  if (typeof cadence === "string" && (CADENCES as readonly string[]).includes(cadence))
    return { cadence: cadence as Cadence };
  throw new ApiError(400, "invalid_cadence", 'The cadence is "weekly" or "daily" (or leave it out for both).');
});

/** Published editions, newest first: ordered by the last day they cover (a weekly issue after that week's days). */
async function published(d1: D1Database, opts: { limit: number; cadence?: Cadence }) {
  const rows = await listPublished(d1, opts);
  const last = (key: string) => `${parseEdition(key)?.days.at(-1) ?? ""}${key.includes("W") ? "W" : ""}`;
  return rows.sort((a, b) => last(b.week).localeCompare(last(a.week)));
}

archive.get("/", secure("page"), cadenceQuery, async (c) => {
  const { cadence } = c.req.valid("query");
  const results = await published(c.env.DB, { limit: 520, cadence });
  c.header("Cache-Control", "public, max-age=300");
  return render(
    c,
    "Archive",
    archiveList(
      c.get("cfg").newsletterName,
      results.flatMap((r) => {
        const e = parseEdition(r.week);
        return e ? [{ week: r.week, cadence: e.cadence, dateRange: e.label, subject: r.subject }] : [];
      }),
      cadence,
    ),
  );
});

const publishedEdition = validator("param", ({ week = "" }) => {
  const edition = parseEdition(week);
  if (!edition) throw new ApiError(404, "not_found", "No issue for that week or day.");
  return { edition };
});

archive.get("/:week", publishedEdition, async (c) => {
  const { edition } = c.req.valid("param");
  const [row] = await listPublished(c.env.DB, { limit: 1, week: edition.key });
  if (!row?.papers) throw new ApiError(404, "not_found", "No issue for that week or day.");
  const cfg = c.get("cfg");
  const url = new URL(`/archive/${edition.key}`, cfg.publicUrl).toString();
  const page = await webVersion(cfg, edition, row.papers, url);
  applyPolicy(c, "archive");
  c.header("Cache-Control", "public, max-age=3600");
  return c.html(page);
});

/** The feed of one cadence's editions. */
export const feedOf = (cadence: Cadence, path: string) => async (c: Context<AppEnv>) => {
  const cfg = c.get("cfg");
  const results = await published(c.env.DB, { limit: 20, cadence });
  const base = cfg.publicUrl;
  const entries = await Promise.all(
    results.map(async (r) => {
      const url = new URL(`/archive/${r.week}`, base).toString();
      return {
        url,
        title: r.subject,
        updated: r.finishedAt ?? r.startedAt,
        content: await webVersion(cfg, parseEdition(r.week)!, r.papers ?? [], url),
      };
    }),
  );
  const xml = atomFeed({
    name: cadence === "daily" ? `${cfg.newsletterName} (daily)` : cfg.newsletterName,
    selfUrl: new URL(path, base).toString(),
    archiveUrl: new URL(`/archive?cadence=${cadence}`, base).toString(),
    entries,
  });
  c.header("Cache-Control", "public, max-age=600");
  return c.body(xml, 200, { "Content-Type": "application/atom+xml; charset=utf-8" });
};

feed.get("/feed.xml", feedOf("weekly", "/feed.xml"));
feed.get("/feed/weekly.xml", feedOf("weekly", "/feed/weekly.xml"));
feed.get("/feed/daily.xml", feedOf("daily", "/feed/daily.xml"));
