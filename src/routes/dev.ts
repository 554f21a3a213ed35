import { desc, eq } from "drizzle-orm";
import { Hono } from "hono";
import { validator } from "hono/validator";
import { outboxItem, outboxList } from "../../templates/outbox";
import { outbox } from "../db/schema";
import { database } from "../db/subscribers";
import { applyPolicy, secure } from "../lib/headers";
import { ApiError, type AppEnv } from "../lib/http";
import { render } from "./render";

/** The local outbox viewer, mounted at /dev behind localOnly (src/routes/guards.ts). */
export const dev = new Hono<AppEnv>();

/** 1–1000 whole rows; anything else (fractions, negatives, junk) means the default 100. */
const pageSize = (raw: string | undefined) => {
  const n = Math.trunc(Number(raw));
  return n >= 1 ? Math.min(n, 1000) : 100;
};

dev.get("/outbox.json", async (c) => {
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

dev.get("/outbox", secure("page"), async (c) => {
  const rows = await database(c.env.DB).select().from(outbox).orderBy(desc(outbox.id)).limit(200);
  return render(c, "Outbox", outboxList(rows));
});

const missing = () => new ApiError(404, "not_found", "No such email in the outbox.");

const emailId = validator("param", ({ id }) => {
  const n = Number(id);
  if (!Number.isSafeInteger(n)) throw missing();
  return { id: n };
});

const byId = async (db: D1Database, id: number) => {
  const row = await database(db).select().from(outbox).where(eq(outbox.id, id)).get();
  if (!row) throw missing();
  return row;
};

dev.get("/outbox/:id", secure("page"), emailId, async (c) =>
  render(c, "Outbox", outboxItem(await byId(c.env.DB, c.req.valid("param").id))),
);

// The email's own HTML, as a mail client would show it.
dev.get("/outbox/:id/html", emailId, async (c) => {
  const row = await byId(c.env.DB, c.req.valid("param").id);
  applyPolicy(c, "devOutbox");
  return c.html(row.html);
});
