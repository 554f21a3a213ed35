/** Building hostile signup requests (POST /api/subscribe) as JSON, urlencoded or multipart bodies. */
import fc from "fast-check";
import { expect } from "vitest";
import { call } from "../helpers";
import { formRoundTrip, hostile } from "./inputs";
import { check, type Kind } from "./responses";

export type Shape = "json" | "form" | "multipart";
export const shape = fc.constantFrom<Shape>("json", "form", "multipart");

/** Accept headers browsers and scripts send. */
export const accept = fc.constantFrom(
  "",
  "application/json",
  "text/html",
  "*/*",
  "text/html, application/json;q=0.9",
  "text/html,application/xhtml+xml",
);

/** Hostile extra fields, never one the signup reads. */
export const extraFields = fc.dictionary(
  hostile.filter(
    (k) =>
      !["email", "website", "ts", "redirect", "topics", "cadence"].includes(k.toWellFormed()) &&
      !["email", "website", "ts", "redirect", "topics", "cadence"].includes(formRoundTrip(k)),
  ),
  hostile,
  { maxKeys: 3 },
);

/** The body for `fields` in that shape; sets the content type in `headers` (multipart: the Request does). */
export function bodyOf(shape: Shape, fields: Record<string, unknown>, headers: Record<string, string>): BodyInit {
  if (shape === "json") {
    headers["content-type"] = "application/json";
    return JSON.stringify(fields);
  }
  if (shape === "form") {
    headers["content-type"] = "application/x-www-form-urlencoded";
    return new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)])).toString();
  }
  const form = new FormData();
  // (The client itself refuses a field name ending in a backslash.)
  for (const [k, v] of Object.entries(fields)) if (!k.endsWith("\\")) form.append(k, String(v));
  return form; // the Request sets multipart/form-data with its boundary
}

/** The kind of answer a form post gets: a page, unless the caller asked for JSON. */
export const multipartKind = (accept: string): Kind => (accept.includes("application/json") ? "json" : "html");
export const shapeKind = (s: Shape, accept: string): Kind => (s === "json" ? "json" : multipartKind(accept));

export const postSignup = (headers: Record<string, string>, body: BodyInit) =>
  call("/api/subscribe", { method: "POST", headers, body, redirect: "manual" });

/** The matrix's check of a signup answer: a "success" is the pending answer, redirects go where they must. */
export async function checkSignup(
  res: Response,
  o: { allowed: number[]; kind?: Kind; code?: string[]; location?: RegExp; what: string },
) {
  if (o.location) expect(res.headers.get("location")).toMatch(o.location);
  if (res.status === 202) expect(await res.clone().json()).toEqual({ status: "pending" });
  await check(res, o);
}
