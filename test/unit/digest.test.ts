import { describe, expect, it } from "vitest";
import { selectPapers } from "../../src/digest/select";
import { dateRange, formatWeek, isoWeekOf, parseWeek, previousWeek, weekDays, weeksInYear } from "../../src/lib/week";
import { type Paper, parsePaper } from "../../src/papers/paper";
import { sampleItems, sampleSource } from "../../src/papers/sample";
import { authorLine, digestEmail, digestSubject, shorten } from "../../templates/digest";

const paper = (over: Partial<Paper>): Paper => ({
  id: "2611.00001",
  title: "A paper",
  summary: "An abstract.",
  authors: ["A. Author"],
  upvotes: 1,
  numComments: 0,
  publishedAt: null,
  submittedOnDailyAt: "2026-11-17T00:00:00.000Z",
  withdrawn: false,
  githubRepo: null,
  githubStars: null,
  projectPage: null,
  keywords: [],
  tldr: null,
  topics: [],
  ...over,
});

describe("ISO weeks", () => {
  it("numbers weeks like ISO 8601, including 2026's week 53", () => {
    expect(formatWeek(isoWeekOf(new Date("2026-11-23T08:00:00Z")))).toBe("2026-W48");
    expect(formatWeek(isoWeekOf(new Date("2026-12-31T12:00:00Z")))).toBe("2026-W53");
    expect(formatWeek(isoWeekOf(new Date("2027-01-03T12:00:00Z")))).toBe("2026-W53");
    expect(formatWeek(isoWeekOf(new Date("2027-01-04T00:00:00Z")))).toBe("2027-W01");
    expect(formatWeek(isoWeekOf(new Date("2021-01-01T00:00:00Z")))).toBe("2020-W53");
    expect(weeksInYear(2026)).toBe(53);
    expect(weeksInYear(2027)).toBe(52);
  });

  it("the cron's Monday 08:00 picks the week that just ended", () => {
    expect(formatWeek(previousWeek(new Date("2026-11-23T08:00:00Z")))).toBe("2026-W47");
    expect(formatWeek(previousWeek(new Date("2027-01-04T08:00:00Z")))).toBe("2026-W53");
    expect(formatWeek(previousWeek(new Date("2026-11-25T15:00:00Z")))).toBe("2026-W47");
  });

  it("parses and lists the days of a week", () => {
    expect(parseWeek("2026-W53")).toEqual({ year: 2026, week: 53 });
    expect(parseWeek("2027-W53")).toBeNull();
    expect(parseWeek("2026-W00")).toBeNull();
    expect(parseWeek("2026-47")).toBeNull();
    expect(weekDays({ year: 2026, week: 53 })).toEqual([
      "2026-12-28",
      "2026-12-29",
      "2026-12-30",
      "2026-12-31",
      "2027-01-01",
      "2027-01-02",
      "2027-01-03",
    ]);
    expect(dateRange("2026-W47")).toBe("16–22 November 2026");
    expect(dateRange("2026-W53")).toBe("28 December–3 January 2027");
  });
});

