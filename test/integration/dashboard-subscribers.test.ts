/**
 * The dashboard's subscribers page (/admin/readers; /admin/subscribers is the bearer API): search by address, erasure
 * confirmed on a page of its own first, CSV import by file upload with its per-line report, the CSV export, and
 * refusals (no session, cross-site, no file).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ImportJob } from "../../src/db/imports";
import type { DigestJob } from "../../src/digest/jobs";
import { importActive } from "../support/admin";
import { FORM, session } from "../support/dashboard";
import { BASE, call, fetchWith, freshIp } from "../support/helpers";
import { waitFor } from "../support/poll";
import { consume, holdingQueue } from "../support/queues";

const PAGE = "/admin/readers";

const get = async (path: string, cookie: string) => call(path, { headers: { cookie }, redirect: "manual" });
const post = (path: string, cookie: string, fields: Record<string, string> = {}, origin = BASE) =>
  call(path, {
    method: "POST",
    headers: { ...FORM, origin, cookie },
    body: new URLSearchParams(fields).toString(),
    redirect: "manual",
  });
const uploadForm = (csv: string | null) => {
  const form = new FormData();
  if (csv !== null) form.append("file", new Blob([csv], { type: "text/csv" }), "list.csv");
  else form.append("note", "no file");
  return form;
};
/** Uploads `csv` as the import form's file (multipart; fetch sets the boundary). */
const upload = (cookie: string, csv: string | null, origin = BASE) =>
  call(`${PAGE}/import`, { method: "POST", headers: { origin, cookie }, body: uploadForm(csv), redirect: "manual" });
/** The same upload as a request, for fetchWith (a held or broken queue). */
const uploadRequest = (cookie: string, csv: string) =>
  new Request(new URL(`${PAGE}/import`, BASE), {
    method: "POST",
    headers: { origin: BASE, cookie, "cf-connecting-ip": freshIp() },
    body: uploadForm(csv),
    redirect: "manual",
  });
const search = (email: string, cookie: string) => get(`${PAGE}?email=${encodeURIComponent(email)}`, cookie);
const idOf = async (email: string) =>
  (await env.DB.prepare("SELECT id FROM subscribers WHERE email = ?").bind(email).first<{ id: number }>())?.id;

async function page(res: Response, status = 200) {
  expect(res.status).toBe(status);
  const text = await res.text();
  expect(text.length).toBeLessThan(60_000);
  return text;
}

