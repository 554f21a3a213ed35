import type { Browser, Response } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/poll";
import {
  apiSubscribe,
  humanDelay,
  launch,
  outboxFor,
  subscriberRow,
  uniqueEmail,
  waitForEmail,
  worker,
} from "./helpers";

/** The standalone /form with JavaScript off: a plain POST, a 303 and the thank-you page. */
describe("/form without JavaScript", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Submits /form and returns the POST's response (the 303) and the page it lands on. */
  async function submitForm(email: string, wait: boolean) {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const loadedAt = Date.now();
    await page.goto(worker("/form"));
    await page.getByRole("textbox", { name: "Email address" }).fill(email);
    if (wait) await humanDelay();
    const post = page.waitForResponse((r) => r.url() === worker("/api/subscribe") && r.request().method() === "POST");
    const submittedAt = Date.now();
    await page.getByRole("button", { name: "Subscribe" }).click();
    const res: Response = await post;
    await page.waitForURL(/\/thanks/, { timeout: 10_000 });
    return { context, page, res, elapsed: submittedAt - loadedAt };
  }

  it("lands on the thank-you page after a 303, and the confirmation email is sent", async () => {
    const email = uniqueEmail("e2e-nojs");
    const { context, page, res } = await submitForm(email, true);
    try {
      expect(res.status()).toBe(303);
      expect(await res.headerValue("location")).toBe(worker("/thanks?frame=1"));
      expect(page.url()).toBe(worker("/thanks?frame=1"));
      expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Check your inbox");
      expect(await page.getByText("Almost there: check your inbox").isVisible()).toBe(true);
      // The framed thank-you page links back to the form.
      expect(await page.getByRole("link", { name: "try again" }).getAttribute("href")).toBe(worker("/form"));

      const mail = await waitForEmail(email, "confirm");
      expect(mail.subject).toMatch(/^Confirm your subscription/);
      const row = await subscriberRow(email);
      expect(row?.status).toBe("pending");
      expect(row?.source).toBe("form");
    } finally {
      await context.close();
    }
  });

  it("answers a too-fast submission with the same thank-you page, but records and sends nothing", async () => {
    const email = uniqueEmail("e2e-fast");
    const { context, page, res, elapsed } = await submitForm(email, false);
    try {
      // The signed render time in the form says the submission came under MIN_FILL_MS (2 s) after rendering.
      expect(elapsed).toBeLessThan(2_000);
      expect(res.status()).toBe(303);
      expect(page.url()).toBe(worker("/thanks?frame=1"));
      expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Check your inbox");

      // No row: the handler returned before recording (and so before queueing any email).
      expect(await subscriberRow(email)).toBeNull();
      // Sentinel: a real signup queued after it. Once its email is out, anything queued before would be too.
      const sentinel = uniqueEmail("e2e-sentinel");
      await apiSubscribe(sentinel);
      await waitForEmail(sentinel, "confirm");
      expect(await outboxFor(email)).toEqual([]);
      expect(await subscriberRow(email)).toBeNull();
    } finally {
      await context.close();
    }
  });

  it("keeps the honeypot out of sight and out of the tab order with CSS alone", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    try {
      await page.goto(worker("/form"));
      const hp = page.locator("#website");
      const box = (await waitFor("a box for the honeypot", () => hp.boundingBox(), Boolean, 5_000))!;
      expect(box.x + box.width <= 0 || box.width === 0 || box.height === 0, JSON.stringify(box)).toBe(true);
      expect(await hp.getAttribute("tabindex")).toBe("-1");
    } finally {
      await context.close();
    }
  });
});
