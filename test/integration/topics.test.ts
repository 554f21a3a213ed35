/**
 * Readers choosing topics (issue 10, "Choosing"): the list, the signup's optional `topics` in JSON and in forms, the
 * refusal of anything else (422 with the valid ids, nothing written), and the preferences page.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { config } from "../../src/config";
import { mailboxKey } from "../../src/lib/email";
import { manageUrl } from "../../src/lib/links";
import { TOPICS } from "../../src/papers/topics";
import { call, subscribeJson, subscriberRow } from "../support/helpers";

const IDS = TOPICS.map((t) => t.id);
let n = 0;
const fresh = (tag: string) => `topics-${tag}-${Date.now().toString(36)}-${++n}@example.com`;
const topicsOf = async (email: string) => (await subscriberRow(email))?.topics ?? null;

/** A form post of `pairs` (repeated names allowed), urlencoded or multipart. */
function postForm(pairs: [string, string | Blob][], multipart = false) {
  let body: BodyInit;
  const headers: Record<string, string> = { accept: "text/html" };
  if (multipart) {
    const form = new FormData();
    for (const [k, v] of pairs) form.append(k, v);
    body = form;
  } else {
    body = new URLSearchParams(pairs as [string, string][]).toString();
    headers["content-type"] = "application/x-www-form-urlencoded";
  }
  return call("/api/subscribe", { method: "POST", body, headers, redirect: "manual" });
}

async function expectUnknownTopics(res: Response) {
  expect(res.status).toBe(422);
  const body = (await res.json()) as { error: { code: string; message: string; valid: string[] } };
  expect(body.error.code).toBe("unknown_topics");
  expect(body.error.valid).toEqual(IDS);
  expect(body.error.message).toContain("language-models");
  return body.error;
}

