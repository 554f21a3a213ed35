import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleOf, hostPage, humanDelay, launch, worker } from "./helpers";

/**
 * Choosing the cadence in the forms (issue 11): the script embed with data-cadence, and /form?cadence=1 without
 * JavaScript. The posts are answered here, not by the Worker: what the browser sends is what this checks, and the
 * suite's signups are budgeted (test/e2e/helpers.ts); the server's side is in test/integration/cadence-choice.test.ts.
 * The preferences page's switch is driven in a browser by test/e2e/a11y.test.ts.
 */
describe("cadence choice in the forms", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("without data-cadence the embed offers no choice; with it, weekly is ticked and daily is sent when chosen", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(hostPage("/embed.html"));
      await page.locator(".papers-newsletter-embed form").waitFor({ state: "visible", timeout: 15_000 });
      expect(await page.getByRole("radio").count()).toBe(0);

      const console = consoleOf(page);
      const posted: unknown[] = [];
      await page.route(worker("/api/subscribe"), async (route) => {
        posted.push(JSON.parse(route.request().postData() ?? "{}"));
        await route.fulfill({
          status: 202,
          headers: { "content-type": "application/json", "access-control-allow-origin": "*" },
          body: '{"status":"pending"}',
        });
      });
      await page.goto(hostPage("/embed-cadence.html"));
      const group = page.getByRole("group", { name: "How often" });
      await group.waitFor({ state: "visible", timeout: 15_000 });
      expect(await group.getByRole("radio").count()).toBe(2);
      expect(await page.getByRole("radio", { name: /^Weekly/ }).isChecked()).toBe(true);
      expect(await page.getByRole("checkbox").count()).toBe(0);

      // Sent as it stands (weekly), then with daily chosen by keyboard, as a reader without a mouse would.
      const submit = async (email: string) => {
        await page.getByRole("textbox", { name: "Email address" }).fill(email);
        await humanDelay();
        await page.getByRole("button", { name: "Subscribe" }).click();
        await expect
          .poll(() => page.locator(".papers-newsletter-embed .status").textContent(), { timeout: 10_000 })
          .toMatch(/check your inbox/);
      };
      await submit("weekly-reader@example.com");
      await page.getByRole("radio", { name: /^Weekly/ }).focus();
      await page.keyboard.press("ArrowDown");
      expect(await page.getByRole("radio", { name: /^Daily/ }).isChecked()).toBe(true);
      await submit("daily-reader@example.com");
      expect(posted).toMatchObject([
        { email: "weekly-reader@example.com", cadence: "weekly" },
        { email: "daily-reader@example.com", cadence: "daily" },
      ]);
      expect(console.filter((m) => m.startsWith("error") || m.startsWith("pageerror"))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("/form?cadence=1 posts the chosen cadence with JavaScript off", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    try {
      let posted = "";
      await page.route(worker("/api/subscribe"), async (route) => {
        posted = route.request().postData() ?? "";
        await route.fulfill({ status: 303, headers: { location: worker("/thanks?frame=1") } });
      });
      await page.goto(worker("/form?cadence=1"));
      expect(await page.getByRole("radio", { name: /^Weekly/ }).isChecked()).toBe(true);
      await page.getByRole("textbox", { name: "Email address" }).fill("nojs-daily@example.com");
      await page.getByRole("radio", { name: /^Daily/ }).check();
      await page.getByRole("button", { name: "Subscribe" }).click();
      await page.waitForURL(/\/thanks/, { timeout: 10_000 });
      expect(new URLSearchParams(posted).getAll("cadence")).toEqual(["daily"]);
    } finally {
      await context.close();
    }
  });
});
