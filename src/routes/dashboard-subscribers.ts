import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  confirmErasePage,
  type ImportReport,
  importErrorPage,
  importReportPage,
  type Lookup,
  subscribersPage,
} from "../../templates/dashboard-subscribers";
import { config } from "../config";
import { readFields } from "../lib/body";
import { noStore } from "../lib/headers";
import { ApiError, type AppEnv, limitBody } from "../lib/http";
import { admin, IMPORT_MAX_BYTES } from "./admin";
import { render } from "./render";

/**
 * The dashboard's subscribers (/admin/readers: /admin/subscribers is the bearer API's): search by address, the
 * record with its consent evidence, erasure (confirmed first), CSV import by file upload with its per-line report,
 * and the CSV export. Every action goes through the admin API's own routes (src/routes/admin.ts), called in-process.
 */
export const dashboardSubscribers = new Hono<AppEnv>();

/** Where this app is mounted: the links and form actions of its pages. */
export const SUBSCRIBERS_BASE = "/admin/readers";

/** The admin API's routes, without the bearer guard (the session guard stands before this app). */
const api = new Hono<AppEnv>()
  .use(async (c, next) => {
    c.set("cfg", config(c.env));
    await next();
  })
  .route("/", admin)
  .onError((err, c) => {
    if (err instanceof ApiError) return c.json({ error: { code: err.code, message: err.message } }, err.status);
    throw err;
  });

type Answer =
  | { ok: true; status: number; body: unknown; res: Response }
  | { ok: false; status: number; message: string };

async function callApi(
  c: Context<AppEnv>,
  method: "GET" | "POST" | "DELETE",
  path: string,
  csv?: string,
): Promise<Answer> {
  const res = await api.request(
    path,
    csv === undefined ? { method } : { method, headers: { "content-type": "text/csv" }, body: csv },
    c.env,
    c.executionCtx,
  );
  if (res.ok) {
    const type = res.headers.get("content-type") ?? "";
    return { ok: true, status: res.status, body: type.includes("json") ? await res.json() : null, res };
  }
  const err = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
  return { ok: false, status: res.status, message: err.error?.message ?? `The action failed (HTTP ${res.status}).` };
}

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
    subscribersPage({ base: base(c), overview: here(c, "/admin"), email, lookup, notice }),
  );
});

const importFailed = (c: Context<AppEnv>, status: ContentfulStatusCode, message: string) =>
  render(c, "Import not done", importErrorPage({ base: base(c), message }), { status });

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
  const got = await callApi(c, "POST", "/subscribers/import", await file.text());
  if (!got.ok) return importFailed(c, got.status as ContentfulStatusCode, got.message);
  return render(
    c,
    "Import report",
    importReportPage({ base: base(c), file: file.name || "the file", report: got.body as ImportReport }),
  );
});

dashboardSubscribers.post("/:id{[0-9]+}/erase", limitBody(2048), async (c) => {
  const id = c.req.param("id");
  const { confirm, email } = await readFields(c);
  const address = (email ?? "").slice(0, 320);
  if (confirm !== "yes")
    return render(
      c,
      "Erase a subscriber",
      confirmErasePage({
        email: address,
        action: here(c, `${SUBSCRIBERS_BASE}/${id}/erase`),
        back: address ? `${base(c)}?email=${encodeURIComponent(address)}` : base(c),
      }),
    );
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
