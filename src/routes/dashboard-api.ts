import { type Context, Hono } from "hono";
import { config } from "../config";
import { ApiError, type AppEnv } from "../lib/http";

/**
 * The dashboard's pages act through the admin API's own routes, called in-process without the bearer guard (the
 * session guard stands before the dashboard): the dashboard adds pages, not a second set of rules.
 */
export type Answer =
  | { ok: true; status: number; body: unknown; res: Response }
  | { ok: false; status: number; message: string };

/** An in-process caller of `routes` (an admin API app): JSON or CSV bodies in, the answer or its error message out. */
export function apiCaller(routes: Hono<AppEnv>) {
  const api = new Hono<AppEnv>()
    .use(async (c, next) => {
      c.set("cfg", config(c.env));
      await next();
    })
    .route("/", routes)
    .onError((err, c) => {
      if (err instanceof ApiError) return c.json({ error: { code: err.code, message: err.message } }, err.status);
      throw err;
    });

  return async (
    c: Context<AppEnv>,
    method: "GET" | "POST" | "DELETE",
    path: string,
    body?: { json: unknown } | { csv: string },
  ): Promise<Answer> => {
    const init: RequestInit =
      body === undefined
        ? { method }
        : "json" in body
          ? { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body.json) }
          : { method, headers: { "content-type": "text/csv" }, body: body.csv };
    const res = await api.request(path, init, c.env, c.executionCtx);
    if (res.ok) {
      const type = res.headers.get("content-type") ?? "";
      return { ok: true, status: res.status, body: type.includes("json") ? await res.json() : null, res };
    }
    const err = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
    return { ok: false, status: res.status, message: err.error?.message ?? `The action failed (HTTP ${res.status}).` };
  };
}
