import { expect } from "vitest";

/**
 * What every answer to hostile input must look like: never a 5xx; an error is `{error:{code,message}}` for a JSON
 * caller and an HTML page (with its frame-ancestors policy) for a browser; no page echoes the attacker's markup.
 */
export type Kind = "json" | "html";
export type ErrorBody = { error: { code: string; message: string } };
const ATTACK_ECHO = /<script>alert|onerror=alert|onload=alert|<iframe src=\/\/evil|<svg onload/i;

/** Any answer: never 5xx; status in `allowed` (when given); errors of the expected shape. */
export async function check(
  res: Response,
  o: { allowed?: number[]; kind?: Kind; code?: string[]; head?: boolean; what?: string } = {},
) {
  const what = o.what ?? "";
  expect(res.status, `${what}: 5xx`).toBeLessThan(500);
  if (o.allowed) expect(o.allowed, `${what}: answered ${res.status}`).toContain(res.status);
  const type = res.headers.get("content-type") ?? "";
  if (o.head) {
    await res.body?.cancel();
    return null;
  }
  if (res.status >= 400) {
    if (type.startsWith("application/json")) {
      expect(o.kind, `${what}: JSON error where a page was expected`).not.toBe("html");
      const body = (await res.json()) as { error: { code: unknown; message: unknown } };
      expect(Object.keys(body), what).toEqual(["error"]);
      // A refused topic or cadence choice also lists the valid values (issues 10 and 11).
      const withValid = body.error.code === "unknown_topics" || body.error.code === "invalid_cadence";
      const keys = withValid ? ["code", "message", "valid"] : ["code", "message"];
      expect(Object.keys(body.error).sort(), what).toEqual(keys);
      expect(body.error.code, what).toMatch(/^[a-z_]+$/);
      expect(typeof body.error.message, what).toBe("string");
      expect((body.error.message as string).trim().length, what).toBeGreaterThan(5);
      if (o.code) expect(o.code, `${what}: code ${body.error.code}`).toContain(body.error.code);
      return body;
    }
    if (type.startsWith("text/html")) {
      expect(o.kind, `${what}: page where JSON was expected`).not.toBe("json");
      expect(res.headers.get("content-security-policy") ?? "", what).toContain("frame-ancestors");
      const text = await res.text();
      expect(text, what).toContain("<h1>");
      expect(text, what).toContain("</html>");
      expect(text, what).not.toMatch(ATTACK_ECHO);
      return text;
    }
    expect.fail(`${what}: a ${res.status} answer with content-type ${JSON.stringify(type)}`);
  }
  if (type.startsWith("text/html")) {
    const text = await res.text();
    expect(text, what).not.toMatch(ATTACK_ECHO);
    return text;
  }
  await res.body?.cancel();
  return null;
}

/** A 4xx JSON error, with one of the given statuses and codes (when given). */
export async function expectJsonError(res: Response, status?: number | number[], code?: string | string[]) {
  expect(res.status).toBeGreaterThanOrEqual(400);
  const allowed = status === undefined ? undefined : [status].flat();
  return (await check(res, {
    allowed,
    kind: "json",
    code: code === undefined ? undefined : [code].flat(),
  })) as ErrorBody;
}

/** A 4xx HTML page, with one of the given statuses (when given); returns its text. */
export async function expectHtmlError(res: Response, status?: number | number[]) {
  expect(res.status).toBeGreaterThanOrEqual(400);
  return (await check(res, { allowed: status === undefined ? undefined : [status].flat(), kind: "html" })) as string;
}

/** Any answer to a request of unknown fate: 2xx–4xx, and a 4xx of either well-formed kind. */
export async function expectSane(res: Response) {
  expect(res.status).toBeGreaterThanOrEqual(200);
  await check(res);
}

/** The Worker's own rule (src/lib/http.ts wantsHtml), to know which error shape a request must get. */
export function kindFor(method: string, headers: Record<string, string>): Kind {
  const accept = headers.accept ?? "";
  if (accept.includes("application/json")) return "json";
  const type = headers["content-type"] ?? "";
  if (method === "GET") return accept.includes("text/html") ? "html" : "json";
  return type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data")
    ? "html"
    : "json";
}