describe("GET /api/topics", () => {
  it("lists the 16 topics, cacheable for an hour, readable cross-origin", async () => {
    const res = await call("/api/topics", { headers: { origin: "https://blog.example.org" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ topics: TOPICS.map(({ id, name }) => ({ id, name })) });
    expect(res.headers.get("cache-control")).toBe("public, max-age=3600");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("content-type")).toContain("application/json");
  });

  it("answers the CORS preflight for GET", async () => {
    const res = await call("/api/topics", {
      method: "OPTIONS",
      headers: { origin: "https://blog.example.org", "access-control-request-method": "GET" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-methods")).toContain("GET");
  });
});

describe("POST /api/subscribe with topics", () => {
  it("stores a JSON array's ids deduplicated, in the list's order", async () => {
    const email = fresh("json");
    const res = await subscribeJson(email, { topics: ["code", "vision", "code", " robotics "] });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: "pending" });
    expect(JSON.parse(String(await topicsOf(email)))).toEqual(["vision", "robotics", "code"]);
  });

  it("stores NULL when no topics are given (absent, null, empty list)", async () => {
    for (const extra of [{}, { topics: null }, { topics: [] }, { topics: "" }]) {
      const email = fresh("none");
      expect((await subscribeJson(email, extra)).status).toBe(202);
      const row = await subscriberRow(email);
      expect(row, JSON.stringify(extra)).not.toBeNull();
      expect(row!.topics).toBeNull();
    }
  });

  it("costs no more D1 rows than a signup without topics (the same one statement)", async () => {
    const cost = async (extra: Record<string, unknown>) => {
      const res = await subscribeJson(fresh("cost"), extra);
      expect(res.status).toBe(202);
      return res.headers.get("server-timing");
    };
    const without = await cost({});
    expect(without).toMatch(/^d1;desc="rows_read=\d+ rows_written=\d+"$/);
    console.log(`D1 per new signup: ${without}`);
    expect(await cost({ topics: IDS })).toBe(without);
  });

  it("reads repeated form fields, urlencoded and multipart, and one comma-separated field", async () => {
    const cases: [[string, string][], boolean, string[]][] = [
      [
        [
          ["topics", "agents"],
          ["topics", "3d"],
        ],
        false,
        ["agents", "3d"],
      ],
      [
        [
          ["topics", "safety"],
          ["topics", "language-models"],
          ["topics", "safety"],
        ],
        true,
        ["language-models", "safety"],
      ],
      [[["topics", "data, science,"]], false, ["science", "data"]],
      [[["topics", "efficiency,theory"]], true, ["efficiency", "theory"]],
    ];
    for (const [topics, multipart, stored] of cases) {
      const email = fresh("form");
      const res = await postForm([["email", email], ...topics], multipart);
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("http://127.0.0.1:8787/thanks");
      expect(JSON.parse(String(await topicsOf(email))), JSON.stringify(topics)).toEqual(stored);
      expect((await subscriberRow(email))!.source).toBe("form");
    }
  });

  it("refuses unknown ids with 422 and the valid ids, and writes nothing", async () => {
    const email = fresh("unknown");
    const error = await expectUnknownTopics(await subscribeJson(email, { topics: ["vision", "quantum-gravity"] }));
    expect(error.message).toBe(`One entry is not a topic id. The topics are: ${IDS.join(", ")}.`);
    expect(await subscriberRow(email)).toBeNull();
  });

  it("refuses unknown ids in a form with the error page, and writes nothing", async () => {
    const email = fresh("unknown-form");
    const res = await postForm([
      ["email", email],
      ["topics", "vision"],
      ["topics", "<b>x</b>"],
    ]);
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toContain("text/html");
    const page = await res.text();
    expect(page).toContain("One entry is not a topic id.");
    expect(page).not.toContain("<b>x</b>");
    expect(await subscriberRow(email)).toBeNull();
  });

  it("refuses hostile topics values with a 4xx, never a 5xx, and writes nothing", async () => {
    const cases: unknown[] = [
      {},
      { vision: true },
      JSON.parse('{"__proto__": ["vision"]}'),
      5,
      true,
      [1],
      [null],
      [["vision"]],
      [{ id: "vision" }],
      Array.from({ length: 10_000 }, () => "vision"),
      Array.from({ length: 17 }, () => "vision"),
      Array.from({ length: 17 }, () => "code").join(","),
      "a".repeat(7_000),
      ["a".repeat(41)],
      "x,".repeat(3_000),
      ["__proto__"],
      ["constructor"],
      ["toString"],
      ["hasOwnProperty"],
      "__proto__",
      ["vision\u0000"],
      ["VISION"],
      ["\ud800"],
    ];
    for (const topics of cases) {
      const email = fresh("hostile");
      const res = await subscribeJson(email, { topics });
      const what = JSON.stringify(topics).slice(0, 80);
      expect([400, 413, 422], what).toContain(res.status);
      if (res.status === 422) await expectUnknownTopics(res);
      expect(await subscriberRow(email), what).toBeNull();
    }
  });

  it("refuses a file part named topics; a __proto__ key is no way around the checks", async () => {
    const email = fresh("file");
    const res = await postForm(
      [
        ["email", email],
        ["topics", new Blob(["vision"], { type: "text/plain" })],
      ],
      true,
    );
    expect(res.status).toBe(422);
    expect(await subscriberRow(email)).toBeNull();

    const raw = (body: string) =>
      call("/api/subscribe", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body,
      });
    // An own "__proto__" key holding topics is not the topics field: the signup stands, without topics.
    const proto = fresh("proto");
    expect((await raw(`{"email":"${proto}","__proto__":{"topics":["vision"]}}`)).status).toBe(202);
    expect((await subscriberRow(proto))!.topics).toBeNull();
    // Topics as an object whose own "__proto__" key holds ids: not a list.
    const inner = fresh("proto-inner");
    await expectUnknownTopics(await raw(`{"email":"${inner}","topics":{"__proto__":["code"]}}`));
    expect(await subscriberRow(inner)).toBeNull();
  });
});

