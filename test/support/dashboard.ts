/** The operator's dashboard in tests: a signed-in session, as a Cookie header value. */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { BASE, call, freshIp } from "./helpers";

/** A same-origin form post's headers (the dashboard's csrf check wants our origin). */
export const FORM = { "content-type": "application/x-www-form-urlencoded", origin: BASE };

/** Signs in with the admin token (from a fresh client address: sign-in is limited per network). */
export async function session() {
  const res = await call("/admin/sign-in", {
    method: "POST",
    headers: FORM,
    body: new URLSearchParams({ token: env.ADMIN_TOKEN! }).toString(),
    redirect: "manual",
    ip: freshIp(),
  });
  expect(res.status).toBe(303);
  return res.headers.get("set-cookie")!.split(";")[0]!;
}
