// `npm run screenshots`: renders the sample digest (2026-W47, as the email quality checks do), in its global edition
// and in a reader's personal edition ("Top of the week" + "For you"), and saves PNG screenshots for the README:
// docs/images/digest-{desktop,phone}.png and docs/images/digest-personal-{desktop,phone}.png (1000 and 390 px wide),
// full page at device scale factor 1 so the committed files stay small.
// Run with tsx (it imports the TypeScript templates). Browser: CHROMIUM_PATH or /usr/bin/chromium; no network.
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { renderSampleDigest } from "../test/quality/digest-fixture.ts";

const outDir = path.join(import.meta.dirname, "..", "docs", "images");
const widths = [
  { name: "desktop", viewport: { width: 1000, height: 800 }, isMobile: false },
  { name: "phone", viewport: { width: 390, height: 844 }, isMobile: true },
];
const editions = [
  { prefix: "digest", html: (await renderSampleDigest()).html },
  { prefix: "digest-personal", html: (await renderSampleDigest({ personal: true })).html },
];
const shots = editions.flatMap((e) => widths.map((w) => ({ ...w, file: `${e.prefix}-${w.name}.png`, html: e.html })));
mkdirSync(outDir, { recursive: true });
if (process.env.DIGEST_HTML_OUT) writeFileSync(process.env.DIGEST_HTML_OUT, editions[0].html);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});
try {
  for (const shot of shots) {
    const context = await browser.newContext({
      viewport: shot.viewport,
      deviceScaleFactor: 1,
      isMobile: shot.isMobile,
      hasTouch: shot.isMobile,
      colorScheme: "light",
    });
    const page = await context.newPage();
    await page.route("**/*", (route) => route.abort()); // the email has no remote content; nothing may load
    await page.setContent(shot.html, { waitUntil: "load" });
    const file = path.join(outDir, shot.file);
    await page.screenshot({ path: file, fullPage: true });
    console.log(
      `${path.relative(process.cwd(), file)}: ${shot.viewport.width} px wide, ${(statSync(file).size / 1024).toFixed(0)} KB`,
    );
    await context.close();
  }
} finally {
  await browser.close();
}