describe("a re-signup and topics", () => {
  const seed = async (email: string, status: string, topics: string[] | null, confirmSentAt = 0) =>
    env.DB.prepare(
      "INSERT INTO subscribers (email, email_key, status, source, created_at, consent_at, confirm_sent_at, confirm_count, link_key, topics) VALUES (?, ?, ?, 'api', 0, 0, ?, 1, 'k', ?)",
    )
      .bind(email, mailboxKey(email), status, confirmSentAt, topics ? JSON.stringify(topics) : null)
      .run();

  it("of an unsubscribed or pending row keeps its topics when none are given, and replaces them when some are", async () => {
    for (const status of ["unsubscribed", "pending"]) {
      const keep = fresh(`keep-${status}`);
      await seed(keep, status, ["vision"]);
      expect((await subscribeJson(keep)).status).toBe(202);
      expect((await subscriberRow(keep))!.status).toBe("pending");
      expect(JSON.parse(String(await topicsOf(keep)))).toEqual(["vision"]);

      const replace = fresh(`replace-${status}`);
      await seed(replace, status, ["vision"]);
      expect((await subscribeJson(replace, { topics: ["code", "audio-speech"] })).status).toBe(202);
      const row = await subscriberRow(replace);
      expect(row!.status).toBe("pending");
      expect(row!.confirm_sent_at).not.toBe(0);
      expect(JSON.parse(String(row!.topics))).toEqual(["audio-speech", "code"]);
    }
  });

  it("of an active row, or a pending one inside the resend throttle, changes nothing, topics included", async () => {
    const active = fresh("active");
    await seed(active, "active", ["vision"]);
    expect((await subscribeJson(active, { topics: ["code"] })).status).toBe(202);
    expect(JSON.parse(String(await topicsOf(active)))).toEqual(["vision"]);

    const throttled = fresh("throttled");
    await seed(throttled, "pending", null, Date.now());
    expect((await subscribeJson(throttled, { topics: ["code"] })).status).toBe(202);
    expect(await topicsOf(throttled)).toBeNull();
  });

  it("with unknown ids leaves an existing row as it was", async () => {
    const email = fresh("existing-unknown");
    await seed(email, "unsubscribed", ["vision"]);
    await expectUnknownTopics(await subscribeJson(email, { topics: ["nope"] }));
    const row = await subscriberRow(email);
    expect(row!.status).toBe("unsubscribed");
    expect(JSON.parse(String(row!.topics))).toEqual(["vision"]);
  });
});

