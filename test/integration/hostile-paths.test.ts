/**
 * Random paths, encodings and archive weeks, and every GET page with random query strings and headers, and the local
 * outbox viewer with junk ids: never a 5xx, a well-formed 4xx, and nothing changes (test/support/hostile/world.ts).
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { BASE, call } from "../support/helpers";
import { enc, headerSafe, hostile } from "../support/hostile/inputs";
import { check, expectSane } from "../support/hostile/responses";
import { RUNS, total } from "../support/hostile/runs";
import { ADMIN, hostileWorld, T } from "../support/hostile/world";

/** Path segments of the routes, and odd ones (escapes, dots, separators): both random-path properties use them. */
const ROUTE_SEGMENTS = [
  "confirm",
  "unsubscribe",
  "manage",
  "api",
  "subscribe",
  "admin",
  "dev",
  "outbox",
  "outbox.json",
  "html",
  "stats",
  "form",
  "thanks",
];
const ODD_SEGMENTS = ["%", "%00", "%2e%2e", "%2f", "%ff", "%c0%af", "😀", "a.b", "", ";", "\\", "MS4wLjA"];

/** Random paths: fast-check's web paths, one to six segments (`segment`) joined, or raw text after the slash. */
const randomPaths = (segment: fc.Arbitrary<string>) => [
  fc.webPath(),
  fc.array(segment, { minLength: 1, maxLength: 6 }).map((s) => `/${s.join("/")}`),
  fc.string({ unit: "binary", maxLength: 120 }).map((s) => `/${s.toWellFormed().replace(/^\/+/, "")}`),
];

/** Joined as text: new URL("//x", BASE) would move to another host instead of requesting the path "//x". */
const urlOf = (path: string) => `${BASE}${path.startsWith("/") ? path : `/${path}`}`;

/** Sends `method` to the path, with `accept` if any and, for a POST, `body` as JSON. */
function send(path: string, method: string, accept: string, body: Record<string, string>) {
  const headers: Record<string, string> = accept ? { accept } : {};
  const init: RequestInit = { method, headers, redirect: "manual" };
  if (method === "POST") {
    init.body = JSON.stringify(body);
    headers["content-type"] = "application/json";
  }
  return call(urlOf(path), init);
}

const world = hostileWorld();
const runs = RUNS.paths;
beforeAll(world.seed, T);