describe("parsePaper (lenient)", () => {
  it("reads the real shape, ignoring extra fields", () => {
    const [item] = sampleItems({ year: 2026, week: 47 });
    const p = parsePaper({ ...(item as object), organization: { name: "x" }, isUserFollowing: false })!;
    expect(p).toMatchObject({ id: "2611.47000", upvotes: 241, numComments: 12, githubStars: 1342, withdrawn: false });
    expect(p.authors.slice(0, 2)).toEqual(["Mira Okafor", "Jonas Lind"]);
  });

  it("tolerates missing optional fields and drops items without an id or title", () => {
    expect(parsePaper({ paper: { id: "2611.00002", title: "T" } })).toMatchObject({
      summary: "",
      authors: [],
      upvotes: 0,
      numComments: 0,
      githubRepo: null,
    });
    expect(parsePaper({ paper: { title: "no id" } })).toBeNull();
    expect(parsePaper({ paper: { id: "2611.00003" } })).toBeNull();
    expect(parsePaper({ paper: { id: "../../etc", title: "T" } })).toBeNull();
    expect(parsePaper(null)).toBeNull();
    expect(
      parsePaper({
        paper: {
          id: "2611.00004",
          title: "T",
          upvotes: "many",
          githubRepo: "javascript:alert(1)",
          authors: [{ name: "A", hidden: true }, { user: { fullname: "B" } }],
        },
      }),
    ).toMatchObject({
      upvotes: 0,
      githubRepo: null,
      authors: ["B"],
    });
  });

  it("reads ai_keywords and ai_summary as data, and classifies the paper", () => {
    const p = parsePaper({
      paper: {
        id: "2611.00006",
        title: "Gaussian Splatting in Real Time",
        ai_summary: "  One\nline\u0007 TL;DR.  ",
        ai_keywords: [
          " Gaussian\tSplatting ",
          "gaussian splatting",
          42,
          null,
          "",
          "Novel\u0000View Synthesis",
          "x".repeat(61),
          ...Array.from({ length: 20 }, (_, i) => `kw ${i}`),
        ],
      },
    })!;
    expect(p.keywords).toEqual([
      "gaussian splatting",
      "novel view synthesis",
      ...Array.from({ length: 10 }, (_, i) => `kw ${i}`),
    ]);
    expect(p.tldr).toBe("One line TL;DR.");
    expect(p.topics).toEqual(["3d"]);

    const long = parsePaper({
      paper: { id: "2611.00007", title: "T", ai_summary: "word ".repeat(100), ai_keywords: "not a list" },
    })!;
    expect(long.tldr!.length).toBeLessThanOrEqual(300);
    expect(long.tldr!.endsWith("word…")).toBe(true);
    expect(long.keywords).toEqual([]);
    expect(parsePaper({ paper: { id: "2611.00008", title: "T", ai_summary: " \n " } })).toMatchObject({
      tldr: null,
      keywords: [],
      topics: [],
    });
  });

  it("the sample week carries keywords, TL;DRs and topics, and one paper without them", async () => {
    const papers = await sampleSource.week({ year: 2026, week: 47 });
    const live = papers.filter((p) => !p.withdrawn);
    expect(live.filter((p) => p.keywords.length === 0 && p.tldr === null).length).toBeGreaterThanOrEqual(1);
    expect(live.filter((p) => p.topics.length > 0).length).toBeGreaterThan(live.length * 0.9);
    expect(papers.find((p) => p.title.startsWith("Diffusion Policies"))!.topics).toEqual(["robotics"]);
  });

  it("marks withdrawn papers and joins summary lines", () => {
    expect(
      parsePaper({ paper: { id: "2611.00005", title: "T", withdrawnAt: "2026-11-18T00:00:00Z", summary: "a\nb" } }),
    ).toMatchObject({ withdrawn: true, summary: "a b" });
  });
});

describe("selectPapers", () => {
  it("dedupes, drops withdrawn and already-sent papers, ranks by upvotes with deterministic ties", () => {
    const picked = selectPapers(
      [
        paper({ id: "2611.00001", upvotes: 10 }),
        paper({ id: "2611.00001", upvotes: 12 }),
        paper({ id: "2611.00002", upvotes: 50, withdrawn: true }),
        paper({ id: "2611.00003", upvotes: 30 }),
        paper({ id: "2611.00004", upvotes: 12, numComments: 5 }),
        paper({ id: "2611.00006", upvotes: 12, numComments: 5, submittedOnDailyAt: "2026-11-16T00:00:00.000Z" }),
        paper({ id: "2611.00005", upvotes: 40 }),
      ],
      { alreadySent: new Set(["2611.00005"]), size: 4 },
    );
    expect(picked.map((p) => [p.id, p.upvotes])).toEqual([
      ["2611.00003", 30],
      ["2611.00006", 12],
      ["2611.00004", 12],
      ["2611.00001", 12],
    ]);
  });

  it("a paper withdrawn in any copy stays out", () => {
    expect(selectPapers([paper({ upvotes: 5 }), paper({ upvotes: 1, withdrawn: true })])).toEqual([]);
  });

  it("the sample week has at least 30 papers and yields a full digest", async () => {
    const all = await sampleSource.week({ year: 2026, week: 47 });
    expect(new Set(all.map((p) => p.id)).size).toBeGreaterThanOrEqual(30);
    const picked = selectPapers(all);
    expect(picked).toHaveLength(10);
    expect(picked.some((p) => p.withdrawn)).toBe(false);
    expect(new Set(picked.map((p) => p.id)).size).toBe(10);
  });
});

