import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/poll";
import { consoleOf, humanDelay, launch, linkIn, subscriberRow, uniqueEmail, waitForEmail, worker } from "./helpers";

/** A whole subscription in a real browser: signup on the landing page, confirm, manage, unsubscribe, resubscribe. */
describe("subscription lifecycle in the browser", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("signs up, confirms, pauses, resumes, unsubscribes and resubscribes", async () => {
    const email = uniqueEmail("e2e-flow");
    const context = await browser.newContext();
    const page = await context.newPage();
    const console = consoleOf(page);
    try {
      // 1. Signup through the embed on our own landing page (under its strict CSP).
      await page.goto(worker("/"));
      const input = page.getByRole("textbox", { name: "Email address" });
      await input.waitFor({ state: "visible", timeout: 15_000 });
      await input.fill(email);
      await humanDelay();
      await page.getByRole("button", { name: "Subscribe" }).click();
      await expect
        .poll(() => page.locator(".papers-newsletter-embed .status").textContent(), { timeout: 10_000 })
        .toContain("check your inbox");
      expect(page.url()).toBe(worker("/"));
      expect((await subscriberRow(email))?.status).toBe("pending");

      // 2. The confirmation link: a GET page with one button; opening it (scripts on) changes nothing, pressing it
      // confirms, landing on "You're subscribed!".
      const confirmMail = await waitForEmail(email, "confirm");
      const confirmUrl = linkIn(confirmMail, "/confirm/");
      expect(confirmMail.html).toContain(confirmUrl);
      await page.goto(confirmUrl);
      await page.getByRole("heading", { name: "Confirm your subscription" }).waitFor();
      await page.waitForTimeout(1000); // a scanner that runs the page and waits
      expect((await subscriberRow(email))?.status).toBe("pending");
      await page.getByRole("button", { name: "Confirm my subscription" }).click();
      await page.getByRole("heading", { name: "You're subscribed!" }).waitFor({ timeout: 10_000 });
      expect(page.url()).toBe(confirmUrl);
      expect((await subscriberRow(email))?.status).toBe("active");

      // 3. The manage link from the welcome email.
      const welcome = await waitForEmail(email, "welcome");
      const manageUrl = linkIn(welcome, "/manage/");
      const unsubscribeUrl = linkIn(welcome, "/unsubscribe/");
      expect(welcome.headers?.["List-Unsubscribe"]).toBe(`<${unsubscribeUrl}>`);
      // The confirmed page links to the same manage page.
      expect(await page.getByRole("link", { name: "manage your subscription" }).getAttribute("href")).toBe(manageUrl);

      await page.goto(manageUrl);
      await page.getByRole("heading", { name: "Your subscription" }).waitFor();
      expect(await page.locator("main p").filter({ hasText: email }).textContent()).toContain(
        "receiving the weekly digest",
      );
      expect(await page.getByRole("button", { name: "Resume now" }).count()).toBe(0);

      // Pause for 2 weeks.
      await page.getByLabel("Take a break").selectOption("2");
      await page.getByRole("button", { name: "Pause" }).click();
      await expect.poll(() => page.getByRole("status").textContent(), { timeout: 10_000 }).toBe("Paused for 2 weeks.");
      const until = new Date(Date.now() + 14 * 24 * 3600 * 1000).toISOString().slice(0, 10);
      expect(await page.locator("main p").filter({ hasText: email }).textContent()).toMatch(
        /paused until \d{4}-\d{2}-\d{2}/,
      );
      const shown = (await page.locator("main p").filter({ hasText: email }).textContent())!.match(
        /\d{4}-\d{2}-\d{2}/,
      )![0];
      expect(Math.abs(Date.parse(shown) - Date.parse(until))).toBeLessThanOrEqual(24 * 3600 * 1000);

      // Resume.
      await page.getByRole("button", { name: "Resume now" }).click();
      await expect
        .poll(() => page.getByRole("status").textContent(), { timeout: 10_000 })
        .toBe("Welcome back: the digest resumes next Monday.");
      expect(await page.locator("main p").filter({ hasText: email }).textContent()).toContain(
        "receiving the weekly digest",
      );
      expect(await page.getByRole("button", { name: "Resume now" }).count()).toBe(0);
      expect((await subscriberRow(email))?.status).toBe("active");

      // 4. The unsubscribe link: GET shows a button (no change yet), its POST unsubscribes.
      await page.goto(unsubscribeUrl);
      await page.getByRole("heading", { name: "Unsubscribe?" }).waitFor();
      expect((await subscriberRow(email))?.status).toBe("active");
      await page.getByRole("button", { name: "Unsubscribe" }).click();
      await page.getByRole("heading", { name: "You're unsubscribed" }).waitFor({ timeout: 10_000 });
      expect((await subscriberRow(email))?.status).toBe("unsubscribed");

      // 5. The confirmation page offers a way back (and no link to the manage page).
      expect(await page.locator('a[href*="/manage/"], form[action*="/manage/"]').count()).toBe(0);
      const resubscribe = page.getByRole("button", { name: "Unsubscribed by mistake? Resubscribe" });
      expect(await resubscribe.isVisible()).toBe(true);
      await resubscribe.click();
      await page.getByRole("heading", { name: "You're subscribed again" }).waitFor({ timeout: 10_000 });
      await waitFor(
        "the subscriber to be active again after resubscribing",
        async () => (await subscriberRow(email))?.status === "active",
        Boolean,
        5_000,
      );

      expect(console.filter((m) => m.startsWith("error") || m.startsWith("pageerror"))).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
