import { createHmac } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { consoleOf, hostPage, launch, outboxFor, seriousInBothSchemes, worker } from "./helpers";

/**
 * The operator's dashboard in Chromium (issue 12): a wrong token refused, sign-in, the overview, sign-out and the
 * session gone; the issues pages with a test send and pause and resume of a sending issue; CSV upload; an expired or
 * tampered session; a sign-in form posted from another site refused; on each page axe in both colour schemes and the
 * phone width.
 */
/**
 * A dashboard session token as the Worker signs one (format in src/lib/tokens.ts: base64url payload "sub.iat.exp", and
 * an HMAC-SHA256 over purpose, payload and the session key, itself a keyed hash of the admin token).
 */
function sessionToken(secret: string, adminToken: string, iat: number, exp: number) {
  const mac = (text: string) => createHmac("sha256", secret).update(text).digest("base64url");
  const key = mac(`admin-session\n${adminToken}`).slice(0, 32);
  const payload = Buffer.from(`0.${iat}.${exp}`).toString("base64url");
  return `${payload}.${mac(`admin\n${payload}\n${key}`)}`;
}

/** The session's lifetime (SESSION_TTL_MS in src/routes/session.ts, whose imports need the Worker's types). */
const SESSION_TTL_MS = 12 * 3600 * 1000;

/**
 * With SCREENSHOTS=1 the README's pictures of the dashboard are taken on the way (docs/images/dashboard-*.png), at
 * desktop width, light scheme: `SCREENSHOTS=1 npx vitest run --project e2e test/e2e/dashboard.test.ts`.
 */
/** For the pictures only: readers imported and one edition sent through the bearer API, so the pages show figures. */
async function seedForScreenshots() {
  const auth = { Authorization: `Bearer ${inject("adminToken")}` };
  const rows = Array.from({ length: 40 }, (_, i) => `reader-${i}@example.org`).join("\n");
  await fetch(worker("/admin/subscribers/import"), {
    method: "POST",
    headers: { ...auth, "content-type": "text/csv" },
    body: `email\n${rows}\n`,
  });
  await fetch(worker("/admin/digests/2026-W39/send"), { method: "POST", headers: auth });
  await expect
    .poll(
      async () =>
        ((await (await fetch(worker("/admin/digests/2026-W39"), { headers: auth })).json()) as { status: string })
          .status,
      {
        timeout: 30_000,
      },
    )
    .toBe("sent");
}

/** "Sent 300 of 3000" on an issue's page, as numbers. */
async function progressOf(page: Page) {
  const label = (await page.getByText(/^Sent \d+ of \d+/).textContent()) ?? "";
  const [, sent, of] = /^Sent (\d+) of (\d+)/.exec(label)!;
  return { sent: Number(sent), recipients: Number(of) };
}

/**
 * Pause and resume of a sending issue, as an operator does it: 3,000 readers (at the local outbox's default pace of
 * 2 Resend calls a second, some 15 seconds of sending), Send now, Pause while it sends, nothing more goes out while
 * paused, Resume, and every reader gets exactly one copy.
 */
async function pauseAndResume(page: Page) {
  const auth = { Authorization: `Bearer ${inject("adminToken")}` };
  const run = Date.now();
  const readers = Array.from({ length: 3000 }, (_, i) => `pause-${run}-${i}@example.org`);
  const imported = await fetch(worker("/admin/subscribers/import"), {
    method: "POST",
    headers: { ...auth, "content-type": "text/csv" },
    body: `email\n${readers.join("\n")}\n`,
  });
  expect(imported.status).toBe(200);

  await page.goto(worker("/admin/issues/2026-W38"));
  await page.getByRole("button", { name: "Send now" }).click();
  await page.getByRole("button", { name: "Yes, send now" }).click();
  await page.getByRole("heading", { name: "Issue 2026-W38" }).waitFor({ timeout: 10_000 });
  // The page refreshes itself while the issue builds and sends; Pause appears once it sends.
  await page.getByRole("button", { name: "Pause" }).waitFor({ timeout: 30_000 });
  await page.getByRole("button", { name: "Pause" }).click();
  await page.getByRole("button", { name: "Yes, pause" }).click();
  await page.getByText("Paused: paused by an operator").waitFor({ timeout: 10_000 });
  expect(await page.getByRole("button", { name: "Resume" }).isVisible()).toBe(true);

  // A batch already handed to the mailer may still land; after that, nothing goes out while paused.
  await page.waitForTimeout(2_000);
  await page.reload();
  const paused = await progressOf(page);
  expect(paused.recipients).toBeGreaterThanOrEqual(readers.length);
  expect(paused.sent).toBeLessThan(paused.recipients);
  await page.waitForTimeout(3_000);
  await page.reload();
  expect(await progressOf(page)).toEqual(paused);

  await page.getByRole("button", { name: "Resume" }).click();
  await page.getByRole("button", { name: "Yes, resume" }).click();
  await page.getByRole("heading", { name: "Issue 2026-W38" }).waitFor({ timeout: 10_000 });
  const record = async () =>
    (await (await fetch(worker("/admin/digests/2026-W38"), { headers: auth })).json()) as {
      status: string;
      sent: number;
      recipients: number;
    };
  await expect.poll(async () => (await record()).status, { timeout: 90_000, interval: 1_000 }).toBe("sent");
  const done = await record();
  expect(done.sent).toBe(done.recipients);
  // Exactly one copy each, for readers sent before the pause and after the resume alike.
  for (const i of [0, 1, 999, 1500, 2998, 2999]) expect(await outboxFor(readers[i]!), readers[i]).toHaveLength(1);
  await page.reload();
  expect(await page.locator("main strong").first().textContent()).toBe("sent");
}

