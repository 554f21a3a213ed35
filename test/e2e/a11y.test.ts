import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  apiSubscribe,
  hostPage,
  launch,
  linkIn,
  seriousInBothSchemes,
  uniqueEmail,
  waitForEmail,
  worker,
} from "./helpers";

/**
 * axe-core on every page a subscriber sees, in the light and the dark colour scheme.
 * No violation of impact serious or critical is allowed; all violations found are printed.
 * The contexts bypass CSP only so that the axe script can be injected into our strict-CSP pages.
 */
describe("accessibility (axe-core)", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });

  const newContext = () => browser.newContext({ bypassCSP: true });

  const check = seriousInBothSchemes;

  async function checkUrl(
    context: BrowserContext,
    url: string,
    label: string,
    ready: (page: Page) => Promise<unknown>,
    include?: string,
  ) {
    const page = await context.newPage();
    await page.goto(url);
    await ready(page);
    const found = await check(page, label, include);
    await page.close();
    return found;
  }

  const heading = (name: string | RegExp) => (page: Page) =>
    page.getByRole("heading", { name }).waitFor({ timeout: 10_000 });

  it("the landing page, /form (with and without topics and cadence) and /thanks", async () => {
    const context = await newContext();
    try {
      const found = [
        ...(await checkUrl(context, worker("/"), "landing page /", (p) =>
          p.locator(".papers-newsletter-embed form").waitFor({ timeout: 15_000 }),
        )),
        ...(await checkUrl(context, worker("/form"), "/form", heading("Get trending papers in your email inbox"))),
        ...(await checkUrl(
          context,
          worker("/form?topics=1"),
          "/form?topics=1",
          heading("Get trending papers in your email inbox"),
        )),
        ...(await checkUrl(
          context,
          worker("/form?cadence=1&topics=1"),
          "/form?cadence=1&topics=1",
          heading("Get trending papers in your email inbox"),
        )),
        ...(await checkUrl(context, worker("/thanks"), "/thanks", heading("Check your inbox"))),
        ...(await checkUrl(context, worker("/thanks?frame=1"), "/thanks?frame=1", heading("Check your inbox"))),
      ];
      expect(found).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("the script embed on a host page, with and without topics or cadence (scoped to the embed)", async () => {
    const context = await newContext();
    try {
      const found: string[] = [];
      for (const fixture of ["/embed.html", "/embed-topics.html", "/embed-cadence.html"])
        found.push(
          ...(await checkUrl(
            context,
            hostPage(fixture),
            `embed on host page ${fixture}`,
            (p) => p.locator(".papers-newsletter-embed form").waitFor({ timeout: 15_000 }),
            ".papers-newsletter-embed",
          )),
        );
      expect(found).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("error pages (invalid link, not found)", async () => {
    const context = await newContext();
    try {
      const found = [
        ...(await checkUrl(
          context,
          worker("/confirm/not-a-valid-token"),
          "invalid confirm link",
          heading("This link is not valid"),
        )),
        ...(await checkUrl(
          context,
          worker("/manage/not-a-valid-token"),
          "invalid manage link",
          heading("This link is not valid"),
        )),
        ...(await checkUrl(context, worker("/no-such-page"), "404 page", heading("That did not work"))),
      ];
      expect(found).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("the confirm, confirmed, manage, unsubscribe, unsubscribed and resubscribed pages", async () => {
    const email = uniqueEmail("e2e-a11y");
    await apiSubscribe(email);
    const confirmUrl = linkIn(await waitForEmail(email, "confirm"), "/confirm/");

    const context = await newContext();
    try {
      const found: string[] = [];
      const page = await context.newPage();
      await page.goto(confirmUrl);
      await heading("Confirm your subscription")(page);
      found.push(...(await check(page, "confirm page")));

      await page.getByRole("button", { name: "Confirm my subscription" }).click();
      await heading("You're subscribed!")(page);
      found.push(...(await check(page, "confirmed page")));

      const welcome = await waitForEmail(email, "welcome");
      const manageUrl = linkIn(welcome, "/manage/");
      const unsubscribeUrl = linkIn(welcome, "/unsubscribe/");

      await page.goto(manageUrl);
      await heading("Your subscription")(page);
      found.push(...(await check(page, "manage page")));

      await page.getByRole("button", { name: "Pause" }).click();
      await page.getByRole("button", { name: "Resume now" }).waitFor({ timeout: 10_000 });
      found.push(...(await check(page, "manage page, paused")));

      // Switching to daily: an active reader's change waits for next week, and the page says so.
      await page.getByRole("radio", { name: /^Daily/ }).check();
      await page.getByRole("button", { name: "Save", exact: true }).click();
      await page
        .getByRole("status")
        .filter({ hasText: "Saved: you get the daily edition from the papers of the week of" })
        .waitFor({ timeout: 10_000 });
      expect(await page.getByRole("radio", { name: /^Daily/ }).isChecked()).toBe(true);
      expect(await page.getByText(/Until then you get the weekly digest/).isVisible()).toBe(true);
      found.push(...(await check(page, "manage page, cadence switch waiting")));

      await page.goto(unsubscribeUrl);
      await heading("Unsubscribe?")(page);
      found.push(...(await check(page, "unsubscribe page")));

      await page.getByRole("button", { name: "Unsubscribe" }).click();
      await heading("You're unsubscribed")(page);
      found.push(...(await check(page, "unsubscribed page")));

      await page.getByRole("button", { name: "Unsubscribed by mistake? Resubscribe" }).click();
      await heading("You're subscribed again")(page);
      found.push(...(await check(page, "resubscribed page")));

      expect(found).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