describe("the preferences page", () => {
  async function reader(topics: string[] | null) {
    const email = fresh("manage");
    const row = await env.DB.prepare(
      "INSERT INTO subscribers (email, email_key, status, source, created_at, consent_at, confirmed_at, link_key, topics) VALUES (?, ?, 'active', 'api', 0, 0, 0, 'manage-key', ?) RETURNING id",
    )
      .bind(email, mailboxKey(email), topics ? JSON.stringify(topics) : null)
      .first<{ id: number }>();
    const url = await manageUrl(config(env), { id: row!.id, linkKey: "manage-key" });
    return { email, path: new URL(url).pathname };
  }

  const checked = (page: string) =>
    [...page.matchAll(/<input type="checkbox" name="topics" value="([^"]+)"( checked)?>/g)]
      .filter((m) => m[2])
      .map((m) => m[1]);
  const boxes = (page: string) => [...page.matchAll(/<input type="checkbox" name="topics" value="([^"]+)"/g)].length;

  const save = (path: string, pairs: [string, string][]) =>
    call(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html" },
      body: new URLSearchParams([["action", "topics"], ...pairs]).toString(),
    });

  it("shows every topic in a fieldset, the reader's ticked; a GET changes nothing", async () => {
    const { email, path } = await reader(["vision", "code"]);
    const before = await subscriberRow(email);
    const res = await call(`${path}?topics=robotics&action=topics`);
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain("<legend>Topics</legend>");
    expect(boxes(page)).toBe(16);
    expect(checked(page)).toEqual(["vision", "code"]);
    for (const { name } of TOPICS) expect(page).toContain(name);
    expect(page).toContain('value="topics"');
    expect(await subscriberRow(email)).toEqual(before);
  });

  it("saves the ticked topics and answers the page with a Saved note", async () => {
    const { email, path } = await reader(null);
    const res = await save(path, [
      ["topics", "science"],
      ["topics", "agents"],
    ]);
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toMatch(/<p class="ok" role="status">Saved/);
    expect(checked(page)).toEqual(["agents", "science"]);
    expect(JSON.parse(String(await topicsOf(email)))).toEqual(["agents", "science"]);

    // Opened again: the same boxes ticked.
    expect(checked(await (await call(path)).text())).toEqual(["agents", "science"]);
  });

  it("saves no box ticked as no topics", async () => {
    const { email, path } = await reader(["vision"]);
    const res = await save(path, []);
    expect(res.status).toBe(200);
    expect(checked(await res.text())).toEqual([]);
    expect(await topicsOf(email)).toBeNull();
  });

  it("saves topics sent as JSON too", async () => {
    const { email, path } = await reader(null);
    const res = await call(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ action: "topics", topics: ["3d"] }),
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(String(await topicsOf(email)))).toEqual(["3d"]);
  });

  it("refuses unknown or hostile topics with 422 and keeps the reader's", async () => {
    const { email, path } = await reader(["vision"]);
    for (const pairs of [
      [["topics", "nope"]],
      [
        ["topics", "vision"],
        ["topics", "__proto__"],
      ],
      Array.from({ length: 17 }, (): [string, string] => ["topics", "code"]),
      [["topics", "x".repeat(2000)]],
    ] as [string, string][][]) {
      const res = await save(path, pairs);
      expect(res.status, JSON.stringify(pairs).slice(0, 80)).toBe(422);
      expect(res.headers.get("content-type")).toContain("text/html");
    }
    const json = await call(path, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ action: "topics", topics: [{}] }),
    });
    await expectUnknownTopics(json);
    expect(JSON.parse(String(await topicsOf(email)))).toEqual(["vision"]);
  });

  it("needs a genuine manage link", async () => {
    const { email, path } = await reader(["vision"]);
    const forged = `${path.slice(0, -3)}${path.slice(-3) === "AAA" ? "BBB" : "AAA"}`;
    const res = await save(forged, [["topics", "code"]]);
    expect(res.status).toBe(400);
    expect(JSON.parse(String(await topicsOf(email)))).toEqual(["vision"]);
  });
});

describe("the forms", () => {
  const boxes = (page: string) => [...page.matchAll(/<input type="checkbox" name="topics" value="([^"]+)"/g)];

  it("/form is the one-field form unless asked for topics (?topics=1)", async () => {
    const plain = await (await call("/form")).text();
    expect(boxes(plain)).toHaveLength(0);
    expect(plain).not.toContain("<fieldset");

    const res = await call("/form?topics=1");
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain("<legend>Topics (optional)</legend>");
    expect(boxes(page).map((m) => m[1])).toEqual(IDS);
    for (const { name } of TOPICS) expect(page).toContain(`> ${name}</label>`);
    // Nothing ticked by default, and the button comes after the choice.
    expect(page).not.toContain(" checked");
    expect(page.indexOf('type="submit"')).toBeGreaterThan(page.indexOf("</fieldset>"));
  });

  it("the embed script carries the topics, offered only with data-topics", async () => {
    const js = await (await call("/embed.js")).text();
    for (const { id, name } of TOPICS) expect(js).toContain(JSON.stringify({ id, name }));
    expect(js).toContain('d.topics === "true"');
  });
});
