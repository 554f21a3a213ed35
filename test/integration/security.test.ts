import { createExecutionContext, createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { config } from "../../src/config";
import worker from "../../src/index";
import { formToken } from "../../src/lib/links";
import { PASSING_TOKEN, TEST_SECRET } from "../emulators/turnstile";
import { call, freshIp, subscribeForm, subscribeJson, subscriberRow } from "../support/helpers";

const fetchWith = (overrides: Partial<Env>, req: Request) =>
  worker.fetch!(req as never, { ...env, ...overrides }, createExecutionContext());

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

  it("honours an allowlisted redirect and refuses others", async () => {
    const overrides = { ALLOWED_ORIGINS: "https://blog.example.org" };
    const form = (redirect: string, email: string) =>
      fetchWith(
        overrides,
        new Request("http://127.0.0.1:8787/api/subscribe", {
          method: "POST",
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            "cf-connecting-ip": freshIp(),
            origin: "https://blog.example.org",
          },
          body: new URLSearchParams({ email, redirect }),
          redirect: "manual",
        }),
      );
    const ok = await form("https://blog.example.org/thanks", "redir-ok@example.com");
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe("https://blog.example.org/thanks");
    const evil = await form("https://blog.example.org.evil.example/", "redir-no@example.com");
    expect(evil.status).toBe(400);
    expect(await subscriberRow("redir-no@example.com")).toBeNull();
  });
});

describe("security headers", () => {
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

describe("bot traps on our own forms", () => {
  it("a filled honeypot looks like success and stores nothing", async () => {
    const res = await subscribeForm({ email: "honey@example.com", website: "http://spam.example" });
    expect(res.status).toBe(303);
    const json = await subscribeJson("honey2@example.com", { website: "x" });
    expect(json.status).toBe(202);
    expect(await subscriberRow("honey@example.com")).toBeNull();
    expect(await subscriberRow("honey2@example.com")).toBeNull();
  });

  it("a form sent faster than a person could type looks like success and stores nothing; 3 s later it gets through", async () => {
    const cfg = config(env);
    const justNow = await formToken(cfg, Date.now());
    await subscribeForm({ email: "fast@example.com", ts: justNow });
    expect(await subscriberRow("fast@example.com")).toBeNull();
    const threeSecondsAgo = await formToken(cfg, Date.now() - 3000);
    await subscribeForm({ email: "human@example.com", ts: threeSecondsAgo });
    expect(await subscriberRow("human@example.com")).toMatchObject({ status: "pending" });
  });

  it("a forged render-time field is treated as a bot; an expired one asks to reload", async () => {
    await subscribeForm({ email: "forged@example.com", ts: "AAAA.BBBB" });
    expect(await subscriberRow("forged@example.com")).toBeNull();
    const old = await formToken(config(env), Date.now() - 8 * 24 * 3600 * 1000);
    const res = await subscribeJson("old@example.com", { ts: old });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "form_expired" } });
  });
});

describe("Turnstile", () => {
  const overrides = {
    TURNSTILE_SITE_KEY: "1x00000000000000000000AA",
    TURNSTILE_SECRET: TEST_SECRET,
    TURNSTILE_VERIFY_URL: env.TURNSTILE_EMULATOR_URL,
  };
  const post = (body: Record<string, string>) =>
    fetchWith(
      overrides,
      new Request("http://127.0.0.1:8787/api/subscribe", {
        method: "POST",
        headers: { "content-type": "application/json", "cf-connecting-ip": freshIp() },
        body: JSON.stringify(body),
      }),
    );

  it("is mandatory when a secret is set: a missing token is rejected", async () => {
    const res = await post({ email: "ts-missing@example.com" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "turnstile_required" } });
    expect(await subscriberRow("ts-missing@example.com")).toBeNull();
  });

  it("rejects a failing token and accepts a passing one", async () => {
    const bad = await post({ email: "ts-bad@example.com", "cf-turnstile-response": "forged" });
    expect(bad.status).toBe(403);
    expect(await subscriberRow("ts-bad@example.com")).toBeNull();
    const good = await post({ email: "ts-good@example.com", "cf-turnstile-response": PASSING_TOKEN });
    expect(good.status).toBe(202);
    expect(await subscriberRow("ts-good@example.com")).toMatchObject({ status: "pending" });
  });

  it("the form page renders the widget and allows Cloudflare's script", async () => {
    const res = await fetchWith(overrides, new Request("http://127.0.0.1:8787/form"));
    expect(await res.text()).toContain('class="cf-turnstile" data-sitekey="1x00000000000000000000AA"');
    expect(res.headers.get("content-security-policy")).toContain("https://challenges.cloudflare.com");
  });
});

describe("per-IP rate limit", () => {
  it("answers 429 with Retry-After once an IP exceeds its budget", async () => {
    const ip = freshIp();
    const statuses = [];
    for (let i = 0; i < 12; i++) statuses.push((await subscribeJson(`rl${i}@example.com`, {}, { ip })).status);
    expect(statuses.slice(0, 10).every((s) => s === 202)).toBe(true);
    const res = await subscribeJson("rl-last@example.com", {}, { ip });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("60");
    expect(await res.json()).toMatchObject({ error: { code: "rate_limited" } });
    expect(await subscriberRow("rl-last@example.com")).toBeNull();
  });
});

describe("configuration", () => {
  it("a production deployment without its secrets fails loudly on every entry point", async () => {
    const prod = { PUBLIC_URL: "https://news.example.org", RESEND_API_KEY: "", TOKEN_SECRET: "short" };
    const res = await fetchWith(prod, new Request("https://news.example.org/health"));
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ error: { code: "misconfigured" } });
    await expect(
      worker.scheduled!(
        createScheduledController({ cron: "0 8 * * 1" }),
        { ...env, ...prod },
        createExecutionContext(),
      ),
    ).rejects.toThrow(/TOKEN_SECRET/);
  });

  it("the outbox exists only locally without a Resend key", async () => {
    expect((await call("/dev/outbox")).status).toBe(200);
    const withKey = await fetchWith(
      { RESEND_API_KEY: "re_123456789" },
      new Request("http://127.0.0.1:8787/dev/outbox"),
    );
    expect(withKey.status).toBe(404);
    const prod = await fetchWith(
      { PUBLIC_URL: "https://news.example.org", RESEND_API_KEY: "re_123456789" },
      new Request("https://news.example.org/dev/outbox.json"),
    );
    expect(prod.status).toBe(404);
  });
});
