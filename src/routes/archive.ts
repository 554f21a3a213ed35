import { Hono } from "hono";
import { validator } from "hono/validator";
import { archiveList } from "../../templates/archive";
import { digestWebPage } from "../../templates/digest";
import { atomFeed } from "../../templates/feed";
import type { Config } from "../config";
import { listPublished } from "../digest/issues";
import { applyPolicy, secure } from "../lib/headers";
import { ApiError, type AppEnv } from "../lib/http";
import { dateRange, parseWeek } from "../lib/week";
import type { Paper } from "../papers/paper";
import { render } from "./render";

/** The public archive, mounted at /archive: every issue that went out and its web version. */
export const archive = new Hono<AppEnv>();

/** The Atom feed of the latest issues, with full content, mounted at /feed.xml. */
export const feed = new Hono<AppEnv>();

/** An issue's web version: the email without personal links. */
const webVersion = (cfg: Config, week: string, papers: Paper[], archiveUrl: string) =>
  digestWebPage({
    name: cfg.newsletterName,
    week,
    dateRange: dateRange(week),
    papers,
    archiveUrl,
    homeUrl: cfg.publicUrl.toString(),
    postalAddress: cfg.postalAddress,
  });

archive.get("/", secure("page"), async (c) => {
  const results = await listPublished(c.env.DB, { limit: 520 });
  c.header("Cache-Control", "public, max-age=300");
  return render(
    c,
    "Archive",
    archiveList(
      c.get("cfg").newsletterName,
      results.map((r) => ({ week: r.week, dateRange: dateRange(r.week), subject: r.subject })),
    ),
  );
});

const publishedWeek = validator("param", ({ week = "" }) => {
  if (!parseWeek(week)) throw new ApiError(404, "not_found", "No issue for that week.");
  return { week };
});

archive.get("/:week", publishedWeek, async (c) => {
  const { week } = c.req.valid("param");
  const [row] = await listPublished(c.env.DB, { limit: 1, week });
  if (!row?.papers) throw new ApiError(404, "not_found", "No issue for that week.");
  const cfg = c.get("cfg");
  const page = await webVersion(cfg, week, row.papers, new URL(`/archive/${week}`, cfg.publicUrl).toString());
  applyPolicy(c, "archive");
  c.header("Cache-Control", "public, max-age=3600");
  return c.html(page);
});

feed.get("/", async (c) => {
  const cfg = c.get("cfg");
  const results = await listPublished(c.env.DB, { limit: 20 });
  const base = cfg.publicUrl;
  const entries = await Promise.all(
    results.map(async (r) => {
      const url = new URL(`/archive/${r.week}`, base).toString();
      return {
        url,
        title: r.subject,
        updated: r.finishedAt ?? r.startedAt,
        content: await webVersion(cfg, r.week, r.papers ?? [], url),
      };
    }),
  );
  const feed = atomFeed({
    name: cfg.newsletterName,
    selfUrl: new URL("/feed.xml", base).toString(),
    archiveUrl: new URL("/archive", base).toString(),
    entries,
  });
  c.header("Cache-Control", "public, max-age=600");
  return c.body(feed, 200, { "Content-Type": "application/atom+xml; charset=utf-8" });
});
