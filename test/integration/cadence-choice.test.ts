/**
 * Readers choosing their cadence (issue 11, "Choosing"): the signup's optional `cadence` in JSON and in forms, the
 * refusal of anything else (422 naming the two, nothing written), a re-signup, the preferences page and its switching
 * rule, the forms that offer the choice, and what the reader is told (confirmation page, welcome email, export).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { config } from "../../src/config";
import { mailboxKey } from "../../src/lib/email";
import { manageUrl } from "../../src/lib/links";
import { dayLabel, formatWeek, isoWeekOf, nextWeek, parseWeek, weekDays } from "../../src/lib/week";
import { call, outboxFor, runMailQueue, sendConfirmation, subscribeJson, subscriberRow } from "../support/helpers";
import { postForm } from "../support/subscribers";

let n = 0;
const fresh = (tag: string) => `cadence-${tag}-${Date.now().toString(36)}-${++n}@example.com`;
const rowOf = async (email: string) => (await subscriberRow(email)) as Record<string, unknown> | null;

async function expectInvalidCadence(res: Response) {
  expect(res.status).toBe(422);
  const body = (await res.json()) as { error: { code: string; message: string; valid: string[] } };
  expect(body.error).toEqual({
    code: "invalid_cadence",
    message: 'Choose a cadence: "weekly" or "daily".',
    valid: ["weekly", "daily"],
  });
}

/** A signup form post of `pairs` (repeated names allowed), urlencoded or multipart. */
function signupForm(pairs: [string, string][], multipart = false) {
  let body: BodyInit;
  const headers: Record<string, string> = { accept: "text/html" };
  if (multipart) {
    const form = new FormData();
    for (const [k, v] of pairs) form.append(k, v);
    body = form;
  } else {
    body = new URLSearchParams(pairs).toString();
    headers["content-type"] = "application/x-www-form-urlencoded";
  }
  return call("/api/subscribe", { method: "POST", body, headers, redirect: "manual" });
}

describe("POST /api/subscribe with a cadence", () => {
  it("stores daily or weekly as chosen, weekly when absent; the choice applies at once", async () => {
    for (const [extra, stored] of [
      [{ cadence: "daily" }, "daily"],
      [{ cadence: "weekly" }, "weekly"],
      [{}, "weekly"],
    ] as const) {
      const email = fresh("json");
      expect((await subscribeJson(email, extra)).status).toBe(202);
      const row = await rowOf(email);
      expect(row, JSON.stringify(extra)).toMatchObject({ status: "pending", cadence: stored, cadence_from: null });
    }
  });

  it("reads the form field, urlencoded and multipart, with topics beside it", async () => {
    for (const multipart of [false, true]) {
      const email = fresh("form");
      const res = await signupForm(
        [
          ["email", email],
          ["cadence", "daily"],
          ["topics", "robotics"],
        ],
        multipart,
      );
      expect(res.status).toBe(303);
      const row = await rowOf(email);
      expect(row).toMatchObject({ cadence: "daily", source: "form" });
      expect(JSON.parse(String(row!.topics))).toEqual(["robotics"]);
    }
  });

  it("costs no more D1 rows than a signup without a cadence (the same one statement)", async () => {
    const cost = async (extra: Record<string, unknown>) =>
      (await subscribeJson(fresh("cost"), extra)).headers.get("server-timing");
    const without = await cost({});
    expect(without).toMatch(/^d1;desc="rows_read=\d+ rows_written=\d+"$/);
    expect(await cost({ cadence: "daily" })).toBe(without);
  });

  it("refuses any other value with 422 naming the two, and writes nothing", async () => {
    const cases: unknown[] = [
      "",
      "Daily",
      "WEEKLY",
      " daily",
      "daily ",
      "monthly",
      "weekly,daily",
      "__proto__",
      "daily\u0000",
      "d".repeat(5_000),
      null,
      5,
      true,
      [],
      ["daily"],
      { daily: true },
    ];
    for (const cadence of cases) {
      const email = fresh("bad");
      await expectInvalidCadence(await subscribeJson(email, { cadence }));
      expect(await rowOf(email), JSON.stringify(cadence).slice(0, 40)).toBeNull();
    }
  });

  it("refuses a form with the field twice, empty, or a file, with the error page; writes nothing", async () => {
    for (const pairs of [
      [
        ["cadence", "daily"],
        ["cadence", "weekly"],
      ],
      [["cadence", ""]],
      [["cadence", "<b>hourly</b>"]],
    ] as [string, string][][]) {
      const email = fresh("bad-form");
      const res = await signupForm([["email", email], ...pairs]);
      expect(res.status).toBe(422);
      expect(res.headers.get("content-type")).toContain("text/html");
      const page = await res.text();
      expect(page).toContain("Choose a cadence");
      expect(page).not.toContain("<b>hourly</b>");
      expect(await rowOf(email)).toBeNull();
    }
    const file = new FormData();
    const email = fresh("file");
    file.append("email", email);
    file.append("cadence", new Blob(["daily"], { type: "text/plain" }));
    const res = await call("/api/subscribe", { method: "POST", body: file, headers: { accept: "application/json" } });
    await expectInvalidCadence(res);
    expect(await rowOf(email)).toBeNull();
  });
});