/**
 * Checks the page as it is: axe in both colour schemes (serious or critical violations, as text), and at phone width
 * nothing wider than the screen but the tables' own scroll boxes.
 */
async function checkPage(page: Page, label: string): Promise<string[]> {
  const found = await seriousInBothSchemes(page, label);
  const before = page.viewportSize();
  await page.setViewportSize({ width: 375, height: 800 });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  if (width > 375) found.push(`${label}: ${width} px wide at a 375 px phone width`);
  if (before) await page.setViewportSize(before);
  return found;
}

async function screenshot(page: Page, name: string) {
  if (!process.env.SCREENSHOTS) return;
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize({ width: 1100, height: 900 });
  await page.screenshot({ path: `docs/images/${name}.png`, fullPage: true });
}

describe("dashboard in a browser", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("signs in, shows the overview, signs out; a wrong token is refused; no serious axe violation", async () => {
    // bypassCSP only so that axe can be injected into the strict-CSP pages.
    const context = await browser.newContext({ bypassCSP: true });
    try {
      const page = await context.newPage();
      const console = consoleOf(page);
      const found: string[] = [];
      await page.goto(worker("/admin"));
      await page.waitForURL(/\/admin\/sign-in$/);
      await page.getByRole("heading", { name: "Dashboard sign-in" }).waitFor();
      found.push(...(await checkPage(page, "sign-in")));

      await page.getByLabel("Admin token").fill("not-the-token");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("alert").filter({ hasText: "That is not the admin token." }).waitFor({ timeout: 10_000 });
      expect((await context.cookies()).filter((c) => c.name === "admin_session")).toEqual([]);
      found.push(...(await checkPage(page, "sign-in, wrong token")));

      await page.getByLabel("Admin token").fill(inject("adminToken"));
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(/\/admin$/, { timeout: 10_000 });
      await page.getByRole("heading", { name: /overview/ }).waitFor();
      expect(await page.getByRole("heading", { name: "Latest issues" }).isVisible()).toBe(true);
      const [cookie] = (await context.cookies()).filter((c) => c.name === "admin_session");
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/admin" });
      found.push(...(await checkPage(page, "overview")));

      await page.getByRole("button", { name: "Sign out" }).click();
      await page.waitForURL(/\/admin\/sign-in$/, { timeout: 10_000 });
      expect((await context.cookies()).filter((c) => c.name === "admin_session")).toEqual([]);
      await page.goto(worker("/admin"));
      await page.waitForURL(/\/admin\/sign-in$/);

      expect(found).toEqual([]);
      expect(console.filter((m) => m.startsWith("pageerror"))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("issues: the list, an edition's page, its preview, a test send, a confirmation step, pause and resume of a sending issue; no serious axe violation", async () => {
    const context = await browser.newContext({ bypassCSP: true });
    try {
      const page = await context.newPage();
      const found: string[] = [];
      await page.goto(worker("/admin/sign-in"));
      await page.getByLabel("Admin token").fill(inject("adminToken"));
      await page.getByRole("button", { name: "Sign in" }).click();
      if (process.env.SCREENSHOTS) {
        await seedForScreenshots();
        await page.reload();
        await screenshot(page, "dashboard-overview");
        await page.goto(worker("/admin/issues/2026-W39"));
        await screenshot(page, "dashboard-issue");
        await page.goto(worker("/admin"));
      }
      await page.getByRole("link", { name: "Issues and editions" }).click();
      await page.getByRole("heading", { name: "Issues and editions" }).waitFor({ timeout: 10_000 });
      found.push(...(await checkPage(page, "issues list")));

      await page.getByLabel(/Open an edition by its key/).fill("2026-W40");
      await page.getByRole("button", { name: "Open" }).click();
      await page.getByRole("heading", { name: "Issue 2026-W40" }).waitFor({ timeout: 10_000 });
      found.push(...(await checkPage(page, "issue page")));

      const to = `dash-e2e-${Date.now()}@example.com`;
      await page.getByLabel("Send a test to").fill(to);
      await page.getByRole("button", { name: "Send test" }).click();
      await page
        .getByRole("status")
        .filter({ hasText: /Test email (sent|queued)/ })
        .waitFor({ timeout: 15_000 });
      await expect.poll(async () => (await outboxFor(to)).length, { timeout: 15_000 }).toBe(1);
      expect((await outboxFor(to))[0]!.subject).toMatch(/^\[Test\] /);

      // Send now asks first; going back changes nothing.
      await page.getByRole("button", { name: "Send now" }).click();
      await page.getByRole("button", { name: "Yes, send now" }).waitFor({ timeout: 10_000 });
      found.push(...(await checkPage(page, "confirmation step")));
      await page.getByRole("link", { name: "No, go back" }).click();
      await page.getByText("Not started yet").waitFor({ timeout: 10_000 });

      const preview = await context.newPage();
      await preview.goto(worker("/admin/issues/2026-W40/preview"));
      expect(await preview.content()).toContain("most upvoted papers");

      await pauseAndResume(page);
      expect(found).toEqual([]);
    } finally {
      await context.close();
    }
  }, 180_000);

  it("subscribers and settings: CSV upload with a bad row, search, the settings checklist; an expired or tampered session is refused", async () => {
    const context = await browser.newContext({ bypassCSP: true });
    try {
      const page = await context.newPage();
      const found: string[] = [];
      await page.goto(worker("/admin/sign-in"));
      await page.getByLabel("Admin token").fill(inject("adminToken"));
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("link", { name: "Subscribers" }).click();
      await page.getByRole("heading", { name: "Subscribers", level: 1 }).waitFor({ timeout: 10_000 });
      found.push(...(await checkPage(page, "subscribers page")));

      // Upload a file from disk as an operator would: two good rows, one that is no address.
      const good = `csv-e2e-${Date.now()}@example.com`;
      await page.getByLabel(/A CSV file/).setInputFiles({
        name: "list.csv",
        mimeType: "text/csv",
        buffer: Buffer.from(`email\n${good}\nnot-an-email\nsecond-${good}\n`),
      });
      await page.getByRole("button", { name: "Import" }).click();
      await page.getByRole("heading", { name: "Import of list.csv" }).waitFor({ timeout: 15_000 });
      // The import runs on the queue; its page refreshes itself until it is done.
      await page.getByText("Import done.").waitFor({ timeout: 30_000 });
      expect(await page.getByRole("progressbar").getAttribute("value")).toBe("2");
      const rejected = page.getByRole("region", { name: "Rejected rows" });
      expect(await rejected.getByRole("row").count()).toBe(2); // the header and the one bad row
      expect(await rejected.textContent()).toContain("not-an-email");
      found.push(...(await checkPage(page, "import report")));

      await page.goto(worker("/admin/readers"));
      await page.getByLabel(/Find a subscriber/).fill(good.toUpperCase());
      await page.getByRole("button", { name: "Search" }).click();
      await page.getByRole("heading", { name: good }).waitFor({ timeout: 10_000 });
      found.push(...(await checkPage(page, "subscriber found")));

      await page.goto(worker("/admin/settings"));
      await page.getByRole("heading", { name: "Production checklist" }).waitFor({ timeout: 10_000 });
      found.push(...(await checkPage(page, "settings")));
      expect(await page.content()).not.toContain(inject("adminToken"));

      // An expired session (signed as the Worker signs, 12 hours and a minute ago) no longer opens anything.
      const [live] = (await context.cookies()).filter((c) => c.name === "admin_session");
      const iat = Date.now() - SESSION_TTL_MS - 60_000;
      const expired = sessionToken(inject("tokenSecret"), inject("adminToken"), iat, iat + SESSION_TTL_MS);
      await context.addCookies([{ ...live!, value: expired }]);
      await page.goto(worker("/admin/settings"));
      await page.waitForURL(/\/admin\/sign-in$/, { timeout: 10_000 });
      // The same token signed with a live lifetime opens the page: the refusal above was the expiry, not the forging.
      await context.addCookies([
        {
          ...live!,
          value: sessionToken(inject("tokenSecret"), inject("adminToken"), Date.now(), Date.now() + SESSION_TTL_MS),
        },
      ]);
      await page.goto(worker("/admin/settings"));
      await page.getByRole("heading", { name: "Settings" }).waitFor({ timeout: 10_000 });

      // A session cookie changed by hand no longer opens anything.
      const [cookie] = (await context.cookies()).filter((c) => c.name === "admin_session");
      await context.addCookies([{ ...cookie!, value: `${cookie!.value.slice(0, -4)}AAAA` }]);
      await page.goto(worker("/admin/settings"));
      await page.waitForURL(/\/admin\/sign-in$/, { timeout: 10_000 });
      expect(found).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("a sign-in form on another site cannot sign anyone in", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(hostPage("/embed.html"));
      // A form another site could plant, posting the right token (as a phished operator's browser would).
      const answer = page.waitForResponse((r) => r.url() === worker("/admin/sign-in"));
      await page.evaluate(
        ([action, token]) => {
          const form = document.createElement("form");
          form.method = "post";
          form.action = action!;
          const field = document.createElement("input");
          field.name = "token";
          field.value = token!;
          form.append(field);
          document.body.append(form);
          form.submit();
        },
        [worker("/admin/sign-in"), inject("adminToken")],
      );
      expect((await answer).status()).toBe(403);
      await page.getByText("This form can only be sent from the dashboard itself.").waitFor({ timeout: 10_000 });
      expect((await context.cookies()).filter((c) => c.name === "admin_session")).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
