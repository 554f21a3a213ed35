/**
 * Bots on our own forms: the honeypot and the render-time token make a bot's signup look like a success that stores
 * nothing; Turnstile, once configured, is mandatory. The generated versions are in hostile-signup-bots.test.ts.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { config } from "../../src/config";
import { formToken } from "../../src/lib/links";
import { PASSING_TOKEN, TEST_SECRET } from "../emulators/turnstile";
import { fetchWith, freshIp, subscribeForm, subscribeJson, subscriberRow } from "../support/helpers";

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
