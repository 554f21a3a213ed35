import { Hono } from "hono";

/**
 * Hugging Face's GET /api/daily_papers, as documented: `date=YYYY-MM-DD` | `week=YYYY-Www` (W01–W52 only: the
 * API's pattern stops at 52) | `month`, paging with `p` (from 0) and `limit` (1–100, default 50); filters on
 * `paper.submittedOnDailyAt`. Items are whatever the test loads (the real response shape, extra fields and all).
 * Controls: POST /_emulator/items (replace the data set), POST /_emulator/faults ([{status, retryAfter?}] for
 * the next requests), GET /_emulator/requests (the query strings seen).
 */
export function createHuggingFaceEmulator() {
  let items: Record<string, unknown>[] = [];
  let faults: { status: number; retryAfter?: number }[] = [];
  let requests: string[] = [];
  const app = new Hono();

  const isoWeekOf = (d: Date) => {
    const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
    t.setUTCDate(t.getUTCDate() + 4 - (t.getUTCDay() || 7));
    const year = t.getUTCFullYear();
    const week = Math.ceil(((t.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
    return `${year}-W${String(week).padStart(2, "0")}`;
  };
  const submitted = (i: Record<string, unknown>) =>
    new Date(String((i.paper as Record<string, unknown>)?.submittedOnDailyAt ?? i.publishedAt));

  app.get("/api/daily_papers", (c) => {
    requests.push(new URL(c.req.url).search);
    const fault = faults.shift();
    if (fault)
      return c.json(
        { error: fault.status === 429 ? "Too Many Requests" : "Internal Error" },
        fault.status as 429,
        fault.retryAfter ? { "retry-after": String(fault.retryAfter) } : {},
      );
    const q = c.req.query();
    const limit = q.limit === undefined ? 50 : Number(q.limit);
    const p = q.p === undefined ? 0 : Number(q.p);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100)
      return c.json({ error: "limit must be between 1 and 100" }, 400);
    if (!Number.isInteger(p) || p < 0) return c.json({ error: "p must be a non-negative integer" }, 400);
    let selected = items;
    if (q.week !== undefined) {
      if (!/^\d{4}-W(0[1-9]|[1-4]\d|5[0-2])$/.test(q.week)) return c.json({ error: "Invalid week format" }, 400);
      selected = items.filter((i) => isoWeekOf(submitted(i)) === q.week);
    } else if (q.date !== undefined) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(q.date)) return c.json({ error: "Invalid date format" }, 400);
      selected = items.filter((i) => submitted(i).toISOString().slice(0, 10) === q.date);
    }
    return c.json(selected.slice(p * limit, (p + 1) * limit));
  });

  app.post("/_emulator/items", async (c) => {
    items = await c.req.json();
    requests = [];
    faults = [];
    return c.json({ items: items.length });
  });
  app.post("/_emulator/faults", async (c) => {
    faults = await c.req.json();
    return c.json({ faults: faults.length });
  });
  app.get("/_emulator/requests", (c) => c.json(requests));
  return app;
}
