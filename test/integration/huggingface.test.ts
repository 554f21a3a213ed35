import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { HuggingFaceSource, PaperSourceError } from "../../src/papers/huggingface";
import { sampleItems } from "../../src/papers/sample";

const hf = env.HF_EMULATOR_URL;
const control = (path: string, body: unknown) =>
  fetch(`${hf}/_emulator/${path}`, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
const requests = async () => (await (await fetch(`${hf}/_emulator/requests`)).json()) as string[];

/** n distinct items in the real shape, all submitted during `week`. */
function items(week: { year: number; week: number }, n: number) {
  const base = sampleItems(week) as { paper: Record<string, unknown> }[];
  return Array.from({ length: n }, (_, i) => {
    const it = structuredClone(base[i % base.length]!);
    it.paper.id = `2611.${String(60000 + i)}`;
    return it;
  });
}

const waits: number[] = [];
const source = () => new HuggingFaceSource({ baseUrl: hf, sleep: async (ms) => void waits.push(ms), retries: 3 });

beforeEach(() => {
  waits.length = 0;
});

describe("HuggingFaceSource against the daily_papers emulator", () => {
  it("pages with p and limit=100 until a short page", async () => {
    await control("items", items({ year: 2026, week: 47 }, 250));
    const papers = await source().week({ year: 2026, week: 47 });
    expect(papers).toHaveLength(250);
    expect(await requests()).toEqual([
      "?week=2026-W47&p=0&limit=100",
      "?week=2026-W47&p=1&limit=100",
      "?week=2026-W47&p=2&limit=100",
    ]);
  });

  it("fetches ISO week 53 one day at a time (the API's week filter stops at W52)", async () => {
    const w53 = { year: 2026, week: 53 };
    await control("items", items(w53, 20));
    const papers = await source().week(w53);
    expect(papers).toHaveLength(20);
    const seen = await requests();
    expect(seen.filter((q) => q.includes("week="))).toEqual([]);
    expect(seen.map((q) => new URLSearchParams(q).get("date")).sort()).toEqual([
      "2026-12-28",
      "2026-12-29",
      "2026-12-30",
      "2026-12-31",
      "2027-01-01",
      "2027-01-02",
      "2027-01-03",
    ]);
  });

  it("retries 429 (honouring Retry-After) and 5xx, then succeeds", async () => {
    await control("items", items({ year: 2026, week: 47 }, 5));
    await control("faults", [{ status: 429, retryAfter: 7 }, { status: 503 }]);
    const papers = await source().week({ year: 2026, week: 47 });
    expect(papers).toHaveLength(5);
    expect(waits).toEqual([7000, 2000]);
  });

  it("gives up with a clear error after the retries, and fails at once on other statuses", async () => {
    await control("items", []);
    await control("faults", [{ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }]);
    await expect(source().week({ year: 2026, week: 47 })).rejects.toThrow(/unavailable after 4 attempts \(HTTP 500\)/);
    await control("faults", [{ status: 404 }]);
    await expect(source().week({ year: 2026, week: 47 })).rejects.toThrow(/answered HTTP 404/);
    expect(waits).toEqual([1000, 2000, 4000]);
    await expect(
      new HuggingFaceSource({ baseUrl: "http://127.0.0.1:9", retries: 0 }).week({ year: 2026, week: 47 }),
    ).rejects.toBeInstanceOf(PaperSourceError);
  });
});
