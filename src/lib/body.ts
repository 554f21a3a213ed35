import type { Context } from "hono";
import { ApiError } from "./http";

/** A request body's fields: single values as strings, and the fields asked for as lists, raw. */
export interface Body {
  fields: Record<string, string>;
  /**
   * Each field named in readBody's `lists`, undefined when absent: in JSON its value as sent (any type), in a form
   * every value of the repeated field (strings, or File for a file part).
   */
  lists: Record<string, unknown>;
  /** What carried the fields: a form's lists are always arrays of its values, JSON's are values of any type. */
  shape: "json" | "form";
}

/**
 * Reads a small request body as flat string fields, from JSON, urlencoded or multipart.
 * Anything else is a clear 4xx: unsupported type → 415, malformed → 400.
 */
export async function readFields(c: Context): Promise<Record<string, string>> {
  return (await readBody(c)).fields;
}

/** readFields, with the fields named in `lists` read whole instead (a JSON array, a repeated form field). */
export async function readBody(c: Context, lists: readonly string[] = []): Promise<Body> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  const listed: Record<string, unknown> = {};
  if (type === "application/json") {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new ApiError(400, "invalid_json", "The request body is not valid JSON.");
    }
    if (typeof body !== "object" || body === null || Array.isArray(body))
      throw new ApiError(400, "invalid_body", 'Send a JSON object, like {"email": "you@example.com"}.');
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(body)) {
      if (lists.includes(k)) listed[k] = v;
      else if (typeof v === "string") out[k] = v;
      else if (k === "email") throw new ApiError(422, "invalid_email", "The email field must be a string.");
    }
    return { fields: out, lists: listed, shape: "json" };
  }
  if (type === "application/x-www-form-urlencoded" || type === "multipart/form-data") {
    let form: Record<string, string | File | (string | File)[]>;
    try {
      form = await c.req.parseBody({ all: true });
    } catch {
      throw new ApiError(400, "invalid_form", "The form data could not be read.");
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(form)) {
      if (lists.includes(k)) listed[k] = Array.isArray(v) ? v : [v];
      else if (typeof v === "string") out[k] = v;
      else if (k === "email") throw new ApiError(422, "invalid_email", "Enter a single address.");
      else if (Array.isArray(v)) {
        // A repeated field keeps its first text value (so a repeated honeypot still counts as filled).
        const first = v.find((x) => typeof x === "string");
        if (typeof first === "string") out[k] = first;
      }
    }
    return { fields: out, lists: listed, shape: "form" };
  }
  throw new ApiError(
    415,
    "unsupported_media_type",
    "Send JSON (application/json) or a form (application/x-www-form-urlencoded or multipart/form-data).",
  );
}
