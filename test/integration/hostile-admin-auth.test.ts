/**
 * Hostile credentials on the operator API (/admin/*): missing, malformed, near-miss and smuggled tokens (in other
 * schemes, in the query string, doubled) on every admin route. Each is 401 unauthorized (400 for a header the
 * runtime refuses), and nothing changes (test/support/hostile/world.ts).
 */
import fc from "fast-check";
import { beforeAll, describe, it } from "vitest";
import { call } from "../support/helpers";
import { ATOMS, enc, headerSafe, hostile } from "../support/hostile/inputs";
import { check } from "../support/hostile/responses";
import { RUNS, total } from "../support/hostile/runs";
import { ADMIN_TOKEN, hostileWorld, ROUTES, T } from "../support/hostile/world";

const world = hostileWorld();
const runs = RUNS.adminAuth;
beforeAll(world.seed, T);

/** Every admin route and method. */
const ADMIN_ROUTES: [string, string][] = ROUTES.filter((r) => r.admin).flatMap((r) =>
  r.methods.map((m): [string, string] => [m, r.path]),
);

describe("garbage credentials on /admin", () => {
  it(
    `/admin/* with garbage Authorization headers (${runs.garbage} cases)`,
    async () => {
      const TOKEN_RE = /^[A-Za-z0-9._~+/-]+=*$/;
      /** Hono's bearerAuth: "Bearer" in any case, one space, then the token (leading spaces trimmed). */
      const accepted = (h: string | null) => {
        if (h === null) return false;
        const v = h.trim();
        if (!v.toLowerCase().startsWith("bearer") || v[6] !== " ") return false;
        const t = v.slice(6).trimStart();
        return TOKEN_RE.test(t) && t === ADMIN_TOKEN;
      };
      const near = fc
        .tuple(fc.nat(), fc.constantFrom(...ATOMS.filter((a) => /^[\x20-\x7e]+$/.test(a)), "a", "Z", "0", "-"))
        .map(([i, ch]) => {
          const at = i % (ADMIN_TOKEN.length + 1);
          return `Bearer ${ADMIN_TOKEN.slice(0, at)}${ch}${ADMIN_TOKEN.slice(at + 1)}`;
        });
      const auth = fc
        .oneof(
          fc.constant(null),
          hostile.map(headerSafe),
          near,
          fc.stringMatching(/^Bearer [A-Za-z0-9._~+/-]{1,64}=*$/),
          fc.constantFrom(
            "Bearer",
            "Bearer ",
            "Bearer  ",
            `Basic ${btoa(`admin:${ADMIN_TOKEN}`)}`,
            `Token ${ADMIN_TOKEN}`,
            ADMIN_TOKEN,
            `Bearer ${ADMIN_TOKEN.slice(0, -1)}`,
            `Bearer ${ADMIN_TOKEN}x`,
            `Bearer ${ADMIN_TOKEN.toUpperCase()}`,
            `Bearer ${ADMIN_TOKEN}=`,
            `Bearer ${ADMIN_TOKEN},Bearer x`,
            `Bearer x, Bearer ${ADMIN_TOKEN}`,
            `Bearer\t${ADMIN_TOKEN}`,
            `Bearer ${btoa(ADMIN_TOKEN)}`,
            `Bearer "${ADMIN_TOKEN}"`,
            `Bearer ${ADMIN_TOKEN};`,
            `Bearer=${ADMIN_TOKEN}`,
            `Bearer:${ADMIN_TOKEN}`,
            `Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}`,
            `Bearer ${ADMIN_TOKEN}%00`,
            `BearerX ${ADMIN_TOKEN}`,
          ),
        )
        .filter((h) => !accepted(h));
      const arb = fc.record({
        route: fc.nat(ADMIN_ROUTES.length - 1),
        auth,
        accept: fc.constantFrom("", "application/json", "text/html"),
        asQueryToken: fc.boolean(),
      });
      await world.property("garbage", arb, runs.garbage, async (c) => {
        const [method, p] = ADMIN_ROUTES[c.route]!;
        const headers: Record<string, string> = {
          "content-type": p.endsWith("/import") ? "text/csv" : "application/json",
        };
        if (c.auth !== null) headers.authorization = c.auth;
        if (c.accept) headers.accept = c.accept;
        const url =
          (await world.realPath(p)) +
          (c.asQueryToken
            ? `${p.includes("?") ? "&" : "?"}token=${enc(ADMIN_TOKEN)}&access_token=${enc(ADMIN_TOKEN)}`
            : "");
        const body =
          method === "GET"
            ? undefined
            : p.endsWith("/import")
              ? "email\nadmin-auth@example.com\n"
              : JSON.stringify({ email: "admin-auth@example.com" });
        const res = await call(url, { method, headers, body });
        await check(res, {
          allowed: [400, 401],
          kind: "json",
          code: ["unauthorized"],
          what: `${method} ${p} with ${JSON.stringify(c.auth)}`,
        });
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
