/**
 * What a browser, and a page on another site, may do with ours: CORS on the API, form posts and the consent origin
 * they record, redirects after a signup, framing, and the headers every page carries (CSP with a nonce, nosniff).
 */
import { describe, expect, it } from "vitest";
import { call, fetchWith, freshIp, subscribeForm, subscriberRow } from "../support/helpers";

const json = { "content-type": "application/json", accept: "application/json" };

describe("CORS", () => {
  it("answers the preflight and tags responses for any origin by default", async () => {
    const pre = await call("/api/subscribe", {
      method: "OPTIONS",
      headers: {
        origin: "https://blog.example.org",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    expect(pre.headers.get("access-control-allow-methods")).toContain("POST");
  });

  it("only allows listed origins when ALLOWED_ORIGINS is set", async () => {
    const overrides = { ALLOWED_ORIGINS: "https://blog.example.org, https://docs.example.org" };
    const ok = await fetchWith(
      overrides,
      new Request("http://127.0.0.1:8787/api/subscribe", {
        method: "OPTIONS",
        headers: { origin: "https://docs.example.org", "access-control-request-method": "POST" },
      }),
    );
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://docs.example.org");
    const no = await fetchWith(
      overrides,
      new Request("http://127.0.0.1:8787/api/subscribe", {
        method: "OPTIONS",
        headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
      }),
    );
    expect(no.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("form posts from other sites", () => {
  const list = { ALLOWED_ORIGINS: "https://blog.example.org" };
  const form = (origin: string | null, fields: Record<string, string>) =>
    fetchWith(
      list,
      new Request("http://127.0.0.1:8787/api/subscribe", {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "cf-connecting-ip": freshIp(),
          ...(origin ? { origin } : {}),
        },
        body: new URLSearchParams(fields),
        redirect: "manual",
      }),
    );

  it("honours an allowlisted redirect and refuses others", async () => {
    const ok = await form("https://blog.example.org", {
      email: "redir-ok@example.com",
      redirect: "https://blog.example.org/thanks",
    });
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe("https://blog.example.org/thanks");
    const evil = await form("https://blog.example.org", {
      email: "redir-no@example.com",
      redirect: "https://blog.example.org.evil.example/",
    });
    expect(evil.status).toBe(400);
    expect(await subscriberRow("redir-no@example.com")).toBeNull();
  });

  it("form posts from sites outside a listed ALLOWED_ORIGINS are refused, with nothing stored", async () => {
    const evil = await form("https://evil.example", { email: "csrf-victim@example.com" });
    expect(evil.status).toBe(403);
    expect(await form("null", { email: "csrf-victim@example.com" }).then((r) => r.status)).toBe(403);
    expect(await subscriberRow("csrf-victim@example.com")).toBeNull();
    expect((await form("https://blog.example.org", { email: "csrf-ok@example.com" })).status).toBe(303);
    expect((await form("http://127.0.0.1:8787", { email: "csrf-own@example.com" })).status).toBe(303); // our own /form
  });

  it("consent evidence records only our own or allowed origins", async () => {
    const post = (email: string, origin: string) =>
      fetchWith(
        list,
        new Request("http://127.0.0.1:8787/api/subscribe", {
          method: "POST",
          headers: { ...json, "cf-connecting-ip": freshIp(), origin },
          body: JSON.stringify({ email }),
        }),
      );
    expect((await post("consent-evil@example.com", "https://evil.example")).status).toBe(202);
    expect((await subscriberRow("consent-evil@example.com"))!.consent_origin).toBeNull();
    expect((await post("consent-ok@example.com", "https://blog.example.org")).status).toBe(202);
    expect((await subscriberRow("consent-ok@example.com"))!.consent_origin).toBe("https://blog.example.org");
  });
});

describe("framing and page headers", () => {
  it("pages carry a nonce CSP, nosniff, and refuse framing", async () => {
    for (const path of ["/", "/thanks"]) {
      const res = await call(path);
      const csp = res.headers.get("content-security-policy")!;
      expect(csp).toMatch(/style-src 'nonce-[A-Za-z0-9+/=]+'/);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      const nonce = csp.match(/'nonce-([^']+)'/)![1];
      expect(await res.text()).toContain(`<style nonce="${nonce}">`);
    }
  });

  it("the embeddable form and the pages reached from it are frameable", async () => {
    for (const path of ["/form", "/thanks?frame=1"]) {
      const res = await call(path);
      expect(res.headers.get("content-security-policy")).toContain("frame-ancestors *");
      expect(res.headers.get("x-frame-options")).toBeNull();
    }
    const error = await subscribeForm({ email: "nope", _frame: "1" });
    expect(error.status).toBe(422);
    expect(error.headers.get("content-security-policy")).toContain("frame-ancestors *");
    const ok = await subscribeForm({ email: "framed@example.com", _frame: "1" });
    expect(ok.headers.get("location")).toBe("http://127.0.0.1:8787/thanks?frame=1");
  });

  it("frame-ancestors follows ALLOWED_ORIGINS", async () => {
    const res = await fetchWith(
      { ALLOWED_ORIGINS: "https://blog.example.org" },
      new Request("http://127.0.0.1:8787/form"),
    );
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors https://blog.example.org");
  });

  it("serves embed.js as fresh JavaScript loadable from any site", async () => {
    const res = await call("/embed.js");
    expect(res.headers.get("content-type")).toContain("text/javascript");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
    const js = await res.text();
    expect(js).toContain("attachShadow");
    expect(js).toContain('"endpoint":"http://127.0.0.1:8787/api/subscribe"');
  });
});
