import { Hono, type MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bodyLimit } from "hono/body-limit";
import { stream } from "hono/streaming";
import { countByStatus, database, exportPage, importActive } from "../db/subscribers";
import { csvField, parseCsv } from "../lib/csv";
import { checkEmail } from "../lib/email";
import { ApiError, type AppEnv } from "../lib/http";

/** Operator API: `Authorization: Bearer ADMIN_TOKEN`. Without a configured token, /admin does not exist. */
export const admin = new Hono<AppEnv>();

export const IMPORT_MAX_BYTES = 5 * 1024 * 1024;
export const IMPORT_MAX_ROWS = 50_000;
const MAX_REPORTED_ERRORS = 1000;

export const adminAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = c.get("cfg").adminToken;
  if (!token) throw new ApiError(404, "not_found", "Not found.");
  // bearerAuth compares with a constant-time hash comparison.
  return bearerAuth({
    token,
    noAuthenticationHeader: { message: { error: { code: "unauthorized", message: "Send Authorization: Bearer <ADMIN_TOKEN>." } } },
    invalidAuthenticationHeader: { message: { error: { code: "unauthorized", message: "Malformed Authorization header." } } },
    invalidToken: { message: { error: { code: "unauthorized", message: "Invalid admin token." } } },
  })(c as never, next);
};

admin.use("/admin/*", adminAuth);

admin.get("/admin/stats", async (c) => {
  return c.json({ subscribers: await countByStatus(database(c.env.DB)) });
});

admin.post(
  "/admin/subscribers/import",
  bodyLimit({
    maxSize: IMPORT_MAX_BYTES,
    onError: () => {
      throw new ApiError(413, "body_too_large", `Import at most ${IMPORT_MAX_BYTES / 1024 / 1024} MiB per request; split larger files.`);
    },
  }),
  async (c) => {
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "text/csv") throw new ApiError(415, "unsupported_media_type", "Send the list as text/csv with an email column.");
    const rows = parseCsv(await c.req.text());
    const header = rows.shift();
    const col = header?.fields.findIndex((f) => f.trim().toLowerCase() === "email") ?? -1;
    if (!header || col < 0) throw new ApiError(422, "missing_email_column", "The first line must be a header with an email column.");
    if (rows.length > IMPORT_MAX_ROWS) throw new ApiError(413, "too_many_rows", `Import at most ${IMPORT_MAX_ROWS} rows per request.`);

    const cfg = c.get("cfg");
    const valid = new Map<string, { email: string; key: string }>();
    const invalid: { line: number; value: string; error: string }[] = [];
    let invalidCount = 0;
    let repeated = 0;
    for (const row of rows) {
      const check = checkEmail(row.fields[col] ?? "", cfg.blockedDomains);
      if (!check.ok) {
        invalidCount++;
        if (invalid.length < MAX_REPORTED_ERRORS) invalid.push({ line: row.line, value: (row.fields[col] ?? "").slice(0, 100), error: check.message });
      } else if (valid.has(check.key)) repeated++;
      else valid.set(check.key, { email: check.email, key: check.key });
    }
    const imported = await importActive(c.env.DB, [...valid.values()], Date.now());
    return c.json({
      rows: rows.length,
      imported,
      skipped_duplicates: repeated + (valid.size - imported),
      invalid: invalidCount,
      errors: invalid,
    });
  },
);

admin.get("/admin/subscribers/export", (c) => {
  const db = database(c.env.DB);
  c.header("Content-Type", "text/csv; charset=utf-8");
  c.header("Content-Disposition", 'attachment; filename="subscribers.csv"');
  c.header("Cache-Control", "no-store");
  return stream(c, async (s) => {
    await s.write("email,status,source,created_at,confirmed_at,unsubscribed_at,paused_until,consent_origin\n");
    const iso = (ms: number | null) => (ms ? new Date(ms).toISOString() : "");
    for (let after = 0; ; ) {
      const page = await exportPage(db, after, 1000);
      if (page.length === 0) break;
      await s.write(
        page.map((r) => [r.email, r.status, r.source, iso(r.createdAt), iso(r.confirmedAt), iso(r.unsubscribedAt), iso(r.pausedUntil), r.consentOrigin].map(csvField).join(",")).join("\n") + "\n",
      );
      after = page[page.length - 1]!.id;
    }
  });
});