describe("a re-signup and the cadence", () => {
  const seed = async (email: string, status: string, cadence: string, cadenceFrom: string | null, sentAt = 0) =>
    env.DB.prepare(
      "INSERT INTO subscribers (email, email_key, status, source, created_at, consent_at, confirm_sent_at, confirm_count, link_key, cadence, cadence_from) VALUES (?, ?, ?, 'api', 0, 0, ?, 1, 'k', ?, ?)",
    )
      .bind(email, mailboxKey(email), status, sentAt, cadence, cadenceFrom)
      .run();

  it("of an unsubscribed or pending row keeps its cadence when none is given, and takes one given", async () => {
    for (const status of ["unsubscribed", "pending"]) {
      const keep = fresh(`keep-${status}`);
      await seed(keep, status, "daily", "2020-W01");
      expect((await subscribeJson(keep)).status).toBe(202);
      expect(await rowOf(keep)).toMatchObject({ status: "pending", cadence: "daily", cadence_from: "2020-W01" });

      const change = fresh(`change-${status}`);
      await seed(change, status, "daily", "2020-W01");
      expect((await subscribeJson(change, { cadence: "weekly" })).status).toBe(202);
      expect(await rowOf(change)).toMatchObject({ status: "pending", cadence: "weekly", cadence_from: null });
    }
  });

  it("of an active row, or a pending one inside the resend throttle, changes nothing: knowing an address is not enough", async () => {
    const active = fresh("active");
    await seed(active, "active", "weekly", null);
    expect((await subscribeJson(active, { cadence: "daily" })).status).toBe(202);
    expect(await rowOf(active)).toMatchObject({ status: "active", cadence: "weekly" });

    const throttled = fresh("throttled");
    await seed(throttled, "pending", "weekly", null, Date.now());
    expect((await subscribeJson(throttled, { cadence: "daily" })).status).toBe(202);
    expect(await rowOf(throttled)).toMatchObject({ cadence: "weekly" });
  });
});

describe("the preferences page", () => {
  async function reader(status: "active" | "pending" | "unsubscribed", cadence = "weekly") {
    const email = fresh(`manage-${status}`);
    const row = await env.DB.prepare(
      "INSERT INTO subscribers (email, email_key, status, source, created_at, consent_at, confirmed_at, link_key, cadence) VALUES (?, ?, ?, 'api', 0, 0, 0, 'manage-key', ?) RETURNING id",
    )
      .bind(email, mailboxKey(email), status, cadence)
      .first<{ id: number }>();
    const url = await manageUrl(config(env), { id: row!.id, linkKey: "manage-key" });
    return { email, path: new URL(url).pathname };
  }
  const chosen = (page: string) =>
    [...page.matchAll(/<input type="radio" name="cadence" value="(\w+)"( checked)?>/g)]
      .filter((m) => m[2])
      .map((m) => m[1]);
  const save = (path: string, fields: Record<string, string>) =>
    postForm(path, { action: "cadence", ...fields }).then(async (res) => ({
      status: res.status,
      page: await res.text(),
    }));
  const mondayOf = (week: string) => dayLabel(weekDays(parseWeek(week)!)[0]!);

  it("shows the choice with the reader's ticked; a GET with any query changes nothing", async () => {
    const { email, path } = await reader("active", "daily");
    const before = await rowOf(email);
    const page = await (await call(`${path}?action=cadence&cadence=weekly`)).text();
    expect(page).toContain("<legend>How often</legend>");
    expect(chosen(page)).toEqual(["daily"]);
    expect(page).toContain("receiving the daily edition");
    expect(await rowOf(email)).toEqual(before);
  });

  it("an active reader's switch applies from next week, says so, and switching back before then cancels it", async () => {
    const { email, path } = await reader("active");
    const next = nextWeek(Date.now());
    const first = await save(path, { cadence: "daily" });
    expect(first.status).toBe(200);
    expect(await rowOf(email)).toMatchObject({ cadence: "daily", cadence_from: next });
    expect(first.page).toContain(`Saved: you get the daily edition from the papers of the week of ${mondayOf(next)}.`);
    // Until then the page says what still holds.
    expect(first.page).toContain("receiving the weekly digest");
    expect(first.page).toContain(
      `Until then you get the weekly digest, so no paper reaches you twice and none is missed.`,
    );
    expect(chosen(first.page)).toEqual(["daily"]);

    const same = await save(path, { cadence: "daily" });
    expect(same.page).toContain("Nothing to change: you chose the daily edition.");
    expect(await rowOf(email)).toMatchObject({ cadence: "daily", cadence_from: next });

    const back = await save(path, { cadence: "weekly" });
    expect(back.page).toContain("Saved: you get the weekly digest.");
    expect(back.page).not.toContain("Until then");
    expect(await rowOf(email)).toMatchObject({ cadence: "weekly", cadence_from: null });
  });

  it("a reader whose earlier switch is in effect switches again from next week", async () => {
    const { email, path } = await reader("active", "daily");
    const thisWeek = formatWeek(isoWeekOf(new Date()));
    await env.DB.prepare("UPDATE subscribers SET cadence_from = ? WHERE email = ?").bind(thisWeek, email).run();
    await save(path, { cadence: "weekly" });
    expect(await rowOf(email)).toMatchObject({ cadence: "weekly", cadence_from: nextWeek(Date.now()) });
  });

  it("a pending reader's choice applies at once; an unsubscribed reader is not offered one and cannot set it", async () => {
    const pending = await reader("pending");
    const res = await save(pending.path, { cadence: "daily" });
    expect(res.page).toContain("Saved: you get the daily edition.");
    expect(await rowOf(pending.email)).toMatchObject({ cadence: "daily", cadence_from: null });

    const gone = await reader("unsubscribed");
    expect(await (await call(gone.path)).text()).not.toContain('name="cadence"');
    const tried = await save(gone.path, { cadence: "daily" });
    expect(tried.status).toBe(409);
    expect(tried.page).toContain("Resubscribe first");
    expect(await rowOf(gone.email)).toMatchObject({ cadence: "weekly" });
  });

  it("refuses no choice or any other value with 422 and keeps the reader's", async () => {
    const { email, path } = await reader("active");
    for (const fields of [{}, { cadence: "" }, { cadence: "hourly" }, { cadence: "Daily" }] as Record<
      string,
      string
    >[]) {
      const res = await save(path, fields);
      expect(res.status, JSON.stringify(fields)).toBe(422);
      expect(res.page).toContain("Choose a cadence");
    }
    const json = await call(path, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ action: "cadence", cadence: ["daily"] }),
    });
    await expectInvalidCadence(json);
    expect(await rowOf(email)).toMatchObject({ cadence: "weekly", cadence_from: null });
  });

  it("needs a genuine manage link", async () => {
    const { email, path } = await reader("active");
    const forged = `${path.slice(0, -3)}${path.slice(-3) === "AAA" ? "BBB" : "AAA"}`;
    expect((await save(forged, { cadence: "daily" })).status).toBe(400);
    expect(await rowOf(email)).toMatchObject({ cadence: "weekly" });
  });

  it("the data export carries the cadence and a waiting switch", async () => {
    const { path } = await reader("active");
    await save(path, { cadence: "daily" });
    const data = (await (await call(`${path}/data.json`)).json()) as Record<string, unknown>;
    expect(data).toMatchObject({ cadence: "daily", cadence_from_week: nextWeek(Date.now()) });
  });
});

