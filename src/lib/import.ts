import { parseCsv } from "./csv";
import { checkEmail } from "./email";
import { ApiError } from "./http";

/** A subscriber import (the bearer API's text/csv body, the dashboard's upload): its limits and its checks. */
export const IMPORT_MAX_BYTES = 5 * 1024 * 1024;
export const IMPORT_MAX_ROWS = 50_000;
const MAX_REPORTED_ERRORS = 1000;

/** A CSV list read and checked, before anything is written: the valid addresses (deduplicated) and what was not. */
export interface CheckedImport {
  rows: number;
  valid: { email: string; key: string }[];
  /** Rows repeating an address earlier in the file. */
  repeated: number;
  invalid: number;
  /** The first MAX_REPORTED_ERRORS rejected rows, by line. */
  errors: { line: number; value: string; error: string }[];
}

/** Reads an import (header with an email column, at most IMPORT_MAX_ROWS rows); the bearer API and the dashboard share it. */
export function checkImport(csv: string, blockedDomains: ReadonlySet<string>): CheckedImport {
  const rows = parseCsv(csv, IMPORT_MAX_ROWS + 1);
  const header = rows.shift();
  const col = header?.fields.findIndex((f) => f.trim().toLowerCase() === "email") ?? -1;
  if (!header || col < 0)
    throw new ApiError(422, "missing_email_column", "The first line must be a header with an email column.");
  if (rows.length > IMPORT_MAX_ROWS)
    throw new ApiError(413, "too_many_rows", `Import at most ${IMPORT_MAX_ROWS} rows per request.`);

  const valid = new Map<string, { email: string; key: string }>();
  const errors: CheckedImport["errors"] = [];
  let invalid = 0;
  let repeated = 0;
  for (const row of rows) {
    const check = checkEmail(row.fields[col] ?? "", blockedDomains);
    if (!check.ok) {
      invalid++;
      if (errors.length < MAX_REPORTED_ERRORS)
        errors.push({ line: row.line, value: (row.fields[col] ?? "").slice(0, 100), error: check.message });
    } else if (valid.has(check.key)) repeated++;
    else valid.set(check.key, { email: check.email, key: check.key });
  }
  return { rows: rows.length, valid: [...valid.values()], repeated, invalid, errors };
}
