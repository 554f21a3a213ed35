import { formatWeek, type IsoWeek, weekDays } from "../lib/week";
import { type Paper, type PaperSource, parsePaper } from "./paper";

export interface HuggingFaceOptions {
  baseUrl: string;
  token?: string;
  timeoutMs?: number;
  retries?: number;
  /** Waits between retries; injectable so tests of the retry policy do not sleep. */
  sleep?: (ms: number) => Promise<void>;
}

const PAGE = 100;
const MAX_PAGES = 50;

export class PaperSourceError extends Error {
  override name = "PaperSourceError";
}

/**
 * Hugging Face's /api/daily_papers. The `week` filter only accepts W01–W52, so an ISO week 53 is fetched
 * one `date=` per day (as a daily edition is). Pages of 100 until a short page. 429 and 5xx are retried with backoff (honouring
 * Retry-After), as are timeouts and network errors; anything else fails the fetch with a clear message.
 */
export class HuggingFaceSource implements PaperSource {
  constructor(private opts: HuggingFaceOptions) {}

  async week(w: IsoWeek): Promise<Paper[]> {
    if (w.week <= 52) return this.allPages({ week: formatWeek(w) });
    const days = await Promise.all(weekDays(w).map((date) => this.allPages({ date })));
    return days.flat();
  }

  day(date: string): Promise<Paper[]> {
    return this.allPages({ date });
  }

  private async allPages(filter: Record<string, string>): Promise<Paper[]> {
    const out: Paper[] = [];
    for (let p = 0; p < MAX_PAGES; p++) {
      const url = new URL("/api/daily_papers", this.opts.baseUrl);
      for (const [k, v] of Object.entries(filter)) url.searchParams.set(k, v);
      url.searchParams.set("p", String(p));
      url.searchParams.set("limit", String(PAGE));
      const items = await this.get(url);
      for (const item of items) {
        const paper = parsePaper(item);
        if (paper) out.push(paper);
      }
      if (items.length < PAGE) break;
    }
    return out;
  }

  private async get(url: URL): Promise<unknown[]> {
    const retries = this.opts.retries ?? 3;
    const sleep = this.opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    let lastError = "";
    let delay = 0;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await sleep(delay);
      delay = Math.min(1000 * 2 ** attempt, 30_000);
      let res: Response;
      try {
        res = await fetch(url, {
          headers: {
            accept: "application/json",
            ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}),
          },
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 15_000),
        });
      } catch (err) {
        lastError = `network error: ${String(err)}`;
        continue;
      }
      if (res.status === 429 || res.status >= 500) {
        const after = Number(res.headers.get("retry-after"));
        if (Number.isFinite(after) && after > 0) delay = Math.min(after * 1000, 60_000);
        lastError = `HTTP ${res.status}`;
        await res.body?.cancel();
        continue;
      }
      if (!res.ok)
        throw new PaperSourceError(`Hugging Face answered HTTP ${res.status} for ${url.pathname}${url.search}`);
      const body: unknown = await res.json().catch(() => null);
      if (!Array.isArray(body))
        throw new PaperSourceError(`Hugging Face answered something other than a list for ${url.search}`);
      return body;
    }
    throw new PaperSourceError(`Hugging Face unavailable after ${retries + 1} attempts (${lastError})`);
  }
}
