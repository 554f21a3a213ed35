import { describe, expect, it } from "vitest";
import { type ActivityRow, activityChart, PLOT } from "../../templates/chart";

const weeks = (n: number, f: (i: number) => Omit<ActivityRow, "week">): ActivityRow[] =>
  Array.from({ length: n }, (_, i) => ({ week: `2026-W${String(i + 1).padStart(2, "0")}`, ...f(i) }));

const render = async (rows: ActivityRow[], title = "Activity", id?: string) =>
  String(await activityChart(rows, title, id));

const pointsOf = (svg: string, series: string) => {
  const m = new RegExp(`class="series-${series}"[^>]*points="([^"]*)"`).exec(svg);
  if (!m) throw new Error(`no polyline for ${series}`);
  return m[1]!.split(" ").map((p) => p.split(",").map(Number) as [number, number]);
};

describe("activityChart", () => {
  const rows = weeks(26, (i) => ({ signups: i * 2, confirmations: i, unsubscribes: i % 3 }));

  it("renders an accessible SVG with its title and a data table of one row per week", async () => {
    const out = await render(rows, "Signups per week");
    expect(out).toContain('role="img"');
    expect(out).toMatch(/<title id="chart-signups-per-week-title">Signups per week<\/title>/);
    expect(out).toContain('aria-labelledby="chart-signups-per-week-title chart-signups-per-week-desc"');
    expect(out).toContain("<caption>Signups per week</caption>");
    expect(out).toContain("<summary>Data table</summary>");
    expect(out.match(/<tr><th scope="row">/g)).toHaveLength(26);
    expect(out).toContain('<tr><th scope="row">2026-W26</th><td>50</td><td>25</td><td>1</td></tr>');
    expect(out).not.toContain("style=");
    expect(out).not.toContain("<script");
  });

  it("escapes the title", async () => {
    const out = await render(rows, `<script>alert("x")</script>`);
    expect(out).not.toContain("<script>");
    expect(out).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
  });

  it("gives each chart its own ids", async () => {
    const a = await render(rows, "Last 26 weeks");
    const b = await render(rows, "Last 26 weeks", "other");
    expect(a).toContain('id="chart-last-26-weeks-title"');
    expect(b).toContain('id="other-title"');
    expect(b).not.toContain("chart-last-26-weeks");
  });

  it("draws three polylines of 26 points, with distinct dash patterns", async () => {
    const out = await render(rows);
    for (const s of ["signups", "confirmations", "unsubscribes"]) expect(pointsOf(out, s)).toHaveLength(26);
    expect(out.match(/<polyline/g)).toHaveLength(3);
    expect(out).toContain(
      'class="series-confirmations" fill="none" stroke="currentColor" stroke-width="2" stroke-dasharray="8 4"',
    );
    expect(out).toContain(
      'class="series-unsubscribes" fill="none" stroke="currentColor" stroke-width="2" stroke-dasharray="2 3"',
    );
  });

  it("puts the largest value at the top of the plot and zero at the bottom", async () => {
    const out = await render(rows);
    const signups = pointsOf(out, "signups");
    expect(signups[0]).toEqual([PLOT.left, PLOT.bottom]);
    expect(signups[25]).toEqual([PLOT.right, PLOT.top]);
    // Round tick labels: max 50 → 0, 20, 40.
    expect([...out.matchAll(/<text x="\d+" y="[\d.]+">(\d+)<\/text>/g)].map((m) => m[1])).toEqual(["0", "20", "40"]);
    // Week labels every 4 weeks, ending with the last week.
    expect(out).toContain(">W26</text>");
    expect(out).toContain(">W22</text>");
    expect(out).not.toContain(">W25</text>");
  });

  it("renders all zeros without NaN or Infinity, every point on the baseline", async () => {
    const out = await render(weeks(26, () => ({ signups: 0, confirmations: 0, unsubscribes: 0 })));
    expect(out).not.toMatch(/NaN|Infinity/);
    for (const s of ["signups", "confirmations", "unsubscribes"])
      expect(pointsOf(out, s).every(([, y]) => y === PLOT.bottom)).toBe(true);
  });

  it("copes with a single week and with none", async () => {
    expect(await render(weeks(1, () => ({ signups: 3, confirmations: 1, unsubscribes: 0 })))).not.toMatch(
      /NaN|Infinity/,
    );
    expect(await render([])).not.toMatch(/NaN|Infinity/);
  });
});