describe("random paths and query strings", () => {
  it(
    `random paths with a valid address in the body never 5xx and store nothing (${runs.random} cases)`,
    () => {
      const segment = fc.constantFrom(...ROUTE_SEGMENTS, ...ODD_SEGMENTS, "..", "?x=1", "#f");
      const path = fc.oneof(...randomPaths(fc.oneof(segment, fc.webSegment())));
      const arb = fc.tuple(
        path,
        fc.constantFrom("GET", "GET", "POST", "HEAD", "OPTIONS"),
        fc.constantFrom("application/json", "text/html", ""),
      );
      return world.property("random", arb, runs.random, async ([p, method, accept]) => {
        // The one path where the valid address below is a real signup, meant to be stored.
        fc.pre(!(method === "POST" && new URL(urlOf(p)).pathname === "/api/subscribe"));
        const res = await send(p, method, accept, { email: "random-path@example.com", action: "unsubscribe" });
        if (method === "HEAD") expect(res.status).toBeLessThan(500);
        else await expectSane(res);
      });
    },
    T,
  );

  it(
    `random paths, encodings and archive weeks (${runs.randomAndWeeks} cases)`,
    async () => {
      const segment = fc.constantFrom(
        ...ROUTE_SEGMENTS,
        "archive",
        "feed.xml",
        "webhooks",
        "resend",
        "digests",
        "data.json",
        ...ODD_SEGMENTS,
        "%E2%80%AE",
        "%0d%0a",
        "2026-W47",
        "2026-W99",
        "..%2f..%2f",
      );
      const WEEKS = [
        "2026-W99",
        "2026-W00",
        "2026-W54",
        "9999-W01",
        "0000-W01",
        "2026-w47",
        "2026-W4",
        "2026-W047",
        "２０２６-W47",
        "2026-W47%0a",
        "2026-W47%00",
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e",
        "2026-W47.json",
        "2026-W47;",
        "-2026-W47",
        "2026–W47",
        "2026-W47%E2%80%8B",
      ];
      const path = fc.oneof(
        ...randomPaths(fc.oneof(segment, fc.webSegment(), hostile.map(enc))),
        fc.oneof(fc.constantFrom(...WEEKS), hostile.map(enc)).map((w) => `/archive/${w}`),
      );
      const arb = fc.record({
        path,
        method: fc.constantFrom("GET", "GET", "POST", "HEAD", "OPTIONS", "DELETE"),
        accept: fc.constantFrom("application/json", "text/html", ""),
      });
      await world.property("randomAndWeeks", arb, runs.randomAndWeeks, async (c) => {
        // If a POST, a body no route accepts: an address the Worker refuses, an unknown action, a CSV without valid rows.
        const res = await send(c.path, c.method, c.accept, {
          email: "not an address",
          action: "nothing",
          confirm: "no",
        });
        await check(res, { head: c.method === "HEAD", what: `${c.method} ${c.path}` });
        if (c.method === "POST" || c.method === "DELETE")
          expect(res.status, `${c.method} ${c.path}`).toBeGreaterThanOrEqual(400);
      });
    },
    T,
  );

  it(
    `every GET page with random query strings and headers (${runs.queries} cases)`,
    async () => {
      const PAGES: { path: string; type: RegExp; admin?: boolean }[] = [
        { path: "/", type: /^text\/html/ },
        { path: "/form", type: /^text\/html/ },
        { path: "/thanks", type: /^text\/html/ },
        { path: "/embed.js", type: /^text\/javascript/ },
        { path: "/health", type: /^application\/json/ },
        { path: "/archive", type: /^text\/html/ },
        { path: "/archive/WEEK", type: /^text\/html/ },
        { path: "/feed.xml", type: /^application\/atom\+xml/ },
        { path: "/dev/outbox", type: /^text\/html/ },
        { path: "/dev/outbox.json", type: /^application\/json/ },
        { path: "/admin/stats", type: /^application\/json/, admin: true },
        { path: "/admin/digests", type: /^application\/json/, admin: true },
        { path: "/admin/digests/WEEK", type: /^application\/json/, admin: true },
        { path: "/admin/subscribers/export", type: /^text\/csv/, admin: true },
      ];
      const rawQuery = fc.oneof(
        fc
          .array(fc.tuple(hostile, hostile), { maxLength: 4 })
          .map((pairs) => pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join("&")),
        fc.constantFrom(
          "frame=1",
          "frame=1&frame=0",
          "frame[]=1",
          "to=x&limit=5",
          "a=%",
          "%zz=%zz",
          "&&&",
          "=",
          "a=1#frag",
          "x=%0d%0aSet-Cookie:%20a=b",
          "q=%E2%80%AE",
          "q=%ED%A0%80",
          "__proto__[admin]=1",
          "limit=5&to=seed-active%40example.com",
        ),
        fc.string({ unit: "binary-ascii", maxLength: 60 }).map((s) => s.replace(/[#\s]/g, "")),
      );
      const arb = fc.record({
        page: fc.nat(PAGES.length - 1),
        query: rawQuery,
        head: fc.boolean(),
        accept: fc.constantFrom("", "text/html", "application/json", "*/*", "text/html;q=0, application/json"),
        lang: hostile,
        ua: hostile,
      });
      await world.property("queries", arb, runs.queries, async (c) => {
        const p = PAGES[c.page]!;
        // A query string must not reach the dev outbox's numeric `limit` parser here (its own property is below).
        const query = p.path.startsWith("/dev/outbox.json") ? c.query.replace(/limit=[^&]*/g, "") : c.query;
        const headers: Record<string, string> = {
          "accept-language": headerSafe(c.lang),
          "user-agent": headerSafe(c.ua),
          "x-forwarded-for": headerSafe(c.lang),
          cookie: headerSafe(c.ua),
        };
        if (c.accept) headers.accept = c.accept;
        if (p.admin) Object.assign(headers, ADMIN);
        const res = await call(`${BASE}${await world.realPath(p.path)}?${query}`, {
          method: c.head ? "HEAD" : "GET",
          headers,
        });
        expect(res.status, `${p.path}?${query}`).toBe(200);
        expect(res.headers.get("content-type") ?? "").toMatch(p.type);
        await check(res, { head: c.head });
      });
    },
    T,
  );

  it(
    `the local outbox viewer with junk ids and parameters (${runs.devOutbox} cases)`,
    async () => {
      const junk = fc.oneof(
        hostile,
        fc.constantFrom(
          "0",
          "-1",
          "0.5",
          "1.5",
          "1e3",
          "1e309",
          "-1e309",
          "NaN",
          "Infinity",
          "-Infinity",
          "0x10",
          "99999999999999999999",
          "9007199254740993",
          "",
          " 1",
          "1 ",
          "١",
          "%00",
        ),
      );
      const arb = fc.record({
        k: fc.constantFrom("item" as const, "html" as const, "list" as const),
        id: junk,
        limit: fc.option(junk),
        to: fc.option(fc.oneof(hostile, fc.constantFrom("seed-active@example.com", "%", "_", "' OR 1=1 --"))),
        accept: fc.constantFrom("", "text/html", "application/json"),
      });
      await world.property("devOutbox", arb, runs.devOutbox, async (c) => {
        const headers: Record<string, string> = c.accept ? { accept: c.accept } : {};
        if (c.k === "list") {
          const qs = [c.limit === null ? "" : `limit=${enc(c.limit)}`, c.to === null ? "" : `to=${enc(c.to)}`]
            .filter(Boolean)
            .join("&");
          const res = await call(`/dev/outbox.json?${qs}`, { headers });
          await check(res, { allowed: [200], what: `/dev/outbox.json?${qs}` });
          return;
        }
        const res = await call(`${BASE}/dev/outbox/${enc(c.id)}${c.k === "html" ? "/html" : ""}`, { headers });
        // A junk id that still reads as an existing id (" 1", "1e0") shows that email: read-only either way.
        await check(res, { allowed: [200, 404], what: `/dev/outbox/${c.id}` });
      });
    },
    T,
  );

  it(
    `ran its ${total(runs)} generated cases, and the state is the one right after seeding`,
    () => world.expectComplete(runs),
    T,
  );
});
