import { desc, eq } from "drizzle-orm";
import { Hono } from "hono";
import { outboxItem, outboxList } from "../../templates/outbox";
import { outbox } from "../db/schema";
import { database } from "../db/subscribers";
import { applyPolicy, secure } from "../lib/headers";
import { ApiError, type AppEnv, isLocalRequest } from "../lib/http";
import { render } from "../lib/render";

/** The local outbox viewer. Exists only in local development without a Resend key; 404 everywhere else. */
export const dev = new Hono<AppEnv>();

dev.use("/dev/*", async (c, next) => {
  const cfg = c.get("cfg");
  if (!isLocalRequest(c) || cfg.resendApiKey) throw new ApiError(404, "not_found", "Not found.");
  await next();
});

/** 1–1000 whole rows; anything else (fractions, negatives, junk) means the default 100. */
const pageSize = (raw: string | undefined) => {
  const n = Math.trunc(Number(raw));
  return n >= 1 ? Math.min(n, 1000) : 100;
};

dev.get("/dev/outbox.json", async (c) => {
  const to = c.req.query("to");
  const db = database(c.env.DB);
  const rows = await db
    .select()
    .from(outbox)
    .where(to ? eq(outbox.to, to) : undefined)
    .orderBy(desc(outbox.id))
    .limit(pageSize(c.req.query("limit")));
  return c.json({ emails: rows });
});

dev.get("/dev/outbox", secure("page"), async (c) => {
  const rows = await database(c.env.DB).select().from(outbox).orderBy(desc(outbox.id)).limit(200);
  return render(c, "Outbox", outboxList(rows));
});

const byId = async (c: { env: Env; req: { param: (k: "id") => string } }) => {
  const id = Number(c.req.param("id"));
  const row = Number.isSafeInteger(id)
    ? await database(c.env.DB).query.outbox.findFirst({ where: eq(outbox.id, id) })
    : undefined;
  if (!row) throw new ApiError(404, "not_found", "No such email in the outbox.");
  return row;
};

dev.get("/dev/outbox/:id", secure("page"), async (c) => render(c, "Outbox", outboxItem(await byId(c))));

// The email's own HTML, as a mail client would show it.
dev.get("/dev/outbox/:id/html", async (c) => {
  const row = await byId(c);
  applyPolicy(c, "devOutbox");
  return c.html(row.html);
});
