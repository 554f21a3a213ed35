/** The operator's side of the Worker: /admin with the bearer ADMIN_TOKEN. */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { call } from "./helpers";

/** The operator's credentials. */
export const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}` };

/** POSTs a CSV to the operator's import (POST /admin/subscribers/import). */
export const importCsv = (csv: string) =>
  call("/admin/subscribers/import", { method: "POST", headers: { ...ADMIN, "content-type": "text/csv" }, body: csv });

/** Imports the addresses as active subscribers (one `email` column), expects 200, and returns the import's report. */
export async function importActive(...emails: string[]) {
  const res = await importCsv(["email", ...emails].join("\n"));
  expect(res.status).toBe(200);
  return (await res.json()) as { imported: number };
}