describe("digest template", () => {
  const links = { unsubscribe: "https://n.example/unsubscribe/abc", manage: "https://n.example/manage/def" };
  const model = (papers: Paper[]) => ({
    name: "Trending Papers",
    week: "2026-W47",
    cadence: "weekly" as const,
    dateRange: "16–22 November 2026",
    papers,
    archiveUrl: "https://n.example/archive/2026-W47",
    homeUrl: "https://n.example/",
    links,
  });

  it("escapes every piece of external text", async () => {
    const evil = paper({
      title: `<script>alert("x")</script> & "quotes" 'n' ünïcødé 中文`,
      summary: "<img src=x onerror=alert(1)>",
      authors: ["<b>Mallory</b>"],
      projectPage: 'https://x.example/"onmouseover="alert(1)',
    });
    const { html, text } = await digestEmail(model([evil]));
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<b>Mallory");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;");
    expect(html).toContain("ünïcødé 中文");
    expect(html).not.toContain('"onmouseover="');
    expect(text).toContain(`<script>alert("x")</script>`); // plain text is not markup
  });

  it("links each paper to Hugging Face, arXiv, PDF, code (with stars) and project page", async () => {
    const p = paper({
      id: "2611.12345",
      githubRepo: "https://github.com/a/b",
      githubStars: 1234,
      projectPage: "https://p.example/",
    });
    const { html, text } = await digestEmail(model([p]));
    for (const href of [
      "https://huggingface.co/papers/2611.12345",
      "https://arxiv.org/abs/2611.12345",
      "https://arxiv.org/pdf/2611.12345",
      "https://github.com/a/b",
      "https://p.example/",
    ]) {
      expect(html).toContain(`href="${href}"`);
      expect(text).toContain(href);
    }
    expect(html).toContain("Code (★ 1,234)");
    expect(html).toContain(`href="${links.unsubscribe}"`);
    expect(html).toContain(`href="${links.manage}"`);
    expect(html).toContain('href="https://n.example/archive/2026-W47"');
    expect(html).toContain('<html lang="en">');
  });

  it("shortens long abstracts cleanly and lists the first authors", () => {
    const long = "First sentence is here. ".repeat(30);
    const s = shorten(long);
    expect(s.length).toBeLessThanOrEqual(320);
    expect(s.endsWith(".")).toBe(true);
    const words = shorten("word ".repeat(200));
    expect(words.endsWith("word…")).toBe(true);
    expect(shorten("short")).toBe("short");
    expect(authorLine(["A", "B", "C", "D", "E"])).toBe("A, B, C and 2 more");
    expect(authorLine(["A", "B"])).toBe("A, B");
  });

  it("stays far below Gmail's 102 KB clipping limit (aim 40 KB) for 10 papers", async () => {
    const papers = (await sampleSource.week({ year: 2026, week: 47 })).slice(0, 10);
    const { html } = await digestEmail(model(papers));
    expect(new TextEncoder().encode(html).length).toBeLessThan(40 * 1024);
  });

  it("places the recipient's links itself: placeholder-like text in a paper stays text, and keeps a short subject", async () => {
    const hostile = paper({
      title: "Attention {{manage_url}} {{{RESEND_UNSUBSCRIBE_URL}}}",
      summary: "See %7B%7Bmanage_url%7D%7D",
      projectPage: "https://evil.example/collect?t={{manage_url}}&u={{unsubscribe_url}}",
    });
    const { html, text } = await digestEmail(model([hostile]));
    expect(html).toContain('href="https://n.example/unsubscribe/abc"');
    expect(text).toContain("Unsubscribe: https://n.example/unsubscribe/abc");
    expect(html).toContain("https://evil.example/collect?t={{manage_url}}&amp;u={{unsubscribe_url}}");
    expect(text).toContain("https://evil.example/collect?t={{manage_url}}&u={{unsubscribe_url}}");
    expect(html).toContain("Attention {{manage_url}} {{{RESEND_UNSUBSCRIBE_URL}}}");
    expect(html.split("manage/def").length - 1).toBe(1);
    expect(digestSubject({ ...model([paper({ title: "x".repeat(300) })]) }).length).toBeLessThanOrEqual(110);
  });

  it("names a daily edition by its day, a weekly issue by its week", async () => {
    const daily = {
      ...model([paper({ title: "Tiny experts" })]),
      week: "2026-11-30",
      cadence: "daily" as const,
      dateRange: "Monday 30 November 2026",
    };
    expect(digestSubject(daily)).toBe("Trending Papers, Monday 30 November: Tiny experts");
    expect(digestSubject(model([paper({ title: "Tiny experts" })]))).toBe("Trending Papers, week 47: Tiny experts");
    const { html, text } = await digestEmail(daily);
    expect(html).toContain("The day's 1 most upvoted papers");
    expect(text).toContain("Trending Papers · Monday 30 November 2026");
    expect(html).toContain("the daily digest of trending machine-learning papers");
  });
});
