/**
 * Oversized bodies on every route that reads one, sent whole (with a Content-Length) or streamed (without): each is
 * refused with 413 before anything is read into storage, even around a valid address or a genuine link.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { BASE, call } from "../support/helpers";
import { validAddress } from "../support/hostile/inputs";
import { check, expectHtmlError, expectJsonError, kindFor } from "../support/hostile/responses";
import { RUNS, total } from "../support/hostile/runs";
import { ADMIN, genuine, hostileWorld, T, WEEK } from "../support/hostile/world";

const world = hostileWorld();
const runs = RUNS.bodyLimits;
beforeAll(world.seed, T);

/** The bytes, as one chunk or as a stream of `chunk`-sized pieces (no Content-Length). */
const bodyOf = (bytes: Uint8Array, streamed: boolean, chunk: number) =>
  streamed
    ? new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += chunk) controller.enqueue(bytes.slice(i, i + chunk));
          controller.close();
        },
      })
    : bytes;

describe("oversized bodies", () => {
  it(
    `signups over 8 KiB answer 413, with or without a Content-Length, even around a valid address (${runs.signup} cases)`,
    () => {
      const arb = fc.tuple(
        validAddress,
        fc.integer({ min: 8 * 1024 + 1, max: 64 * 1024 }),
        fc.constantFrom("json", "form", "text"),
        fc.boolean(),
      );
      return world.property("signup", arb, runs.signup, async ([a, size, kind, streamed]) => {
        const pad = "x".repeat(size);
        const text =
          kind === "json"
            ? JSON.stringify({ email: a, pad })
            : kind === "form"
              ? new URLSearchParams({ email: a, pad }).toString()
              : `${a}${pad}`;
        const type =
          kind === "json" ? "application/json" : kind === "form" ? "application/x-www-form-urlencoded" : "text/plain";
        const bytes = new TextEncoder().encode(text);
        expect(bytes.length).toBeGreaterThan(8 * 1024);
        const res = await call("/api/subscribe", {
          method: "POST",
          body: bodyOf(bytes, streamed, 1000),
          headers: { "content-type": type, accept: kind === "form" ? "text/html" : "application/json" },
          duplex: "half",
        } as RequestInit);
        if (kind === "form") await expectHtmlError(res, 413);
        else await expectJsonError(res, 413, "body_too_large");
      });
    },
    T,
  );

  it(
    `every route that reads a body answers 413 past its limit (${runs.everyRoute} cases)`,
    () => {
      type Target = "subscribe" | "manage" | "unsubscribe" | "digestTest" | "webhook" | "import";
      const LIMIT: Record<Target, number> = {
        subscribe: 8 * 1024,
        manage: 4096,
        unsubscribe: 4096,
        digestTest: 4096,
        webhook: 256 * 1024,
        import: 5 * 1024 * 1024,
      };
      const arb = fc.record({
        target: fc.oneof(
          {
            weight: 5,
            arbitrary: fc.constantFrom<Target>("subscribe", "manage", "unsubscribe", "digestTest", "webhook"),
          },
          { weight: 1, arbitrary: fc.constant<Target>("import") },
        ),
        extra: fc.integer({ min: 1, max: 40_000 }),
        streamed: fc.boolean(),
        chunk: fc.integer({ min: 1000, max: 70_000 }),
        form: fc.boolean(),
      });
      return world.property("everyRoute", arb, runs.everyRoute, async (c) => {
        const size = LIMIT[c.target] + c.extra;
        const valid = "huge-body@example.com";
        const pad = "x".repeat(size);
        let text: string;
        let type: string;
        if (c.target === "import") {
          text = `email\n${valid}\n${pad}\n`;
          type = "text/csv";
        } else if (c.form) {
          text = new URLSearchParams({
            email: valid,
            action: "unsubscribe",
            "List-Unsubscribe": "One-Click",
            pad,
          }).toString();
          type = "application/x-www-form-urlencoded";
        } else {
          text = JSON.stringify({ email: valid, action: "unsubscribe", type: "email.delivered", pad });
          type = "application/json";
        }
        const bytes = new TextEncoder().encode(text);
        expect(bytes.length).toBeGreaterThan(LIMIT[c.target]);
        const headers: Record<string, string> = { "content-type": type };
        const init = {
          method: "POST",
          headers,
          body: bodyOf(bytes, c.streamed, c.chunk),
          duplex: "half",
        } as RequestInit;
        let res: Response;
        switch (c.target) {
          case "subscribe":
            res = await call("/api/subscribe", init);
            break;
          case "manage":
            res = await call(`/manage/${await genuine("manage", world.seeds.active.id)}`, init);
            break;
          case "unsubscribe":
            res = await call(`/unsubscribe/${await genuine("unsubscribe", world.seeds.active.id)}`, init);
            break;
          case "digestTest":
            Object.assign(headers, ADMIN);
            res = await call(`/admin/digests/${WEEK}/test`, init);
            break;
          case "import":
            Object.assign(headers, ADMIN);
            res = await call("/admin/subscribers/import", init);
            break;
          case "webhook":
            Object.assign(headers, await world.signed(`msg_huge_${Math.random()}`, text));
            res = await world.hook(new Request(`${BASE}/webhooks/resend`, init));
            break;
        }
        await check(res, {
          allowed: [413],
          kind: kindFor("POST", headers),
          code: ["body_too_large"],
          what: `huge ${c.target}`,
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
