import { type Context, Hono } from "hono";
import { html } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  confirmErasePage,
  type ImportReport,
  importErrorPage,
  importReportPage,
  type Lookup,
  subscribersPage,
} from "../../templates/dashboard-subscribers";
import { createImport, failImport, getImport, type ImportRow, recentImports } from "../db/imports";
import { readFields } from "../lib/body";
import { csvField } from "../lib/csv";
import { noStore } from "../lib/headers";
import { ApiError, type AppEnv, limitBody } from "../lib/http";
import { type CheckedImport, checkImport, IMPORT_MAX_BYTES } from "../lib/import";
import { admin } from "./admin";
import { apiCaller } from "./dashboard-api";
import { render } from "./render";

/**
 * The dashboard's subscribers (/admin/readers: /admin/subscribers is the bearer API's): search by address, the
 * record with its consent evidence, erasure (confirmed first), CSV import by file upload with its progress and its
 * per-line report, and the CSV export. Lookup, erasure and export go through the admin API's own routes
 * (src/routes/admin.ts), called in-process; an upload shares the API's checks and then runs as a queued import.
 */
export const dashboardSubscribers = new Hono<AppEnv>();

/** Where this app is mounted: the links and form actions of its pages. */
export const SUBSCRIBERS_BASE = "/admin/readers";

/** The admin API's routes (src/routes/admin.ts), called in-process. */
const callApi = apiCaller(admin);

const here = (c: Context<AppEnv>, p: string) => new URL(p, c.get("cfg").publicUrl).toString();
const base = (c: Context<AppEnv>) => here(c, SUBSCRIBERS_BASE);

dashboardSubscribers.get("/", async (c) => {
  const email = (c.req.query("email") ?? "").trim().slice(0, 320);
  let lookup: Lookup | null = null;
  if (email) {
    const got = await callApi(c, "GET", `/subscribers?email=${encodeURIComponent(email)}`);
    if (got.ok) lookup = got.body as Lookup;
    else if (got.status !== 404) throw new ApiError(got.status as ContentfulStatusCode, "lookup_failed", got.message);
  }
  const notice = c.req.query("erased") === "1" ? { ok: true, text: "Erased." } : undefined;
  return render(
    c,
    "Subscribers",
    subscribersPage({
      base: base(c),
      overview: here(c, "/admin"),
      email,
      lookup,
      notice,
      imports: (await recentImports(c.env.DB)).map((i) => ({
        id: i.id,
        file: i.fileName,
        uploaded: new Date(i.createdAt).toISOString().slice(0, 16).replace("T", " "),
        status: i.status,
        valid: i.valid,
        validDone: i.validDone,
        imported: i.imported,
        invalid: i.invalid,
      })),
    }),
  );
});

const importFailed = (c: Context<AppEnv>, status: ContentfulStatusCode, message: string) =>
  render(c, "Import not done", importErrorPage({ base: base(c), message }), { status });

/**
 * An upload is checked whole (the bearer API's checks: src/lib/import.ts), stored as an import and imported chunk by
 * chunk on the digest queue; the operator lands on the import's page, which follows its progress.
 */
dashboardSubscribers.post("/import", limitBody(IMPORT_MAX_BYTES + 64 * 1024, "An upload"), async (c) => {
  const type = (c.req.header("content-type") ?? "").toLowerCase();
  if (!type.startsWith("multipart/form-data"))
    return importFailed(c, 415, "Upload the list as a file with the form on the subscribers page.");
  let body: Record<string, unknown>;
  try {
    body = await c.req.parseBody();
  } catch {
    return importFailed(c, 400, "The upload could not be read; try again.");
  }
  const file = body.file;
  if (!(file instanceof File) || file.size === 0)
    return importFailed(c, 422, "Choose a CSV file to import: none was sent, or it is empty.");
  if (file.size > IMPORT_MAX_BYTES)
    return importFailed(
      c,
      413,
      `The file is over ${IMPORT_MAX_BYTES / 1024 / 1024} MB: split it and import each part.`,
    );
  let list: CheckedImport;
  try {
    list = checkImport(await file.text(), c.get("cfg").blockedDomains);
  } catch (err) {
    if (err instanceof ApiError) return importFailed(c, err.status, err.message);
    throw err;
  }
  const now = Date.now();
  let stored: Awaited<ReturnType<typeof createImport>>;
  try {
    stored = await createImport(c.env.DB, (file.name || "the file").slice(0, 200), list, now);
  } catch (err) {
    console.error("import: could not store the upload", { error: String(err) });
    return importFailed(c, 503, "The file could not be stored, and nothing was imported; upload it again.");
  }
  const { id, jobs } = stored;
  try {
    for (let i = 0; i < jobs.length; i += 100)
      await c.env.DIGEST_QUEUE.sendBatch(jobs.slice(i, i + 100).map((body) => ({ body })));
  } catch (err) {
    console.error("import: could not queue its chunks", { id, error: String(err) });
    await failImport(c.env.DB, id, "the import could not be queued; upload the file again", now);
  }
  return c.redirect(here(c, `${SUBSCRIBERS_BASE}/imports/${id}`), 303);
});