describe("dashboard subscribers", () => {
  it("needs a session: without one pages and forms send the operator to sign in", async () => {
    for (const path of [
      PAGE,
      `${PAGE}?email=a%40example.com`,
      `${PAGE}/export.csv`,
      `${PAGE}/imports/1`,
      `${PAGE}/imports/1/rejected.csv`,
    ]) {
      const res = await call(path, { redirect: "manual" });
      expect(res.status, path).toBe(303);
      expect(res.headers.get("location")).toBe(`${BASE}/admin/sign-in`);
    }
    for (const path of [`${PAGE}/import`, `${PAGE}/1/erase`]) {
      const res = await call(path, { method: "POST", headers: FORM, body: "confirm=yes", redirect: "manual" });
      expect(res.status, path).toBe(303);
    }
  });

  it("finds an imported address in any letter case and shows its status and cadence", async () => {
    await importActive("dash-find@example.com");
    const text = await page(await search("Dash-FIND@Example.com", await session()));
    expect(text).toContain("dash-find@example.com");
    expect(text).toContain('<th scope="row">Status</th><td>active</td>');
    expect(text).toContain('<th scope="row">Cadence</th><td>weekly');
    expect(text).toContain('<th scope="row">Source</th><td>import</td>');
    expect(text).toContain(`${PAGE}/export.csv`);
    expect(text).toContain('enctype="multipart/form-data"');
  });

  it("says so for an unknown address", async () => {
    const text = await page(await search("nobody-here@example.com", await session()));
    expect(text).toContain("No subscriber with that address.");
  });

  it("erase asks first and changes nothing; confirmed, it erases", async () => {
    await importActive("dash-erase@example.com");
    const id = (await idOf("dash-erase@example.com"))!;
    const cookie = await session();
    // The form's own field cannot make the page name someone else: it names the id's address.
    const ask = await page(await post(`${PAGE}/${id}/erase`, cookie, { email: "someone-else@example.com" }));
    expect(ask).toContain("<h1>Erase dash-erase@example.com?</h1>");
    expect(ask).not.toContain("someone-else");
    expect(ask).toContain('name="confirm" value="yes"');
    expect(ask).toContain(`${PAGE}?email=dash-erase%40example.com`);
    expect(await idOf("dash-erase@example.com")).toBe(id);

    const done = await post(`${PAGE}/${id}/erase`, cookie, { confirm: "yes" });
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe(`${BASE}${PAGE}?erased=1`);
    expect(await idOf("dash-erase@example.com")).toBeUndefined();
    expect(await page(await get(`${PAGE}?erased=1`, cookie))).toContain("Erased.");
  });

  it("imports an uploaded CSV on its own page and reports each rejected row, escaped, also as CSV", async () => {
    await importActive("dash-known@example.com");
    const cookie = await session();
    const hostile = "<img src=x onerror=alert(1)>@x";
    const csv = ["email", "dash-new@example.com", "dash-known@example.com", "not-an-email", hostile].join("\n");
    const res = await upload(cookie, csv);
    expect(res.status).toBe(303);
    const at = res.headers.get("location")!;
    expect(at).toMatch(new RegExp(`^${BASE}${PAGE}/imports/\\d+$`));
    // The Worker's own digest queue imports it.
    const text = await waitFor(
      "the import to finish",
      async () => page(await get(at, cookie)),
      (t) => t.includes("Import done."),
      20_000,
    );
    expect(text).toContain("<h1>Import of list.csv</h1>");
    expect(text).not.toContain('http-equiv="refresh"');
    expect(text).toMatch(/Rows<\/th><td class="n">4</);
    expect(text).toMatch(/Imported<\/th><td class="n">1</);
    expect(text).toMatch(/Skipped \(already known or repeated\)<\/th><td class="n">1</);
    expect(text).toMatch(/Rejected<\/th><td class="n">2</);
    expect(text).toContain('<tr><td class="n">4</td><td>not-an-email</td>');
    expect(text).not.toContain("<img");
    expect(text).toContain("&lt;img src=x onerror=alert(1)&gt;@x");
    expect(await idOf("dash-new@example.com")).toBeTypeOf("number");

    // The subscribers page lists it among the recent imports, with a link back to its page.
    const list = await page(await get(PAGE, cookie));
    expect(list).toContain(`<a href="${at}">list.csv</a>`);

    const rejected = await get(`${at}/rejected.csv`, cookie);
    expect(rejected.status).toBe(200);
    expect(rejected.headers.get("content-type")).toMatch(/^text\/csv/);
    const lines = (await rejected.text()).trim().split("\n");
    expect(lines[0]).toBe("line,value,error");
    expect(lines[1]).toMatch(/^4,not-an-email,/);
    expect(lines[2]).toMatch(/^5,<img src=x onerror=alert\(1\)>@x,/);
  });

  it("shows an import's progress chunk by chunk; a chunk delivered twice imports and counts nothing twice", async () => {
    await importActive("chunk-known@example.com");
    const cookie = await session();
    const run = crypto.randomUUID().slice(0, 8);
    const fresh = Array.from({ length: 1200 }, (_, i) => `chunk-${run}-${i}@example.com`);
    const csv = ["email", ...fresh, "chunk-known@example.com", `CHUNK-${run}-0@example.com`, "nope", "@x"].join("\n");
    const hold = holdingQueue<DigestJob>();
    const res = await fetchWith({ DIGEST_QUEUE: hold.queue }, uploadRequest(cookie, csv));
    expect(res.status).toBe(303);
    const at = res.headers.get("location")!;
    // 1,201 valid addresses (one repeats another in other letters): three chunks, one message each.
    expect(hold.held).toEqual([0, 1, 2].map((seq) => ({ kind: "import", importId: expect.any(Number), seq })));
    expect(new Set(hold.held.map((j) => (j as ImportJob).importId)).size).toBe(1);
    expect(at).toBe(`${BASE}${PAGE}/imports/${(hold.held[0] as ImportJob).importId}`);

    /** The page, read as "state handled imported skipped rejected" (state: refreshing while it runs, then done). */
    const progress = async () => {
      const text = await page(await get(at, cookie));
      const n = (re: RegExp) => re.exec(text)?.[1];
      const state = text.includes('http-equiv="refresh"') ? "refreshing" : text.includes("Import done.") ? "done" : "?";
      return [
        state,
        n(/(\d+) of 1201 valid addresses handled/),
        n(/Imported<\/th><td class="n">(\d+)</),
        n(/Skipped \(already known or repeated\)<\/th><td class="n">(\d+)</),
        n(/Rejected<\/th><td class="n">(\d+)</),
      ].join(" ");
    };
    // Rejected rows are known at once; nothing is imported before the queue runs.
    expect(await progress()).toBe("refreshing 0 0 1 2");
    // Two consumers get the same message at once (the queue delivers at least once): it counts once.
    await Promise.all([consume("papers-digest", [hold.held[0]]), consume("papers-digest", [hold.held[0]], env, 2)]);
    expect(await progress()).toBe("refreshing 500 500 1 2");
    // And once more, later: nothing changes.
    await consume("papers-digest", [hold.held[0]], env, 3);
    expect(await progress()).toBe("refreshing 500 500 1 2");
    await consume("papers-digest", hold.held.slice(1));
    expect(await progress()).toBe("done 1201 1200 2 2");
    const n = await env.DB.prepare("SELECT count(*) AS n FROM subscribers WHERE email LIKE ?")
      .bind(`chunk-${run}-%`)
      .first<{ n: number }>();
    expect(n!.n).toBe(1200);
    // The chunks keep no address once imported.
    const left = await env.DB.prepare("SELECT count(*) AS n FROM import_chunks WHERE import_id = ? AND rows <> '[]'")
      .bind((hold.held[0] as ImportJob).importId)
      .first<{ n: number }>();
    expect(left!.n).toBe(0);
  });

  it("an address erased while its import runs is not imported back", async () => {
    await importActive("erase-mid-import@example.com");
    const id = await idOf("erase-mid-import@example.com");
    const cookie = await session();
    const hold = holdingQueue<DigestJob>();
    const csv = "email\nerase-mid-import@example.com\nstays-mid-import@example.com\n";
    expect((await fetchWith({ DIGEST_QUEUE: hold.queue }, uploadRequest(cookie, csv))).status).toBe(303);
    expect((await post(`${PAGE}/${id}/erase`, cookie, { confirm: "yes" })).status).toBe(303);
    await consume("papers-digest", hold.held);
    expect(await idOf("erase-mid-import@example.com")).toBeUndefined();
    expect(await idOf("stays-mid-import@example.com")).toBeTypeOf("number");
  });

  it("an import whose chunks cannot be queued says it stopped; unknown or hostile import ids are 404", async () => {
    const cookie = await session();
    const broken = {
      send: async () => {
        throw new Error("queue unavailable");
      },
      sendBatch: async () => {
        throw new Error("queue unavailable");
      },
    } as unknown as Queue;
    const res = await fetchWith({ DIGEST_QUEUE: broken }, uploadRequest(cookie, "email\nnever-queued@example.com\n"));
    expect(res.status).toBe(303);
    const text = await page(await get(res.headers.get("location")!, cookie));
    expect(text).toContain("Import stopped: the import could not be queued; upload the file again.");
    expect(text).not.toContain('http-equiv="refresh"');
    expect(await idOf("never-queued@example.com")).toBeUndefined();

    // D1 refuses the chunks (a limit, an outage): nothing is imported, the import is recorded as failed, no chunk kept.
    const refusing = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare")
          return (sql: string) => {
            if (/insert into "import_chunks"/i.test(sql)) throw new Error("D1_ERROR: statement too big");
            return target.prepare(sql);
          };
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const refused = await fetchWith({ DB: refusing }, uploadRequest(cookie, "email\nnever-stored@example.com\n"));
    expect(await page(refused, 503)).toContain("The file could not be stored, and nothing was imported");
    const last = await env.DB.prepare("SELECT id, status, error FROM imports ORDER BY id DESC LIMIT 1").first<{
      id: number;
      status: string;
      error: string;
    }>();
    expect(last).toMatchObject({ status: "failed", error: "the file could not be stored; upload it again" });
    const kept = await env.DB.prepare("SELECT count(*) AS n FROM import_chunks WHERE import_id = ?")
      .bind(last!.id)
      .first<{ n: number }>();
    expect(kept!.n).toBe(0);
    expect(await idOf("never-stored@example.com")).toBeUndefined();

    expect(await page(await get(`${PAGE}/imports/987654321`, cookie), 404)).toContain("There is no such import");
    for (const bad of ["abc", "1e3", "-1", "99999999999999999999", "1%00", "..%2F1"]) {
      const r = await get(`${PAGE}/imports/${bad}`, cookie);
      expect(r.status, bad).toBe(404);
    }
    expect((await get(`${PAGE}/imports/987654321/rejected.csv`, cookie)).status).toBe(404);

    // Queue messages that are not an import chunk's ids are dropped (acked), and change nothing.
    const before = await env.DB.prepare("SELECT count(*) AS n FROM subscribers").first<{ n: number }>();
    const junk = [
      { kind: "import", importId: "1 OR 1=1", seq: 0 },
      { kind: "import", importId: 1.5, seq: 0 },
      { kind: "import", importId: 1, seq: "0) OR (1=1" },
      { kind: "import", importId: 987654321, seq: 0 },
    ];
    const result = await consume("papers-digest", junk);
    expect(result.explicitAcks).toHaveLength(junk.length);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM subscribers").first<{ n: number }>()).toEqual(before);
  });

  it("thousands of rejected rows of the worst kind keep the report page under 60 KB; all are in its CSV", async () => {
    const cookie = await session();
    const worst = `"${'<"&'.repeat(40)}@x"`; // every character escaped on the page, the value cut at 100
    const res = await upload(cookie, `email\n${Array.from({ length: 3000 }, () => worst).join("\n")}\n`);
    expect(res.status).toBe(303);
    const at = res.headers.get("location")!;
    const text = await page(await get(at, cookie)); // asserts < 60,000 bytes
    expect(text).toContain("The first 50 of 3000");
    expect(text).toContain("Import done."); // no valid address: nothing to queue
    const csv = (await (await get(`${at}/rejected.csv`, cookie)).text()).trim().split("\n");
    expect(csv).toHaveLength(1 + 1000); // the header and the first 1,000 rejected rows
  });

  it("an upload without an email column, or over the row limit, is refused whole with the reason", async () => {
    const cookie = await session();
    expect(await page(await upload(cookie, "name\nAda\n"), 422)).toContain(
      "The first line must be a header with an email column.",
    );
    // Over 5 MiB: refused with the reason, whether the form's own check or the body limit before it sees it.
    const big = `email\n${"y".repeat(5 * 1024 * 1024)}\n`;
    expect(await page(await upload(cookie, big), 413)).toContain("The file is over 5 MB");
    const huge = await upload(cookie, `email\n${"y".repeat(6 * 1024 * 1024)}\n`);
    expect(huge.status).toBe(413);
    const many = `email\n${"x@example.com\n".repeat(50_001)}`;
    expect(await page(await upload(cookie, many), 413)).toContain("Import at most 50000 rows");
  });

  it("refuses an upload without a file, and a cross-site post", async () => {
    const cookie = await session();
    expect(await page(await upload(cookie, null), 422)).toContain("Choose a CSV file");
    expect((await upload(cookie, "email\nx@example.com", "https://evil.example")).status).toBe(403);
    const erase = await post(`${PAGE}/1/erase`, cookie, { confirm: "yes" }, "https://evil.example");
    expect(erase.status).toBe(403);
  });

  it("exports the list as CSV", async () => {
    const res = await get(`${PAGE}/export.csv`, await session());
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/csv");
    expect(res.headers.get("content-disposition")).toContain("subscribers.csv");
    expect((await res.text()).split("\n")[0]).toBe(
      "email,status,source,created_at,confirmed_at,unsubscribed_at,paused_until,consent_origin,cadence",
    );
  });

  it("leaves the bearer API at /admin/subscribers alone", async () => {
    const res = await call("/admin/subscribers?email=a%40example.com", { redirect: "manual" });
    expect(res.status).toBe(401);
  });
});