describe("what a daily reader is told", () => {
  it("the confirmation page and the welcome email speak of every morning, not Monday", async () => {
    const email = fresh("told");
    expect((await subscribeJson(email, { cadence: "daily" })).status).toBe(202);
    await sendConfirmation(email);
    const confirm = (await outboxFor(email)).at(-1)!.text.match(/https?:\/\/\S*\/confirm\/\S+/)![0];
    const page = await (await call(confirm, { method: "POST" })).text();
    expect(page).toContain("will arrive every morning with new papers");
    await runMailQueue([{ kind: "welcome", subscriberId: Number((await rowOf(email))!.id) }]);
    const welcome = (await outboxFor(email)).find((m) => m.subject.startsWith("Welcome"))!;
    expect(welcome.text).toContain(
      "Every morning you will get the most upvoted machine-learning papers of the previous day",
    );
    expect(welcome.html).toContain("Your first edition arrives the next morning with new papers.");
    expect(welcome.text).not.toContain("Monday");
  });
});

describe("the forms", () => {
  const radios = (page: string) => [...page.matchAll(/<input type="radio" name="cadence" value="(\w+)"( checked)?>/g)];

  it("/form offers the choice only with ?cadence=1, weekly ticked, before the button", async () => {
    expect(radios(await (await call("/form")).text())).toHaveLength(0);
    expect(radios(await (await call("/form?topics=1")).text())).toHaveLength(0);
    const page = await (await call("/form?cadence=1")).text();
    expect(radios(page).map((m) => [m[1], Boolean(m[2])])).toEqual([
      ["weekly", true],
      ["daily", false],
    ]);
    expect(page).toContain("<legend>How often</legend>");
    expect(page.indexOf('type="submit"')).toBeGreaterThan(page.indexOf("</fieldset>"));
    // Both choices together: cadence, then topics, then the one button.
    const both = await (await call("/form?cadence=1&topics=1")).text();
    expect(both.match(/type="submit"/g)).toHaveLength(1);
    expect(both.indexOf('name="cadence"')).toBeLessThan(both.indexOf('name="topics"'));
  });

  it("the embed script offers it only with data-cadence", async () => {
    const js = await (await call("/embed.js")).text();
    expect(js).toContain('d.cadence === "true"');
    expect(js).toContain("Daily: every morning, the previous day's papers");
  });
});
