import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleOf, hostPage, humanDelay, launch, linkIn, uniqueEmail, waitForEmail, worker } from "./helpers";

/** Choosing topics in the forms (issue 10): the script embed with data-topics, and /form?topics=1 without JavaScript. */
describe("topic choice in the forms", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function open(fixture: string) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const console = consoleOf(page);
    await page.goto(hostPage(fixture));
    await page.locator(".papers-newsletter-embed form").waitFor({ state: "visible", timeout: 15_000 });
    return { context, page, console };
  }

  /** The names of the ticked topic checkboxes on a page (role locators pierce the embed's shadow root). */
  const ticked = async (page: Page) => {
    const out: string[] = [];
    for (const box of await page.getByRole("checkbox").all())
      if (await box.isChecked()) out.push((await box.getAttribute("value")) ?? "");
    return out;
  };

  it("without data-topics the embed is the one-field form", async () => {
    const { context, page } = await open("/embed.html");
    try {
      expect(await page.getByRole("textbox", { name: "Email address" }).isVisible()).toBe(true);
      expect(await page.getByRole("checkbox").count()).toBe(0);
      expect(await page.getByRole("group").count()).toBe(0);
    } finally {
      await context.close();
    }
  });

  it("with data-topics it offers the 16 topics, and a signup with two stores them", async () => {
    const email = uniqueEmail("e2e-topics");
    const { context, page, console } = await open("/embed-topics.html");
    try {
      const group = page.getByRole("group", { name: "Topics (optional)" });
      expect(await group.isVisible()).toBe(true);
      expect(await group.getByRole("checkbox").count()).toBe(16);
      expect(await ticked(page)).toEqual([]);

      await page.getByRole("textbox", { name: "Email address" }).fill(email);
      await page.getByRole("checkbox", { name: "Code and software" }).check();
      await page.getByRole("checkbox", { name: "Computer vision" }).check();
      await humanDelay();
      const response = page.waitForResponse(
        (r) => r.url().endsWith("/api/subscribe") && r.request().method() === "POST",
      );
      await page.getByRole("button", { name: "Subscribe" }).click();
      const res = await response;
      expect(res.status()).toBe(202);
      expect(JSON.parse(res.request().postData() ?? "{}").topics).toEqual(["vision", "code"]);
      await expect
        .poll(() => page.locator(".papers-newsletter-embed .status").textContent(), { timeout: 10_000 })
        .toMatch(/check your inbox/);
      expect(console.filter((m) => m.startsWith("error") || m.startsWith("pageerror"))).toEqual([]);

      // What was stored, as the reader sees it: confirm, follow "manage your subscription", find the two ticked.
      await page.goto(linkIn(await waitForEmail(email, "confirm"), "/confirm/"));
      await page.getByRole("button", { name: "Confirm my subscription" }).click();
      await page.getByRole("link", { name: "manage your subscription" }).click();
      await page.getByRole("heading", { name: "Your subscription" }).waitFor({ timeout: 10_000 });
      expect((await ticked(page)).sort()).toEqual(["code", "vision"]);

      // And changed there: one more, one less, saved.
      await page.getByRole("checkbox", { name: "Computer vision" }).uncheck();
      await page.getByRole("checkbox", { name: "Robotics and embodied AI" }).check();
      await page.getByRole("button", { name: "Save topics" }).click();
      await page.getByRole("status").filter({ hasText: "Saved" }).waitFor({ timeout: 10_000 });
      expect((await ticked(page)).sort()).toEqual(["code", "robotics"]);
      await page.reload();
      expect((await ticked(page)).sort()).toEqual(["code", "robotics"]);
    } finally {
      await context.close();
    }
  });

  it("/form?topics=1 posts the ticked topics as repeated fields with JavaScript off", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    try {
      // The post is answered here, not by the Worker: the browser's form encoding is what this checks, and the
      // suite's signups are budgeted (test/e2e/helpers.ts). The server's side is in test/integration/topics.test.ts.
      let posted = "";
      await page.route(worker("/api/subscribe"), async (route) => {
        posted = route.request().postData() ?? "";
        await route.fulfill({ status: 303, headers: { location: worker("/thanks?frame=1") } });
      });
      await page.goto(worker("/form?topics=1"));
      expect(await page.getByRole("group", { name: "Topics (optional)" }).getByRole("checkbox").count()).toBe(16);
      await page.getByRole("textbox", { name: "Email address" }).fill("nojs-topics@example.com");
      await page.getByRole("checkbox", { name: "Audio and speech" }).check();
      await page.getByRole("checkbox", { name: "3D and spatial" }).check();
      await page.getByRole("button", { name: "Subscribe" }).click();
      await page.waitForURL(/\/thanks/, { timeout: 10_000 });
      expect(new URLSearchParams(posted).getAll("topics")).toEqual(["audio-speech", "3d"]);

      await page.goto(worker("/form"));
      expect(await page.getByRole("checkbox").count()).toBe(0);
    } finally {
      await context.close();
    }
  });
});
