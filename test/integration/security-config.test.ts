/**
 * A deployment that is configured wrong fails loudly instead of running open: local mode (the dev outbox, the D1
 * timing header) exists only with LOCAL_DEV on a loopback host, never inferred; missing or unusable secrets stop every
 * entry point.
 */
import { createExecutionContext, createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { call, fetchWith } from "../support/helpers";

const json = { "content-type": "application/json", accept: "application/json", "cf-connecting-ip": "203.0.113.9" };

describe("local mode is explicit, never inferred from PUBLIC_URL", () => {
  it("a Worker deployed with wrangler.toml's local PUBLIC_URL and no Resend key is misconfigured, outbox included", async () => {
    const deployed = { LOCAL_DEV: undefined, RESEND_API_KEY: undefined, PUBLIC_URL: "http://127.0.0.1:8787" };
    for (const path of ["/dev/outbox", "/dev/outbox.json", "/health", "/"]) {
      const res = await fetchWith(deployed, new Request(`https://newsletter.example.workers.dev${path}`));
      expect(res.status, path).toBe(500);
      expect(await res.json()).toMatchObject({ error: { code: "misconfigured" } });
    }
  });

  it("even with LOCAL_DEV, a request to a public host sees no outbox and no D1 timing header", async () => {
    const outbox = await fetchWith({}, new Request("https://newsletter.example.org/dev/outbox.json"));
    expect(outbox.status).toBe(404);
    const signup = await fetchWith(
      {},
      new Request("https://newsletter.example.org/api/subscribe", {
        method: "POST",
        headers: json,
        body: JSON.stringify({ email: "timing-oracle@example.com" }),
      }),
    );
    expect(signup.status).toBe(202);
    expect(signup.headers.get("server-timing")).toBeNull();
    expect(signup.headers.get("strict-transport-security")).toContain("max-age");
  });

  it("locally (LOCAL_DEV and a loopback host) the outbox and the timing header exist", async () => {
    expect((await fetchWith({}, new Request("http://127.0.0.1:8787/dev/outbox.json"))).status).toBe(200);
    const signup = await fetchWith(
      {},
      new Request("http://127.0.0.1:8787/api/subscribe", {
        method: "POST",
        headers: json,
        body: JSON.stringify({ email: "local-timing@example.com" }),
      }),
    );
    expect(signup.headers.get("server-timing")).toContain("rows_read");
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

describe("secrets", () => {
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

  it("an ADMIN_TOKEN a bearer header cannot carry is a configuration error, not a silent lock-out", async () => {
    const res = await fetchWith(
      { ADMIN_TOKEN: "correct horse battery staple!" },
      new Request("http://127.0.0.1:8787/health"),
    );
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ error: { code: "misconfigured" } });
  });
});
