import type { Browser, Frame, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/poll";
import { consoleOf, hostPage, humanDelay, launch, subscriberRow, uniqueEmail, waitForEmail, worker } from "./helpers";

const FRAMING_ERROR = /frame-ancestors|X-Frame-Options|Refused to (display|frame)/i;

async function childFrame(page: Page): Promise<Frame> {
  return (await waitFor(
    "the iframe to attach",
    async () => page.frames().find((f) => f !== page.mainFrame()),
    Boolean,
    10_000,
  ))!;
}

/** The iframe embed: /form and its thank-you page in a frame on another origin. */
describe("iframe embed", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("submits inside the frame and shows the thank-you page there", async () => {
    const email = uniqueEmail("e2e-iframe");
    const context = await browser.newContext();
    const page = await context.newPage();
    const console = consoleOf(page);
    try {
      await page.goto(hostPage("/iframe-form.html"));
      const frameEl = page.frameLocator('iframe[title="Subscribe"]');
      const input = frameEl.getByRole("textbox", { name: "Email address" });
      await input.waitFor({ state: "visible", timeout: 10_000 });
      const frame = await childFrame(page);
      expect(frame.url()).toBe(worker("/form"));
      const hostUrlBefore = page.url();

      await input.fill(email);
      await humanDelay();
      const post = page.waitForResponse((r) => r.url() === worker("/api/subscribe") && r.request().method() === "POST");
      await frameEl.getByRole("button", { name: "Subscribe" }).click();
      const res = await post;
      expect(res.status()).toBe(303);

      await waitFor(
        () => `the frame to reach /thanks?frame=1 (at ${frame.url()})`,
        async () => frame.url() === worker("/thanks?frame=1"),
        Boolean,
        10_000,
      );
      await expect
        .poll(() => frameEl.getByRole("heading", { level: 1 }).textContent(), { timeout: 10_000 })
        .toBe("Check your inbox");
      expect(await frame.evaluate(() => document.body.className)).toBe("framed");
      // Only the frame navigated; the host page stays where it was.
      expect(page.url()).toBe(hostUrlBefore);
      expect(await page.getByRole("heading", { name: "Host page" }).isVisible()).toBe(true);

      const mail = await waitForEmail(email, "confirm");
      expect(mail.subject).toMatch(/^Confirm your subscription/);
      const row = await subscriberRow(email);
      expect(row?.status).toBe("pending");
      expect(row?.source).toBe("form");
      expect(console.filter((m) => FRAMING_ERROR.test(m))).toEqual([]);
      expect(console.filter((m) => m.startsWith("error") || m.startsWith("pageerror"))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("serves /form and /thanks?frame=1 as frameable, and the rest of the site (/thanks included) as not", async () => {
    const headers = async (path: string) => {
      const res = await fetch(worker(path), { headers: { Accept: "text/html" } });
      return { csp: res.headers.get("content-security-policy") ?? "", xfo: res.headers.get("x-frame-options") };
    };
    for (const path of ["/form", "/thanks?frame=1"]) {
      const h = await headers(path);
      expect(h.csp, path).toContain("frame-ancestors *");
      expect(h.xfo, path).toBeNull();
    }
    for (const path of [
      "/",
      "/thanks",
      "/dev/outbox",
      "/confirm/not-a-token",
      "/manage/not-a-token",
      "/unsubscribe/not-a-token",
    ]) {
      const h = await headers(path);
      expect(h.csp, path).toContain("frame-ancestors 'none'");
      expect(h.xfo, path).toBe("DENY");
    }
  });

  it("refuses to render non-frameable pages (the landing page, /thanks without ?frame=1) inside a frame", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const console = consoleOf(page);
    try {
      await page.goto(hostPage("/iframe-refused.html"));
      // Chromium names only the origin of a cross-origin frame in the message: one refusal per frame.
      const refusals = await waitFor(
        () => `two console errors about frame-ancestors / X-Frame-Options:\n${console.join("\n")}`,
        async () => console.filter((m) => FRAMING_ERROR.test(m)),
        (found) => found.length >= 2,
        10_000,
      );
      for (const r of refusals) expect(r).toContain(`'${worker("/")}'`);
      for (const title of ["Landing page", "Thanks page"]) {
        const handle = await page.locator(`iframe[title="${title}"]`).elementHandle();
        const frame = await handle!.contentFrame();
        // The frame holds Chromium's error page, never our content.
        expect(frame?.url() ?? "", title).not.toMatch(
          new RegExp(`^${worker("/").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`),
        );
        expect(await page.frameLocator(`iframe[title="${title}"]`).locator("main .card").count(), title).toBe(0);
        expect(await page.frameLocator(`iframe[title="${title}"]`).getByRole("heading").count(), title).toBe(0);
      }
    } finally {
      await context.close();
    }
  });
});
