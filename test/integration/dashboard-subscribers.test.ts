/**
 * The dashboard's subscribers page (/admin/readers; /admin/subscribers is the bearer API): search by address, erasure
 * confirmed on a page of its own first, CSV import by file upload with its per-line report, the CSV export, and
 * refusals (no session, cross-site, no file).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { importActive } from "../support/admin";
import { FORM, session } from "../support/dashboard";
import { BASE, call } from "../support/helpers";

const PAGE = "/admin/readers";

const get = async (path: string, cookie: string) => call(path, { headers: { cookie }, redirect: "manual" });
const post = (path: string, cookie: string, fields: Record<string, string> = {}, origin = BASE) =>
  call(path, {
    method: "POST",
    headers: { ...FORM, origin, cookie },
    body: new URLSearchParams(fields).toString(),
    redirect: "manual",
  });
/** Uploads `csv` as the import form's file (multipart; fetch sets the boundary). */
const upload = (cookie: string, csv: string | null, origin = BASE) => {
  const form = new FormData();
  if (csv !== null) form.append("file", new Blob([csv], { type: "text/csv" }), "list.csv");
  else form.append("note", "no file");
  return call(`${PAGE}/import`, { method: "POST", headers: { origin, cookie }, body: form, redirect: "manual" });
};
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
    for (const path of [PAGE, `${PAGE}?email=a%40example.com`, `${PAGE}/export.csv`]) {
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
    const ask = await page(await post(`${PAGE}/${id}/erase`, cookie, { email: "dash-erase@example.com" }));
    expect(ask).toContain('name="confirm" value="yes"');
    expect(ask).toContain(`${PAGE}?email=dash-erase%40example.com`);
    expect(await idOf("dash-erase@example.com")).toBe(id);

    const done = await post(`${PAGE}/${id}/erase`, cookie, { confirm: "yes" });
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe(`${BASE}${PAGE}?erased=1`);
    expect(await idOf("dash-erase@example.com")).toBeUndefined();
    expect(await page(await get(`${PAGE}?erased=1`, cookie))).toContain("Erased.");
  });

  it("imports an uploaded CSV and reports each rejected row, escaped", async () => {
    await importActive("dash-known@example.com");
    const hostile = "<img src=x onerror=alert(1)>@x";
    const csv = ["email", "dash-new@example.com", "dash-known@example.com", "not-an-email", hostile].join("\n");
    const text = await page(await upload(await session(), csv));
    expect(text).toMatch(/Rows<\/th><td class="n">4</);
    expect(text).toMatch(/Imported<\/th><td class="n">1</);
    expect(text).toMatch(/Skipped \(already known or repeated\)<\/th><td class="n">1</);
    expect(text).toMatch(/Rejected<\/th><td class="n">2</);
    expect(text).toContain('<tr><td class="n">4</td><td>not-an-email</td>');
    expect(text).not.toContain("<img");
    expect(text).toContain("&lt;img src=x onerror=alert(1)&gt;@x");
    expect(await idOf("dash-new@example.com")).toBeTypeOf("number");
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
