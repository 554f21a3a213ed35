/**
 * Wrong methods on every route, enumerated and generated (with bodies, content types and credentials): 404 or 405
 * (401 for /admin without the token), never a 5xx, and nothing changes (test/support/hostile/world.ts).
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { call } from "../support/helpers";
import { hostile, hostileEmail, validAddress } from "../support/hostile/inputs";
import { check, expectJsonError, expectSane } from "../support/hostile/responses";
import { RUNS, total } from "../support/hostile/runs";
import { ADMIN, hostileWorld, ROUTES, T } from "../support/hostile/world";

const world = hostileWorld();
const runs = RUNS.methods;
beforeAll(world.seed, T);

/** The routes of the first release, with their genuine link placeholders (filled in by world.realPath). */
const CORE_ROUTES = [
  "/",
  "/form",
  "/thanks",
  "/embed.js",
  "/health",
  "/api/subscribe",
  "/confirm/CONFIRM",
  "/unsubscribe/UNSUBSCRIBE",
  "/manage/MANAGE",
  "/admin/stats",
  "/admin/subscribers/import",
  "/admin/subscribers/export",
  "/dev/outbox",
  "/dev/outbox.json",
  "/dev/outbox/1",
  "/dev/outbox/1/html",
];
const GET_ONLY = [
  "/",
  "/form",
  "/thanks",
  "/embed.js",
  "/health",
  "/admin/stats",
  "/admin/subscribers/export",
  "/dev/outbox",
  "/dev/outbox.json",
  "/dev/outbox/1",
  "/dev/outbox/1/html",
];
const POST_ONLY = ["/api/subscribe", "/admin/subscribers/import"];
const isAdmin = (p: string) => p.startsWith("/admin/");

describe("wrong methods", () => {
  it(
    "PUT, DELETE and PATCH on every route answer 404 or 405 (401 for /admin without credentials), never 5xx",
    () =>
      world.unchanged(async () => {
        for (const target of [world.seeds.active, world.seeds.pending]) {
          const cases: [string, string][] = [
            ...CORE_ROUTES.flatMap((p) => ["PUT", "DELETE", "PATCH"].map((m): [string, string] => [m, p])),
            ...GET_ONLY.map((p): [string, string] => ["POST", p]),
            ...POST_ONLY.map((p): [string, string] => ["GET", p]),
          ];
          for (const [method, p] of cases) {
            for (const auth of isAdmin(p) ? [true, false] : [false]) {
              const headers: Record<string, string> = {
                accept: "application/json",
                "content-type": "application/json",
                ...(auth ? ADMIN : {}),
              };
              const res = await call(await world.realPath(p, target.id), {
                method,
                headers,
                body:
                  method === "GET"
                    ? undefined
                    : JSON.stringify({ email: "wrong-method@example.com", action: "unsubscribe" }),
              });
              const allowed = isAdmin(p) && !auth ? [401, 404, 405] : [404, 405];
              await expectJsonError(res, allowed);
            }
          }
        }
      }),
    T,
  );

  it(
    `unusual methods with random bodies, valid addresses included, never 5xx (${runs.random} cases)`,
    () => {
      const arb = fc.record({
        method: fc.constantFrom("PUT", "DELETE", "PATCH", "PROPFIND", "PURGE", "MKCOL", "SEARCH", "UNSUBSCRIBE"),
        path: fc.constantFrom(...CORE_ROUTES),
        body: fc.option(
          fc.oneof(
            fc.string({ maxLength: 200 }),
            validAddress.map((a) => JSON.stringify({ email: a, action: "unsubscribe" })),
          ),
        ),
        type: fc.constantFrom("application/json", "application/x-www-form-urlencoded", "text/plain"),
        accept: fc.constantFrom("application/json", "text/html", ""),
        auth: fc.boolean(),
      });
      return world.property("random", arb, runs.random, async (c) => {
        const headers: Record<string, string> = {
          "content-type": c.type,
          ...(c.accept ? { accept: c.accept } : {}),
          ...(c.auth ? ADMIN : {}),
        };
        const res = await call(await world.realPath(c.path), { method: c.method, headers, body: c.body ?? undefined });
        const allowed = isAdmin(c.path) && !c.auth ? [401, 404, 405] : [404, 405];
        expect(allowed, `${c.method} ${c.path} answered ${res.status}`).toContain(res.status);
        await expectSane(res);
      });
    },
    T,
  );

  it(
    `any method a route does not answer, on every route, in any letter case (${runs.everyRoute} cases)`,
    () => {
      const METHODS = [
        "GET",
        "POST",
        "PUT",
        "DELETE",
        "PATCH",
        "OPTIONS",
        "PROPFIND",
        "PURGE",
        "MKCOL",
        "REPORT",
        "get",
        "pOsT",
        "delete",
        "put",
      ];
      const arb = fc
        .record({
          route: fc.nat(ROUTES.length - 1),
          method: fc.constantFrom(...METHODS),
          auth: fc.boolean(),
          body: fc.option(
            fc.oneof(
              hostile,
              hostileEmail.map((e) => JSON.stringify({ email: e, action: "unsubscribe", confirm: "yes" })),
            ),
            { freq: 3 },
          ),
          type: fc.constantFrom("application/json", "application/x-www-form-urlencoded", "text/csv", "text/plain", ""),
          accept: fc.constantFrom("", "application/json", "text/html"),
        })
        .filter(({ route, method }) => {
          const m = method.toUpperCase();
          const allowed = ROUTES[route]!.methods;
          return !allowed.includes(m) && !(m === "HEAD" && allowed.includes("GET"));
        });
      return world.property("everyRoute", arb, runs.everyRoute, async (c) => {
        const r = ROUTES[c.route]!;
        const method =
          c.method.toUpperCase() === c.method
            ? c.method
            : c.method.toUpperCase() === "GET" || c.method.toUpperCase() === "POST"
              ? c.method.toUpperCase()
              : c.method;
        const headers: Record<string, string> = {};
        if (c.type) headers["content-type"] = c.type;
        if (c.accept) headers.accept = c.accept;
        if (c.auth) Object.assign(headers, ADMIN);
        const body = method === "GET" || c.body === null ? undefined : new TextEncoder().encode(c.body);
        const res = await call(await world.realPath(r.path), { method, headers, body, redirect: "manual" });
        const allowed = r.admin && !c.auth ? [401] : [404, 405];
        await check(res, { allowed, what: `${method} ${r.path}` });
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
