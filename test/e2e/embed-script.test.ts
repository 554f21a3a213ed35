import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/poll";
import { consoleOf, hostPage, hostUrl, humanDelay, launch, subscriberRow, uniqueEmail, waitForEmail } from "./helpers";

/** The script embed, dropped into a page on another origin whose stylesheet attacks everything it can. */
describe("script embed on a hostile host page", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function openHostile() {
    const context = await browser.newContext();
    const page = await context.newPage();
    const console = consoleOf(page);
    await page.goto(hostPage("/hostile.html"));
    const form = page.locator(".papers-newsletter-embed form");
    await form.waitFor({ state: "visible", timeout: 15_000 });
    return { context, page, console };
  }

  it("renders where the script tag stands, with the data- texts, untouched by the host CSS", async () => {
    const { context, page, console } = await openHostile();
    try {
      const layout = await page.evaluate(() => {
        const script = document.querySelector('script[src*="/embed.js"]')!;
        const host = script.previousElementSibling as HTMLElement;
        const root = host.shadowRoot!;
        const form = root.querySelector("form")!;
        const before = document.getElementById("before")!.getBoundingClientRect();
        const after = document.getElementById("after")!.getBoundingClientRect();
        const box = host.getBoundingClientRect();
        const button = root.querySelector("button")!;
        const email = root.querySelector<HTMLInputElement>("#email")!;
        return {
          hostClass: host.className,
          hostsBefore: host.previousElementSibling?.id,
          embeds: document.querySelectorAll(".papers-newsletter-embed").length,
          ready: script.getAttribute("data-papers-ready"),
          title: root.querySelector("h2")?.textContent,
          button: button.textContent,
          buttonDisplay: getComputedStyle(button).display,
          formDisplay: getComputedStyle(form).display,
          formColor: getComputedStyle(form).color,
          h2Transform: getComputedStyle(root.querySelector("h2")!).textTransform,
          emailWidth: email.getBoundingClientRect().width,
          label: root.querySelector('label[for="email"]')?.textContent,
          between: before.bottom <= box.top && box.bottom <= after.top,
          afterColor: getComputedStyle(document.getElementById("after")!).color,
          boxHeight: box.height,
        };
      });
      expect(layout.hostClass).toBe("papers-newsletter-embed");
      expect(layout.hostsBefore).toBe("before");
      expect(layout.embeds).toBe(1);
      expect(layout.ready).toBe("1");
      expect(layout.between).toBe(true);
      expect(layout.boxHeight).toBeGreaterThan(50);
      expect(layout.title).toBe("Weekly ML papers, straight to you");
      expect(layout.button).toBe("Sign me up");
      expect(layout.label).toBe("Email address");
      // The host's `button { display:none }`, `form { display:none }`, `* { color:red }` and `h2 { text-transform }` stay outside.
      expect(layout.buttonDisplay).not.toBe("none");
      expect(layout.formDisplay).toBe("block");
      expect(layout.formColor).not.toBe("rgb(255, 0, 0)");
      expect(layout.h2Transform).toBe("none");
      // The host's `input { width: 500px }` does not reach into the shadow root either.
      expect(layout.emailWidth).not.toBe(500);
      // And the embed's own styles do not leak out onto the host page.
      expect(layout.afterColor).toBe("rgb(255, 0, 0)");

      // Playwright's role locators pierce the open shadow root: what a person (and a screen reader) gets.
      await expect
        .poll(() => page.getByRole("heading", { name: "Weekly ML papers, straight to you" }).isVisible())
        .toBe(true);
      expect(await page.getByRole("button", { name: "Sign me up" }).isVisible()).toBe(true);
      expect(await page.getByRole("textbox", { name: "Email address" }).isVisible()).toBe(true);
      expect(console.filter((m) => m.startsWith("error") || m.startsWith("pageerror"))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("hides the honeypot from people despite the host CSS", async () => {
    const { context, page } = await openHostile();
    try {
      const hp = await page.evaluate(() => {
        const root = document.querySelector(".papers-newsletter-embed")!.shadowRoot!;
        const input = root.querySelector<HTMLInputElement>("#website")!;
        const r = input.getBoundingClientRect();
        const wrapper = input.closest(".hp")!;
        return {
          x: r.x,
          y: r.y,
          width: r.width,
          height: r.height,
          right: r.right,
          tabIndex: input.tabIndex,
          ariaHidden: wrapper.getAttribute("aria-hidden"),
          position: getComputedStyle(wrapper).position,
          autocomplete: input.autocomplete,
          viewportWidth: window.innerWidth,
        };
      });
      const offscreen = hp.right <= 0 || hp.x >= hp.viewportWidth;
      const zeroSize = hp.width === 0 || hp.height === 0;
      expect(offscreen || zeroSize, `honeypot box ${JSON.stringify(hp)}`).toBe(true);
      expect(hp.position).toBe("absolute");
      expect(hp.tabIndex).toBe(-1);
      expect(hp.ariaHidden).toBe("true");
      expect(hp.autocomplete).toBe("off");
      // Not reachable by role either: it sits under aria-hidden.
      expect(await page.getByRole("textbox", { name: "Leave this field empty" }).count()).toBe(0);
    } finally {
      await context.close();
    }
  });

  it("submits after a human delay and shows the success message inline, without navigating", async () => {
    const email = uniqueEmail("e2e-embed");
    const { context, page, console } = await openHostile();
    try {
      const navigations: string[] = [];
      page.on("framenavigated", (f) => {
        if (f === page.mainFrame()) navigations.push(f.url());
      });
      const startUrl = page.url();
      await page.getByRole("textbox", { name: "Email address" }).fill(email);
      await humanDelay();
      const response = page.waitForResponse(
        (r) => r.url().endsWith("/api/subscribe") && r.request().method() === "POST",
      );
      await page.getByRole("button", { name: "Sign me up" }).click();
      expect((await response).status()).toBe(202);

      const status = page.locator(".papers-newsletter-embed .status");
      await expect
        .poll(() => status.textContent(), { timeout: 10_000 })
        .toBe("Thanks! Look for our confirmation email.");
      expect(await status.getAttribute("role")).toBe("status");
      expect(await status.getAttribute("class")).toContain("ok");
      expect(await page.getByRole("textbox", { name: "Email address" }).inputValue()).toBe("");
      expect(await page.getByRole("button", { name: "Sign me up" }).isEnabled()).toBe(true);
      expect(page.url()).toBe(startUrl);
      expect(navigations).toEqual([]);

      const row = (await waitFor(`a subscriber row for ${email}`, () => subscriberRow(email), Boolean, 10_000))!;
      expect(row.status).toBe("pending");
      expect(row.source).toBe("api");
      expect(row.consentOrigin).toBe(hostUrl());

      const mail = await waitForEmail(email, "confirm");
      expect(mail.to).toBe(email);
      expect(mail.subject).toMatch(/^Confirm your subscription/);
      expect(mail.text).toContain("/confirm/");
      expect(console.filter((m) => m.startsWith("error") || m.startsWith("pageerror"))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("shows the server's error for an invalid address inline, as an alert", async () => {
    const email = uniqueEmail("e2e-embed-bad").replace("@example.com", "@example"); // no dot in the domain
    const { context, page } = await openHostile();
    try {
      const startUrl = page.url();
      const input = page.getByRole("textbox", { name: "Email address" });
      await input.fill(email);
      // The human delay matters here too: a too-fast form is answered with a silent fake success before validation.
      await humanDelay();
      const response = page.waitForResponse(
        (r) => r.url().endsWith("/api/subscribe") && r.request().method() === "POST",
      );
      await page.getByRole("button", { name: "Sign me up" }).click();
      const res = await response;
      expect(res.status()).toBe(422);
      const serverMessage = ((await res.json()) as { error: { message: string } }).error.message;
      expect(serverMessage).toBe("The domain needs a dot, like example.com.");

      const alert = page.getByRole("alert");
      await expect.poll(() => alert.textContent(), { timeout: 10_000 }).toBe(serverMessage);
      expect(await alert.isVisible()).toBe(true);
      expect(await input.getAttribute("aria-invalid")).toBe("true");
      expect(await input.inputValue()).toBe(email); // kept, so it can be corrected
      expect(page.url()).toBe(startUrl);
      expect(await subscriberRow(email)).toBeNull();
    } finally {
      await context.close();
    }
  });
});
