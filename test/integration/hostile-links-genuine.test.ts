/**
 * Hostile input behind the genuine personal links: rejected manage actions, weeks and confirmations in every body
 * shape, links of subscribers in every state, hostile query strings and extra path segments. Each is refused (or
 * shows its page) and changes nothing (test/support/hostile/world.ts).
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { parseTopicChoice } from "../../src/papers/topics";
import { BASE, call } from "../support/helpers";
import { enc, formRoundTrip, hostile } from "../support/hostile/inputs";
import { check, kindFor } from "../support/hostile/responses";
import { RUNS, total } from "../support/hostile/runs";
import { genuine, hostileWorld, type SeedName, T } from "../support/hostile/world";

const world = hostileWorld();
const runs = RUNS.genuineLinks;
beforeAll(world.seed, T);

describe("genuine links with hostile input", () => {
  it(
    `genuine links with rejected bodies, and the pages behind them, change nothing (${runs.genuine} cases)`,
    async () => {
      const VALID_ACTIONS = new Set(["topics", "pause", "resume", "unsubscribe", "resubscribe", "erase"]);
      const weeksOk = (w: string) => {
        const n = Number(w);
        return Number.isInteger(n) && n >= 1 && n <= 12;
      };
      const junkAction = fc
        .oneof(
          hostile,
          fc.constantFrom(
            "UNSUBSCRIBE",
            "unsubscribe ",
            " pause",
            "eras",
            "erase\u0000",
            "unsubscribe\u200b",
            "resubscribe;",
            "delete",
            "drop",
            "",
          ),
        )
        .filter(
          (a) => !VALID_ACTIONS.has(a) && !VALID_ACTIONS.has(formRoundTrip(a)) && !VALID_ACTIONS.has(a.toWellFormed()),
        );
      const junkWeeks = fc
        .oneof(
          hostile,
          fc.constantFrom(
            "0",
            "13",
            "-1",
            "1.5",
            "1e9",
            "Infinity",
            "NaN",
            "",
            "4 weeks",
            "٤",
            "４",
            "0x10",
            "99999999999999999999",
          ),
        )
        .filter((w) => !weeksOk(w) && !weeksOk(formRoundTrip(w)) && !weeksOk(w.toWellFormed()));
      // Topics that never read as a choice however the body carries them (a blank entry reads as "none": valid).
      const topicsOk = (t: string) => parseTopicChoice(t).ok;
      const junkTopics = fc
        .oneof(hostile, fc.constantFrom("Vision", "vision;code", "nope", "__proto__", "constructor", "vision,,nope"))
        .filter((t) => !topicsOk(t) && !topicsOk(formRoundTrip(t)) && !topicsOk(t.toWellFormed()));
      // Cadences that never read as weekly or daily (a form carries only strings; JSON carries them as they are).
      const cadenceOk = (t: string) => t === "weekly" || t === "daily";
      const junkCadence = fc
        .oneof(hostile, fc.constantFrom("Weekly", "DAILY", " daily", "monthly", "weekly,daily", "__proto__"))
        .filter((t) => !cadenceOk(t) && !cadenceOk(formRoundTrip(t)) && !cadenceOk(t.toWellFormed()));
      const junkConfirm = hostile.filter(
        (s) => s !== "yes" && formRoundTrip(s) !== "yes" && s.toWellFormed() !== "yes",
      );
      const seedName = fc.constantFrom(
        "active",
        "active2",
        "paused",
        "pending",
        "unsubscribed",
      ) as fc.Arbitrary<SeedName>;
      type Case =
        | {
            k: "manageBody";
            who: SeedName;
            fields: Record<string, unknown>;
            shape: "json" | "form" | "multipart";
            accept: string;
          }
        | { k: "manageRaw"; who: SeedName; type: string; body: string }
        | { k: "manageNonString"; who: SeedName; action: unknown }
        | { k: "confirmActive"; who: "active" | "active2" | "paused"; method: "GET" | "POST"; query: string | null }
        | { k: "confirmCancelled"; query: string | null }
        | {
            k: "view";
            route: "manage" | "unsubscribe" | "confirmPending" | "data";
            who: SeedName;
            query: string;
            accept: string;
          }
        | {
            k: "extraSegment";
            route: "manage" | "unsubscribe" | "confirm";
            who: SeedName;
            segment: string;
            method: "GET" | "POST";
          };
      const q = fc.oneof(
        hostile,
        fc.constantFrom("action=unsubscribe", "List-Unsubscribe=One-Click", "confirm=yes&action=erase"),
      );
      const arb: fc.Arbitrary<Case> = fc.oneof(
        {
          weight: 4,
          arbitrary: fc.record({
            k: fc.constant("manageBody" as const),
            who: seedName,
            fields: fc.oneof(
              junkAction.map((action) => ({ action })),
              junkWeeks.map((weeks) => ({ action: "pause", weeks })),
              junkConfirm.map((confirm) => ({ action: "erase", confirm })),
              junkTopics.map((topics) => ({ action: "topics", topics })),
              junkCadence.map((cadence) => ({ action: "cadence", cadence })),
              fc.constant({ action: "cadence" }),
              fc.constant({ action: "erase" }),
              fc.constant({ action: "pause" }),
              fc.constant({}),
              fc.constant({ List: "Unsubscribe=One-Click", Action: "unsubscribe", ACTION: "erase" }),
            ),
            shape: fc.constantFrom("json" as const, "form" as const, "multipart" as const),
            accept: fc.constantFrom("", "text/html", "application/json"),
          }),
        },
        {
          weight: 2,
          arbitrary: fc.record({
            k: fc.constant("manageRaw" as const),
            who: seedName,
            type: fc.constantFrom(
              "application/json",
              "text/plain",
              "application/xml",
              "",
              "application/octet-stream",
              "multipart/form-data",
            ),
            body: fc.constantFrom(
              "action=unsubscribe",
              '{"action":"unsubscribe"',
              '["unsubscribe"]',
              "null",
              '"unsubscribe"',
              "<action>unsubscribe</action>",
              "action=erase&confirm=yes",
            ),
          }),
        },
        {
          weight: 1,
          arbitrary: fc.record({
            k: fc.constant("manageNonString" as const),
            who: seedName,
            action: fc.oneof(
              fc.constant(["unsubscribe"]),
              fc.constant({ action: "unsubscribe" }),
              fc.constant(null),
              fc.integer(),
              fc.constant(true),
              fc.constant(["erase"]),
            ),
          }),
        },
        {
          weight: 2,
          arbitrary: fc.record({
            k: fc.constant("confirmActive" as const),
            who: fc.constantFrom("active" as const, "active2" as const, "paused" as const),
            method: fc.constantFrom("GET" as const, "POST" as const),
            query: fc.option(q),
          }),
        },
        { weight: 1, arbitrary: fc.record({ k: fc.constant("confirmCancelled" as const), query: fc.option(q) }) },
        {
          weight: 3,
          arbitrary: fc.record({
            k: fc.constant("view" as const),
            route: fc.constantFrom(
              "manage" as const,
              "unsubscribe" as const,
              "confirmPending" as const,
              "data" as const,
            ),
            who: seedName,
            query: q,
            accept: fc.constantFrom("", "text/html", "application/json"),
          }),
        },
        {
          weight: 2,
          arbitrary: fc.record({
            k: fc.constant("extraSegment" as const),
            route: fc.constantFrom("manage" as const, "unsubscribe" as const, "confirm" as const),
            who: seedName,
            segment: hostile.filter((s) => !["", ".", "..", "data.json"].includes(s.trim())),
            method: fc.constantFrom("GET" as const, "POST" as const),
          }),
        },
      );
      const seeds = world.seeds;
      await world.property("genuine", arb, runs.genuine, async (c) => {
        const headers: Record<string, string> = {};
        let res: Response;
        switch (c.k) {
          case "manageBody": {
            if (c.accept) headers.accept = c.accept;
            let body: BodyInit;
            if (c.shape === "json") {
              headers["content-type"] = "application/json";
              body = JSON.stringify(c.fields);
            } else if (c.shape === "form") {
              headers["content-type"] = "application/x-www-form-urlencoded";
              body = new URLSearchParams(Object.entries(c.fields).map(([k, v]) => [k, String(v)])).toString();
            } else {
              const form = new FormData();
              for (const [k, v] of Object.entries(c.fields)) form.append(k, String(v));
              body = form;
            }
            res = await call(`/manage/${await genuine("manage", seeds[c.who].id)}`, { method: "POST", headers, body });
            const kind = c.shape === "json" || c.accept === "application/json" ? "json" : "html";
            await check(res, {
              allowed: [422],
              kind,
              code: ["invalid_action", "invalid_weeks", "confirm_required", "unknown_topics", "invalid_cadence"],
              what: `manage ${JSON.stringify(c.fields)}`,
            });
            return;
          }
          case "manageRaw": {
            if (c.type) headers["content-type"] = c.type;
            res = await call(`/manage/${await genuine("manage", seeds[c.who].id)}`, {
              method: "POST",
              headers,
              body: new TextEncoder().encode(c.body),
            });
            const allowed = c.type === "application/json" ? [400] : c.type === "multipart/form-data" ? [400] : [415];
            await check(res, { allowed, kind: kindFor("POST", headers), what: `manage raw ${c.type}` });
            return;
          }
          case "manageNonString":
            headers["content-type"] = "application/json";
            res = await call(`/manage/${await genuine("manage", seeds[c.who].id)}`, {
              method: "POST",
              headers,
              body: JSON.stringify({ action: c.action, confirm: "yes" }),
            });
            await check(res, { allowed: [422], kind: "json", code: ["invalid_action"] });
            return;
          case "confirmActive": {
            // Already confirmed: the page says so; nothing is written again.
            res = await call(
              `/confirm/${await genuine("confirm", seeds[c.who].id)}${c.query === null ? "" : `?${enc(c.query)}`}`,
              { method: c.method },
            );
            const text = await check(res, { allowed: [200], kind: "html" });
            expect(text).toContain("</html>");
            return;
          }
          case "confirmCancelled":
            res = await call(
              `/confirm/${await genuine("confirm", seeds.unsubscribed.id)}${c.query === null ? "" : `?${enc(c.query)}`}`,
              { method: "POST" },
            );
            expect(await check(res, { allowed: [410], kind: "html" })).toMatch(/no longer valid/);
            return;
          case "view": {
            if (c.accept) headers.accept = c.accept;
            const id = c.route === "confirmPending" ? seeds.pending.id : seeds[c.who].id;
            const path =
              c.route === "manage"
                ? `/manage/${await genuine("manage", id)}`
                : c.route === "data"
                  ? `/manage/${await genuine("manage", id)}/data.json`
                  : c.route === "unsubscribe"
                    ? `/unsubscribe/${await genuine("unsubscribe", id)}`
                    : `/confirm/${await genuine("confirm", id)}`;
            res = await call(`${path}?${enc(c.query)}=${enc(c.query)}`, { headers });
            expect(res.status).toBe(200);
            expect(res.headers.get("content-type")).toMatch(c.route === "data" ? /^application\/json/ : /^text\/html/);
            if (c.route === "data")
              expect(((await res.clone().json()) as { email: string }).email).toBe(
                id === seeds.pending.id ? seeds.pending.email : seeds[c.who].email,
              );
            await check(res);
            return;
          }
          case "extraSegment": {
            const purpose = c.route === "confirm" ? "confirm" : c.route;
            const body =
              c.method === "POST"
                ? new URLSearchParams({ action: "unsubscribe", "List-Unsubscribe": "One-Click" }).toString()
                : undefined;
            if (body) headers["content-type"] = "application/x-www-form-urlencoded";
            res = await call(`${BASE}/${c.route}/${await genuine(purpose, seeds[c.who].id)}/${enc(c.segment)}`, {
              method: c.method,
              headers,
              body,
            });
            await check(res, { allowed: [404], what: `${c.route}/token/${c.segment}` });
            return;
          }
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
});