dashboardSubscribers.get("/imports/:id{[0-9]{1,15}}", async (c) => {
  const row = await getImport(c.env.DB, Number(c.req.param("id")));
  if (!row) return importFailed(c, 404, "There is no such import (imports are kept 30 days).");
  const live = row.status === "importing";
  const rejectedCsv = here(c, `${SUBSCRIBERS_BASE}/imports/${row.id}/rejected.csv`);
  return render(c, "Import report", importReportPage({ base: base(c), report: reportOf(row), rejectedCsv }), {
    head: live ? html`<meta http-equiv="refresh" content="2">` : undefined,
  });
});

dashboardSubscribers.get("/imports/:id{[0-9]{1,15}}/rejected.csv", async (c) => {
  const row = await getImport(c.env.DB, Number(c.req.param("id")));
  if (!row) return importFailed(c, 404, "There is no such import (imports are kept 30 days).");
  const errors = row.errors;
  noStore(c);
  return c.body(
    `line,value,error\n${errors.map((e) => `${e.line},${csvField(e.value)},${csvField(e.error)}\n`).join("")}`,
    200,
    {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="import-${row.id}-rejected.csv"`,
    },
  );
});

const reportOf = (r: ImportRow): ImportReport => ({
  file: r.fileName,
  status: r.status,
  error: r.error,
  rows: r.rows,
  valid: r.valid,
  validDone: r.validDone,
  imported: r.imported,
  skipped: r.repeated + (r.validDone - r.imported),
  invalid: r.invalid,
  errors: r.errors,
});

dashboardSubscribers.post("/:id{[0-9]{1,15}}/erase", limitBody(2048), async (c) => {
  const id = c.req.param("id");
  const { confirm } = await readFields(c);
  if (confirm !== "yes") {
    // The page names the address the id holds now, never one taken from the form.
    const row = await c.env.DB.prepare("SELECT email FROM subscribers WHERE id = ?")
      .bind(Number(id))
      .first<{ email: string }>();
    if (!row) throw new ApiError(404, "not_found", "There is no such subscriber (already erased?).");
    const address = row.email;
    return render(
      c,
      "Erase a subscriber",
      confirmErasePage({
        email: address,
        action: here(c, `${SUBSCRIBERS_BASE}/${id}/erase`),
        back: `${base(c)}?email=${encodeURIComponent(address)}`,
      }),
    );
  }
  const got = await callApi(c, "DELETE", `/subscribers/${id}`);
  if (!got.ok) throw new ApiError(got.status as ContentfulStatusCode, "erase_failed", got.message);
  return c.redirect(`${base(c)}?erased=1`, 303);
});

dashboardSubscribers.get("/export.csv", async (c) => {
  const got = await callApi(c, "GET", "/subscribers/export");
  if (!got.ok) throw new ApiError(got.status as ContentfulStatusCode, "export_failed", got.message);
  noStore(c);
  return c.body(got.res.body ?? "", 200, {
    "content-type": got.res.headers.get("content-type") ?? "text/csv; charset=utf-8",
    "content-disposition": got.res.headers.get("content-disposition") ?? 'attachment; filename="subscribers.csv"',
  });
});
