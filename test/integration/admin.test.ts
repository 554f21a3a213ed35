import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { call, subscribeJson, subscriberRow } from "../support/helpers";

const auth = { authorization: `Bearer ${env.ADMIN_TOKEN}` };

describe("admin auth", () => {
  it("401 without or with a wrong token", async () => {
    expect((await call("/admin/stats")).status).toBe(401);
    const wrong = await call("/admin/stats", { headers: { authorization: "Bearer nope-nope-nope-nope" } });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: { code: "unauthorized" } });
  });

  it("/admin does not exist when no token is configured", async () => {
    const res = await worker.fetch!(
      new Request("http://127.0.0.1:8787/admin/stats", { headers: auth }) as never,
      { ...env, ADMIN_TOKEN: "" },
      {} as never,
    );
    expect(res.status).toBe(404);
  });
});

describe("stats", () => {
  it("counts subscribers by status", async () => {
    const stats = async () =>
      (await (await call("/admin/stats", { headers: auth })).json<{ subscribers: Record<string, number> }>())
        .subscribers;
    const before = await stats();
    expect(Object.keys(before).sort()).toEqual(["active", "pending", "suppressed", "unsubscribed"]);
    await subscribeJson("s1@example.com");
    await subscribeJson("s2@example.com");
    const after = await stats();
    expect(after).toEqual({ ...before, pending: before.pending! + 2 });
  });
});

describe("import", () => {
  const importCsv = (csv: string) =>
    call("/admin/subscribers/import", { method: "POST", headers: { ...auth, "content-type": "text/csv" }, body: csv });

  it("imports 10,000 rows in one request as active, source import", async () => {
    const lines = ["name,email"];
    for (let i = 0; i < 10_000; i++) lines.push(`Person ${i},reader${i}@example.com`);
    const res = await importCsv(lines.join("\n"));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ rows: 10_000, imported: 10_000, skipped_duplicates: 0, invalid: 0 });
    const count = await env.DB.prepare(
      "SELECT count(*) AS n FROM subscribers WHERE status = 'active' AND source = 'import'",
    ).first<{ n: number }>();
    expect(count!.n).toBe(10_000);
  });

  it("skips duplicates (in the file and already known) and reports invalid rows without failing", async () => {
    await subscribeJson("known@example.com");
    const csv =
      'email\nnew1@example.com\nNEW1@example.com\nknown@example.com\nnot an address\n"bad@x"\nnew2@example.com\n';
    const body = await (await importCsv(csv)).json<Record<string, unknown>>();
    expect(body).toMatchObject({ rows: 6, imported: 2, skipped_duplicates: 2, invalid: 2 });
    expect(body.errors).toEqual([
      { line: 5, value: "not an address", error: expect.any(String) },
      { line: 6, value: "bad@x", error: expect.any(String) },
    ]);
    expect((await subscriberRow("known@example.com"))!.status).toBe("pending");
  });

  it("needs an email column and text/csv", async () => {
    expect((await importCsv("name\nBob\n")).status).toBe(422);
    const json = await call("/admin/subscribers/import", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: "{}",
    });
    expect(json.status).toBe(415);
  });
});

describe("export", () => {
  it("streams every subscriber as CSV", async () => {
    await subscribeJson("exp1@example.com");
    const res = await call("/admin/subscribers/export", { headers: auth });
    expect(res.headers.get("content-type")).toContain("text/csv");
    const lines = (await res.text()).trim().split("\n");
    expect(lines[0]).toBe("email,status,source,created_at,confirmed_at,unsubscribed_at,paused_until,consent_origin");
    const total = await env.DB.prepare("SELECT count(*) AS n FROM subscribers").first<{ n: number }>();
    expect(lines).toHaveLength(total!.n + 1);
    expect(lines.filter((l: string) => l.startsWith("exp1@example.com,"))).toEqual([
      expect.stringMatching(/^exp1@example\.com,pending,api,\d{4}-/),
    ]);
  });
});
