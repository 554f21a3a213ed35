/**
 * Hostile input on the operator API with the right token: CSV imports without a single acceptable row, junk lookups
 * and ids, junk, future, old and finished weeks on every digest action, junk test-send bodies, hostile query strings
 * on the listings. Each gets its 4xx (or an empty import), and nothing changes (test/support/hostile/world.ts).
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { parseEdition } from "../../src/digest/cadence";
import { parseCsv } from "../../src/lib/csv";
import { checkEmail } from "../../src/lib/email";
import { formatWeek, isoWeekOf } from "../../src/lib/week";
import { BASE, call } from "../support/helpers";
import { BLOCKED, enc, hostile, hostileEmail, isValidEmail } from "../support/hostile/inputs";
import { check, kindFor } from "../support/hostile/responses";
import { RUNS, total } from "../support/hostile/runs";
import { ADMIN, DAY, hostileWorld, NONEXISTENT_ID, T, WEEK } from "../support/hostile/world";

const world = hostileWorld();
const runs = RUNS.adminApi;
beforeAll(world.seed, T);

describe("junk on /admin with the right token", () => {
  it(
    `/admin/* with the right token and junk bodies and parameters (${runs.junk} cases)`,
    async () => {
      const ENDED = WEEK;
      const OLD_WEEKS = ["2020-W01", "2025-W52", "2020-W53", "2015-W53"]; // ended, no issue
      const JUNK_WEEKS = [
        "2026-W99",
        "2026-W00",
        "2026-W54",
        "2025-W53",
        "0000-W00",
        "9999-W52",
        "2099-W01",
        "2026-w47",
        "2026W47",
        "2026-W4",
        "2026-W047",
        "２０２６-W47",
        "2026-W4７",
        "2026-W47\n",
        "2026-W47\u0000",
        "../stats",
        "..%2Fstats",
        "%2e%2e",
        "2026-W47.json",
        "2026-W47;",
        " 2026-W47",
        "-2026-W47",
        "2026–W47",
        "2026-W47\u200b",
        "\u202e74W-6202",
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "",
      ];
      const junkWeek = fc.oneof(fc.constantFrom(...JUNK_WEEKS), hostile).filter((w) => {
        const d = decodeURIComponent(enc(w));
        return d.trim() !== "" && d !== "." && d !== ".." && !parseEdition(d);
      });
      // Weeks that have not ended yet: this one, next week's, next year's, the far future.
      const FUTURE = [0, 7, 400, 3000].map((days) => formatWeek(isoWeekOf(new Date(Date.now() + days * DAY))));
      // Days that have not ended yet: today's and later daily editions.
      const FUTURE_DAYS = [0, 1, 400].map((days) => new Date(Date.now() + days * DAY).toISOString().slice(0, 10));
      const futureWeek = fc.constantFrom(...FUTURE, ...FUTURE_DAYS, "9999-W52", "9999-12-31");
      const existing = () => new Set(Object.values(world.seeds).map((s) => s.id));
      const junkId = fc.oneof(
        hostile,
        fc.constantFrom(
          "0",
          "00",
          "-1",
          "1.0",
          "1e3",
          "0x1",
          "١",
          "２",
          "99999999999999999999",
          "9007199254740993",
          "1%00",
          "1;DROP TABLE subscribers",
          "1 OR 1=1",
          "*",
          "%2A",
          "",
        ),
        fc.integer({ min: NONEXISTENT_ID, max: 2 ** 31 }).map(String),
      );
      const junkCsv = fc
        .record({
          header: fc.oneof(
            fc.constantFrom(
              "email",
              "Email,name",
              "name,EMAIL",
              " email ",
              "\ufeffemail",
              '"email"',
              "e-mail",
              "mail",
              "",
              "address",
              "email,email",
            ),
            hostile.map((h) => h.replace(/[\r\n]/g, "")),
          ),
          rows: fc.array(
            fc.oneof(
              hostileEmail.map((e) => (/[",\r\n]/.test(e) ? `"${e.replace(/"/g, '""')}"` : e)),
              hostile,
              fc.constantFrom('"unterminated', 'a@b.com"x', '=HYPERLINK("http://evil")', ",,,,", "\r", '""'),
            ),
            { maxLength: 20 },
          ),
          eol: fc.constantFrom("\n", "\r\n", "\r"),
        })
        .map(({ header, rows, eol }) => [header, ...rows].join(eol))
        .filter((csv) => {
          // Never a row the import would take: every value in the email column (wherever the header puts it) is refused.
          const rows = parseCsv(csv);
          const head = rows.shift();
          const col = head?.fields.findIndex((f) => f.trim().toLowerCase() === "email") ?? -1;
          return col < 0 || rows.every((r) => !checkEmail(r.fields[col] ?? "", BLOCKED).ok);
        });
      type Case =
        | { k: "import"; csv: string; type: string }
        | { k: "lookup"; email: string | null; extraQuery: string }
        | { k: "delete"; id: string }
        | {
            k: "digestJunkWeek";
            week: string;
            action: "get" | "preview" | "send" | "test" | "pause" | "resume" | "cancel";
          }
        | {
            k: "digestFuture";
            week: string;
            action: "get" | "preview" | "send" | "test" | "pause" | "resume" | "cancel";
          }
        | { k: "digestOld"; week: string; action: "get" | "pause" | "resume" | "cancel" }
        | { k: "digestSent"; action: "pause" | "resume" | "cancel" }
        | { k: "digestTestJunk"; body: string; type: string }
        | { k: "lists"; path: string; query: string };
      const digestAction = fc.constantFrom(
        "get" as const,
        "preview" as const,
        "send" as const,
        "test" as const,
        "pause" as const,
        "resume" as const,
        "cancel" as const,
      );
      const arb: fc.Arbitrary<Case> = fc.oneof(
        {
          weight: 4,
          arbitrary: fc.record({
            k: fc.constant("import" as const),
            csv: junkCsv,
            type: fc.oneof(
              { weight: 4, arbitrary: fc.constantFrom("text/csv", "text/csv; charset=utf-8", "TEXT/CSV") },
              {
                weight: 1,
                arbitrary: fc.constantFrom(
                  "text/plain",
                  "application/json",
                  "application/vnd.ms-excel",
                  "",
                  "text/csv-x",
                  "multipart/form-data",
                ),
              },
            ),
          }),
        },
        {
          weight: 3,
          arbitrary: fc.record({
            k: fc.constant("lookup" as const),
            email: fc.option(
              fc.oneof(
                hostileEmail,
                hostile,
                fc.constantFrom(
                  " SEED-ACTIVE@EXAMPLE.COM ",
                  "seed-bounced@example.org",
                  "SEED-BOUNCED@example.org",
                  "x".repeat(321),
                  "%",
                  "_",
                  "seed-%@example.com",
                ),
              ),
            ),
            extraQuery: fc.oneof(fc.constant(""), fc.constantFrom("&email=other@example.com", "&email[]=x", "&email=")),
          }),
        },
        { weight: 3, arbitrary: fc.record({ k: fc.constant("delete" as const), id: junkId }) },
        {
          weight: 3,
          arbitrary: fc.record({ k: fc.constant("digestJunkWeek" as const), week: junkWeek, action: digestAction }),
        },
        {
          weight: 2,
          arbitrary: fc.record({ k: fc.constant("digestFuture" as const), week: futureWeek, action: digestAction }),
        },
        {
          weight: 2,
          arbitrary: fc.record({
            k: fc.constant("digestOld" as const),
            week: fc.constantFrom(...OLD_WEEKS),
            action: fc.constantFrom("get" as const, "pause" as const, "resume" as const, "cancel" as const),
          }),
        },
        {
          weight: 1,
          arbitrary: fc.record({
            k: fc.constant("digestSent" as const),
            action: fc.constantFrom("pause" as const, "resume" as const, "cancel" as const),
          }),
        },
        {
          weight: 2,
          arbitrary: fc.oneof(
            fc.record({
              k: fc.constant("digestTestJunk" as const),
              body: hostileEmail.filter((e) => !isValidEmail(e, new Set())).map((e) => JSON.stringify({ email: e })),
              type: fc.constant("application/json"),
            }),
            fc.record({
              k: fc.constant("digestTestJunk" as const),
              body: hostileEmail
                .filter((e) => !isValidEmail(e, new Set()))
                .map((e) => new URLSearchParams({ email: e }).toString()),
              type: fc.constant("application/x-www-form-urlencoded"),
            }),
            fc.record({
              k: fc.constant("digestTestJunk" as const),
              body: fc.constantFrom(
                "{",
                "[]",
                "null",
                '{"email":["a@example.com"]}',
                '{"email":{"x":1}}',
                "email=a@example.com&email=b@example.com",
              ),
              type: fc.constantFrom("application/json", "application/x-www-form-urlencoded"),
            }),
            fc.record({
              k: fc.constant("digestTestJunk" as const),
              body: fc.constant('{"email":"a@example.com"}'),
              type: fc.constantFrom("text/plain", "application/xml", ""),
            }),
          ),
        },
        {
          weight: 2,
          arbitrary: fc.record({
            k: fc.constant("lists" as const),
            path: fc.constantFrom("/admin/stats", "/admin/digests", "/admin/subscribers/export"),
            query: hostile.map((q) => `${enc(q)}=${enc(q)}`),
          }),
        },
      );
      const digestPath = (week: string, action: string) =>
        `/admin/digests/${enc(week)}${action === "get" ? "" : `/${action}`}`;
      const digestMethod = (action: string) => (action === "get" || action === "preview" ? "GET" : "POST");
      await world.property("junk", arb, runs.junk, async (c) => {
        const headers: Record<string, string> = { ...ADMIN };
        let res: Response;
        switch (c.k) {
          case "import": {
            if (c.type) headers["content-type"] = c.type;
            res = await call("/admin/subscribers/import", {
              method: "POST",
              headers,
              body: new TextEncoder().encode(c.csv),
            });
            const csvType = c.type.split(";")[0]!.trim().toLowerCase() === "text/csv";
            const head = parseCsv(c.csv)[0];
            const hasEmail = !!head && head.fields.some((f) => f.trim().toLowerCase() === "email");
            const allowed = !csvType ? [415] : hasEmail ? [200] : [422];
            await check(res.clone(), {
              allowed,
              kind: kindFor("POST", headers),
              what: `import ${JSON.stringify(c.csv).slice(0, 120)}`,
            });
            if (res.status === 200) expect(((await res.json()) as { imported: number }).imported).toBe(0);
            return;
          }
          case "lookup": {
            const query = c.email === null ? "" : `email=${enc(c.email)}`;
            res = await call(`/admin/subscribers?${query}${c.extraQuery}`, { headers });
            await check(res, { allowed: [200, 400, 404], kind: "json", what: `lookup ${query}` });
            return;
          }
          case "delete": {
            fc.pre(!existing().has(Number(c.id.toWellFormed().trim())) || !/^[0-9]+$/.test(c.id));
            res = await call(`${BASE}/admin/subscribers/${enc(c.id)}`, { method: "DELETE", headers });
            await check(res, {
              allowed: [400, 404],
              kind: "json",
              code: ["invalid_id", "not_found"],
              what: `DELETE ${c.id}`,
            });
            return;
          }
          case "digestJunkWeek":
          case "digestFuture":
          case "digestOld":
          case "digestSent": {
            const week = c.k === "digestSent" ? ENDED : c.week;
            const action = c.action;
            const method = digestMethod(action);
            if (method === "POST") headers["content-type"] = "application/json";
            res = await call(`${BASE}${digestPath(week, action)}`, {
              method,
              headers,
              body: method === "POST" ? JSON.stringify({ email: "digest-junk@example.com" }) : undefined,
            });
            const allowed =
              c.k === "digestJunkWeek"
                ? [400, 404]
                : c.k === "digestFuture"
                  ? [422]
                  : c.k === "digestOld"
                    ? [404]
                    : [409];
            const code =
              c.k === "digestJunkWeek"
                ? ["invalid_week", "not_found"]
                : c.k === "digestFuture"
                  ? ["week_not_over"]
                  : c.k === "digestOld"
                    ? ["not_found"]
                    : ["invalid_state"];
            await check(res, { allowed, kind: "json", code, what: `${method} ${digestPath(week, action)}` });
            return;
          }
          case "digestTestJunk":
            if (c.type) headers["content-type"] = c.type;
            res = await call(`/admin/digests/${ENDED}/test`, {
              method: "POST",
              headers,
              body: new TextEncoder().encode(c.body),
            });
            await check(res, {
              allowed: [400, 415, 422],
              kind: kindFor("POST", headers),
              what: `test ${c.type} ${c.body}`,
            });
            return;
          case "lists":
            res = await call(`${BASE}${c.path}?${c.query}`, { headers });
            expect(res.status).toBe(200);
            await check(res);
            return;
        }
      });
    },
    T,
  );

  it(
    `ran its ${total(runs)} generated cases, and the state is the one right after seeding`,
    () => world.expectComplete(runs),
    T,
  );

  it(
    "control: a valid import row does change the state",
    async () => {
      const { changes } = await world.changes(async () => {
        const imp = await call("/admin/subscribers/import", {
          method: "POST",
          headers: { ...ADMIN, "content-type": "text/csv" },
          body: "email\ncontrol-import@example.com\n",
        });
        expect(((await imp.json()) as { imported: number }).imported).toBe(1);
      });
      expect(changes.some((d) => d.startsWith("subscribers"))).toBe(true);
    },
    T,
  );
});
